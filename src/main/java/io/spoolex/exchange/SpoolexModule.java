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

import com.google.common.collect.ImmutableList;
import com.google.inject.Binder;
import com.google.inject.Scopes;
import io.airlift.configuration.AbstractConfigurationAwareModule;
import io.spoolex.config.BaseDirectories;
import io.spoolex.config.ExchangeConfig;
import io.spoolex.format.SpoolFileFormat;
import io.spoolex.metrics.SpoolexJmxModule;
import io.spoolex.metrics.SpoolexStats;
import io.spoolex.storage.SpoolStorageBackend;
import io.spoolex.storage.SpoolStorageModule;
import io.spoolex.storage.StorageWriteLimits;
import io.trino.spi.TrinoException;

import java.util.List;
import java.util.Set;

import static com.google.common.collect.ImmutableSet.toImmutableSet;
import static io.airlift.configuration.ConfigBinder.configBinder;
import static java.util.Objects.requireNonNull;
import static org.weakref.jmx.guice.ExportBinder.newExporter;

/**
 * Wires one exchange manager: the core config, the storage backend chosen by the scheme of the base directories
 * (its module is installed only then), JMX and stats.
 */
public class SpoolexModule
        extends AbstractConfigurationAwareModule
{
    private final String factoryName;
    private final List<SpoolStorageBackend> backends;
    private final SpoolexJmxModule jmx;

    public SpoolexModule(String factoryName, List<SpoolStorageBackend> backends, SpoolexJmxModule jmx)
    {
        this.factoryName = requireNonNull(factoryName, "factoryName is null");
        this.backends = ImmutableList.copyOf(requireNonNull(backends, "backends is null"));
        this.jmx = requireNonNull(jmx, "jmx is null");
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
        Set<String> schemes = backends.stream()
                .flatMap(backend -> backend.schemes().stream())
                .collect(toImmutableSet());
        BaseDirectories baseDirectories;
        try {
            baseDirectories = BaseDirectories.parse(config.getBaseDirectories(), schemes, factoryName);
        }
        catch (TrinoException e) {
            binder.addError(e);
            return;
        }
        binder.bind(BaseDirectories.class).toInstance(baseDirectories);
        SpoolStorageBackend backend = backends.stream()
                .filter(candidate -> candidate.schemes().contains(baseDirectories.scheme()))
                .findFirst()
                .orElseThrow();
        SpoolStorageModule storage = backend.module(baseDirectories);
        install(storage);
        StorageWriteLimits writeLimits = storage.writeLimits();
        try {
            SpoolexSink.checkStorageLimits(writeLimits, SpoolFileFormat.DEFAULT_BLOCK_SIZE, config.isEncryptionEnabled(), config.getSinkMaxFileSize(), config.getMaxPageStorageSize());
        }
        catch (TrinoException e) {
            binder.addError(e);
            return;
        }
        binder.bind(StorageWriteLimits.class).toInstance(writeLimits);

        install(jmx);
        binder.bind(SpoolexStats.class).in(Scopes.SINGLETON);
        newExporter(binder).export(SpoolexStats.class).withGeneratedName();
        binder.bind(StorageHealth.class).in(Scopes.SINGLETON);
        binder.bind(SpoolexExchangeManager.class).in(Scopes.SINGLETON);
    }
}
