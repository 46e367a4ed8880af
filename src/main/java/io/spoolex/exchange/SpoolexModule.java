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

import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static com.google.common.base.Preconditions.checkState;
import static com.google.common.collect.ImmutableSet.toImmutableSet;
import static io.airlift.configuration.ConfigBinder.configBinder;
import static java.util.Objects.requireNonNull;
import static org.weakref.jmx.guice.ExportBinder.newExporter;

/**
 * Wires one exchange manager: the core config, the storage backend chosen by the scheme of the base directories
 * (its module is installed only then), JMX and stats. A backend whose own configuration decides what its base
 * directories mean is asked first (see {@link SpoolStorageBackend#defaultFileSystem}).
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
        SpoolStorageBackend backend;
        try {
            baseDirectories = BaseDirectories.read(config.getBaseDirectories(), schemes.contains("hdfs"), defaultFileSystem());
            backend = backendFor(baseDirectories.scheme())
                    .orElseThrow(() -> BaseDirectories.unsupportedScheme(baseDirectories.scheme(), schemes, factoryName));
        }
        catch (TrinoException e) {
            binder.addError(e);
            return;
        }
        binder.bind(BaseDirectories.class).toInstance(baseDirectories);
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

    /**
     * The default file system of the one backend whose configuration names one (HDFS: fs.defaultFS).
     */
    private Optional<URI> defaultFileSystem()
    {
        Optional<URI> found = Optional.empty();
        for (SpoolStorageBackend backend : backends) {
            Optional<URI> defaultFileSystem = backend.defaultFileSystem(this::buildConfigObject);
            if (defaultFileSystem.isPresent()) {
                checkState(found.isEmpty(), "two storage backends of exchange manager %s name a default file system", factoryName);
                found = defaultFileSystem;
            }
        }
        return found;
    }

    /**
     * The backend serving the scheme: the one listing it, else the one whose configuration admits it.
     */
    private Optional<SpoolStorageBackend> backendFor(String scheme)
    {
        Optional<SpoolStorageBackend> listing = backends.stream()
                .filter(candidate -> candidate.schemes().contains(scheme))
                .findFirst();
        if (listing.isPresent()) {
            return listing;
        }
        return backends.stream()
                .filter(candidate -> candidate.admitsScheme(scheme, this::buildConfigObject))
                .findFirst();
    }
}
