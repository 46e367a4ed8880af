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
package io.spoolex.exchange;

import com.google.inject.Binder;
import com.google.inject.Scopes;
import io.airlift.configuration.AbstractConfigurationAwareModule;
import io.spoolex.config.BaseDirectories;
import io.spoolex.config.ExchangeConfig;
import io.spoolex.metrics.SpoolexStats;
import io.spoolex.metrics.StatsExporter;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.local.LocalSpoolStorage;
import io.spoolex.storage.s3.S3Dialect;
import io.spoolex.storage.s3.S3StorageModule;
import io.trino.spi.TrinoException;

import static io.airlift.configuration.ConfigBinder.configBinder;
import static io.trino.spi.StandardErrorCode.NOT_SUPPORTED;
import static java.util.Objects.requireNonNull;

/**
 * Wires one exchange manager: the core config, the storage picked by the scheme of the base directories, stats.
 */
public class SpoolexModule
        extends AbstractConfigurationAwareModule
{
    private final String factoryName;

    public SpoolexModule(String factoryName)
    {
        this.factoryName = requireNonNull(factoryName, "factoryName is null");
    }

    @Override
    protected void setup(Binder binder)
    {
        configBinder(binder).bindConfig(ExchangeConfig.class);
        ExchangeConfig config = buildConfigObject(ExchangeConfig.class);
        if (config.getBaseDirectories().isEmpty()) {
            // reported by the config's own validation, which names the property
            return;
        }
        BaseDirectories baseDirectories;
        try {
            baseDirectories = BaseDirectories.parse(config.getBaseDirectories(), factoryName, false);
        }
        catch (TrinoException e) {
            binder.addError(e);
            return;
        }
        binder.bind(BaseDirectories.class).toInstance(baseDirectories);

        switch (baseDirectories.scheme()) {
            case "file" -> binder.bind(SpoolStorage.class).to(LocalSpoolStorage.class).in(Scopes.SINGLETON);
            case "s3", "gs" -> install(new S3StorageModule(S3Dialect.forScheme(baseDirectories.scheme())));
            default -> {
                binder.addError(new TrinoException(NOT_SUPPORTED, "Storage for %s:// base directories is not available in this Spoolex version (exchange.base-directories)".formatted(baseDirectories.scheme())));
                return;
            }
        }

        binder.bind(SpoolexStats.class).in(Scopes.SINGLETON);
        binder.bind(StatsExporter.class).toInstance(new StatsExporter(factoryName));
        binder.bind(SpoolexExchangeManager.class).in(Scopes.SINGLETON);
    }
}
