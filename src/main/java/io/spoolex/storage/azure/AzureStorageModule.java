/*
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package io.spoolex.storage.azure;

import com.google.common.collect.ImmutableList;
import com.google.inject.Binder;
import com.google.inject.Scopes;
import io.spoolex.config.BaseDirectories;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.SpoolStorageModule;
import io.spoolex.storage.StorageWriteLimits;

import java.net.URI;

import static io.airlift.configuration.ConfigBinder.configBinder;
import static io.spoolex.config.BaseDirectories.PROPERTY;
import static java.lang.Math.toIntExact;
import static java.util.Objects.requireNonNull;
import static org.weakref.jmx.guice.ExportBinder.newExporter;

public class AzureStorageModule
        extends SpoolStorageModule
{
    private final BaseDirectories baseDirectories;

    public AzureStorageModule(BaseDirectories baseDirectories)
    {
        this.baseDirectories = requireNonNull(baseDirectories, "baseDirectories is null");
    }

    @Override
    protected StorageWriteLimits setupStorage(Binder binder)
    {
        configBinder(binder).bindConfig(AzureStorageConfig.class);
        ImmutableList.Builder<AzureLocation> locations = ImmutableList.builder();
        for (URI directory : baseDirectories.uris()) {
            try {
                locations.add(AzureLocation.of(directory));
            }
            catch (IllegalArgumentException e) {
                binder.addError("Invalid configuration: %s: '%s' names no container (expected %s://container@account.dfs.core.windows.net/path)", PROPERTY, directory, directory.getScheme());
            }
        }
        binder.bind(AzureBaseDirectories.class).toInstance(new AzureBaseDirectories(locations.build()));
        binder.bind(AzureStorageStats.class).in(Scopes.SINGLETON);
        newExporter(binder).export(AzureStorageStats.class).withGeneratedName();
        binder.bind(SpoolStorage.class).to(AzureSpoolStorage.class).in(Scopes.SINGLETON);

        // blocks of exchange.azure.block-size, within Azure's limits on the blocks of a block blob
        int blockBytes = toIntExact(buildConfigObject(AzureStorageConfig.class).getBlockSize().toBytes());
        return new StorageWriteLimits(blockBytes, AzureStorageConfig.BLOCK_SIZE, 1, AzureBlockWriter.MAX_BLOCK_BYTES, AzureBlockWriter.MAX_BLOCKS, 1);
    }
}
