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
import com.google.inject.Injector;
import io.airlift.bootstrap.Bootstrap;
import io.airlift.configuration.Config;
import io.airlift.configuration.LegacyConfig;
import io.airlift.log.Logger;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.spoolex.SpoolexVersion;
import io.spoolex.config.ExchangeConfig;
import io.spoolex.metrics.SpoolexJmxModule;
import io.spoolex.storage.SpoolStorageBackend;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeManagerFactory;

import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static com.google.common.base.Preconditions.checkArgument;
import static io.trino.spi.StandardErrorCode.CONFIGURATION_INVALID;
import static java.util.Objects.requireNonNull;

/**
 * An exchange manager name ({@code exchange-manager.name}) with the storage backends it offers: builds the exchange
 * manager from {@code etc/exchange-manager.properties}. Unknown or invalid properties fail here, naming the property.
 */
public class SpoolexExchangeManagerFactory
        implements ExchangeManagerFactory
{
    private static final Logger log = Logger.get(SpoolexExchangeManagerFactory.class);

    private final String name;
    private final List<SpoolStorageBackend> backends;

    public SpoolexExchangeManagerFactory(String name, List<SpoolStorageBackend> backends)
    {
        this.name = requireNonNull(name, "name is null");
        this.backends = ImmutableList.copyOf(requireNonNull(backends, "backends is null"));
        Set<String> schemes = new HashSet<>();
        for (SpoolStorageBackend backend : this.backends) {
            for (String scheme : backend.schemes()) {
                checkArgument(schemes.add(scheme), "scheme %s is served by two storage backends of exchange manager %s", scheme, name);
            }
        }
    }

    @Override
    public String getName()
    {
        return name;
    }

    /**
     * Spans go to the engine's tracer, so they appear in the query's trace next to Trino's own. A context without one
     * (the SPI's default throws) gets no spans.
     */
    private static Tracer engineTracer(ExchangeManagerContext context)
    {
        try {
            return requireNonNull(context.getTracer(), "tracer is null");
        }
        catch (UnsupportedOperationException _) {
            return OpenTelemetry.noop().getTracer("io.spoolex");
        }
    }

    @Override
    public ExchangeManager create(Map<String, String> config, ExchangeManagerContext context)
    {
        requireNonNull(config, "config is null");
        requireNonNull(context, "context is null");
        config = resolveDeprecatedNames(config);
        SpoolexJmxModule jmx = new SpoolexJmxModule(name);
        Tracer tracer = engineTracer(context);
        Bootstrap app = new Bootstrap("io.spoolex.bootstrap." + name, new SpoolexModule(name, backends, jmx), binder -> binder.bind(Tracer.class).toInstance(tracer));
        try {
            Injector injector = app
                    .doNotInitializeLogging()
                    .disableSystemProperties()
                    .setRequiredConfigurationProperties(config)
                    .initialize();
            SpoolexExchangeManager manager = injector.getInstance(SpoolexExchangeManager.class);
            try {
                injector.getInstance(StorageHealth.class).failStartIfUnhealthy();
            }
            catch (RuntimeException e) {
                manager.shutdown();
                throw e;
            }
            log.info("Spoolex %s: exchange manager %s started: %s", SpoolexVersion.current(), name, manager.describe());
            return manager;
        }
        catch (RuntimeException e) {
            // beans exported before the failure would otherwise stay, stale, under the names a working manager needs
            jmx.unregisterAll();
            throw e;
        }
    }

    /**
     * Properties set under both their name and a deprecated one ({@code exchange.base-directories} and
     * {@code exchange.base-directory}): the same value is taken once; different values are refused naming both, where
     * airlift would fail with "Key ... is already present" naming neither.
     */
    static Map<String, String> resolveDeprecatedNames(Map<String, String> config)
    {
        Map<String, String> resolved = new HashMap<>(config);
        for (Method method : ExchangeConfig.class.getMethods()) {
            Config name = method.getAnnotation(Config.class);
            LegacyConfig legacy = method.getAnnotation(LegacyConfig.class);
            if (name == null || legacy == null || !config.containsKey(name.value())) {
                continue;
            }
            for (String deprecated : legacy.value()) {
                if (!config.containsKey(deprecated)) {
                    continue;
                }
                if (!config.get(deprecated).trim().equals(config.get(name.value()).trim())) {
                    throw new TrinoException(CONFIGURATION_INVALID, "Invalid configuration: %s ('%s') and %s ('%s') are set to different values; %s is the deprecated name of %s: set only %s"
                            .formatted(deprecated, config.get(deprecated), name.value(), config.get(name.value()), deprecated, name.value(), name.value()));
                }
                resolved.remove(deprecated);
            }
        }
        return resolved;
    }
}
