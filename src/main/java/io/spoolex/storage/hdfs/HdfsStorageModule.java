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
package io.spoolex.storage.hdfs;

import com.google.inject.Binder;
import com.google.inject.Scopes;
import io.spoolex.config.BaseDirectories;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.SpoolStorageModule;
import io.spoolex.storage.StorageWriteLimits;
import io.trino.spi.TrinoException;
import io.trino.spi.classloader.ThreadContextClassLoader;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

import java.io.IOException;
import java.net.URI;

import static io.airlift.configuration.ConfigBinder.configBinder;
import static io.spoolex.config.BaseDirectories.PROPERTY;
import static io.spoolex.storage.hdfs.HdfsStorageConfig.SKIP_DIRECTORY_SCHEME_VALIDATION;
import static java.lang.Math.toIntExact;
import static java.util.Objects.requireNonNull;
import static org.weakref.jmx.guice.ExportBinder.newExporter;

/**
 * The storage of the {@code hdfs} exchange manager. Reads the Hadoop configuration at start, so that a missing or
 * broken file of {@code hdfs.config.resources} fails the start naming it, and refuses base directories Hadoop's
 * client could never use: an {@code hdfs:} URI naming no namenode, a scheme no Hadoop file system serves.
 */
public class HdfsStorageModule
        extends SpoolStorageModule
{
    private final BaseDirectories baseDirectories;

    public HdfsStorageModule(BaseDirectories baseDirectories)
    {
        this.baseDirectories = requireNonNull(baseDirectories, "baseDirectories is null");
    }

    @Override
    protected StorageWriteLimits setupStorage(Binder binder)
    {
        configBinder(binder).bindConfig(HdfsStorageConfig.class);
        HdfsStorageConfig config = buildConfigObject(HdfsStorageConfig.class);
        try {
            Configuration hadoop = HadoopConfigurations.load(config.getConfigResources());
            checkDirectories(binder, hadoop);
        }
        catch (TrinoException e) {
            binder.addError(e.getMessage());
        }
        binder.bind(HdfsStorageStats.class).in(Scopes.SINGLETON);
        newExporter(binder).export(HdfsStorageStats.class).withGeneratedName();
        binder.bind(SpoolStorage.class).to(HdfsSpoolStorage.class).in(Scopes.SINGLETON);

        // the sink's write buffers and writes are exchange.hdfs.block-size, as Trino's write buffers are; HDFS takes
        // appends of any size and number
        int blockBytes = toIntExact(config.getBlockSize().toBytes());
        return new StorageWriteLimits(blockBytes, HdfsStorageConfig.BLOCK_SIZE, 1, Integer.MAX_VALUE, Integer.MAX_VALUE, 1);
    }

    private void checkDirectories(Binder binder, Configuration hadoop)
    {
        URI defaultFileSystem = FileSystem.getDefaultUri(hadoop);
        for (URI directory : baseDirectories.uris()) {
            if (directory.getScheme().equalsIgnoreCase(HdfsStorageBackend.SCHEME) && (directory.getAuthority() == null || directory.getAuthority().isEmpty())) {
                binder.addError(
                        "Invalid configuration: %s: '%s' names no namenode, and fs.defaultFS of %s is %s, not an hdfs:// URI",
                        PROPERTY,
                        directory,
                        HdfsStorageConfig.CONFIG_RESOURCES,
                        defaultFileSystem);
            }
        }
        String scheme = baseDirectories.scheme();
        try (ThreadContextClassLoader _ = new ThreadContextClassLoader(HdfsStorageModule.class.getClassLoader())) {
            FileSystem.getFileSystemClass(scheme, hadoop);
        }
        catch (IOException e) {
            binder.addError(
                    "Invalid configuration: %s: no Hadoop file system serves scheme %s (%s=true admits the schemes Hadoop's client knows, or those its configuration names in fs.%s.impl): %s",
                    PROPERTY,
                    scheme,
                    SKIP_DIRECTORY_SCHEME_VALIDATION,
                    scheme,
                    e.getMessage());
        }
    }
}
