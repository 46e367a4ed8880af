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
package io.spoolex.benchmarks;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.spoolex.plugin.PluginArchive;
import io.spoolex.plugin.PluginArchive.LoadedPlugin;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalLong;

import static com.google.common.base.Preconditions.checkState;

/**
 * The exchange plugins the benchmarks compare, each loaded from a plugin folder in a class loader of its own, as a
 * Trino server loads {@code plugin/<name>/}: the platform class loader as parent, the SPI packages from the server.
 * Neither Spoolex nor Trino's plugin is ever run from the benchmark's class path, where class loading (native
 * libraries, service loading, resources) differs from a server's.
 * <p>
 * {@code bin/bench} lays the folders out and names them in system properties: Spoolex's from the built archives,
 * Trino's from Maven Central (see {@code src/bench/trino-plugins/pom.xml}).
 */
final class ComparedPlugins
{
    static final String SPOOLEX_FILESYSTEM_PROPERTY = "spoolex.bench.plugin.spoolex-filesystem";
    static final String SPOOLEX_HDFS_PROPERTY = "spoolex.bench.plugin.spoolex-hdfs";
    static final String TRINO_FILESYSTEM_PROPERTY = "spoolex.bench.plugin.trino-filesystem";
    static final String TRINO_HDFS_PROPERTY = "spoolex.bench.plugin.trino-hdfs";

    /**
     * A plugin folder and the name of the exchange manager factory it registers.
     */
    enum ComparedPlugin
    {
        SPOOLEX_FILESYSTEM(SPOOLEX_FILESYSTEM_PROPERTY, "filesystem", "Spoolex (exchange-filesystem archive)"),
        SPOOLEX_HDFS(SPOOLEX_HDFS_PROPERTY, "hdfs", "Spoolex (exchange-hdfs archive)"),
        TRINO_FILESYSTEM(TRINO_FILESYSTEM_PROPERTY, "filesystem", "Trino 483 trino-exchange-filesystem"),
        TRINO_HDFS(TRINO_HDFS_PROPERTY, "hdfs", "Trino 476 plugin/exchange-hdfs (no 483 build on Maven Central)");

        private final String property;
        private final String factoryName;
        private final String description;

        ComparedPlugin(String property, String factoryName, String description)
        {
            this.property = property;
            this.factoryName = factoryName;
            this.description = description;
        }

        String factoryName()
        {
            return factoryName;
        }

        String description()
        {
            return description;
        }

        Path folder()
        {
            String folder = System.getProperty(property);
            checkState(folder != null, "System property %s is not set: run the benchmarks with bin/bench, which lays out the plugin folders", property);
            return Path.of(folder);
        }

        /**
         * The plugin in a new plugin class loader over its folder.
         */
        LoadedPlugin load()
        {
            return PluginArchive.unpacked(folder()).load();
        }
    }

    private ComparedPlugins() {}

    /**
     * An exchange manager created as Trino's {@code ExchangeManagerRegistry} creates one, with a no-op tracer.
     */
    static ExchangeManager createExchangeManager(LoadedPlugin plugin, String factoryName, Map<String, String> properties)
    {
        return plugin.createExchangeManager(factoryName, properties, new ExchangeManagerContext()
        {
            @Override
            public OpenTelemetry getOpenTelemetry()
            {
                return OpenTelemetry.noop();
            }

            @Override
            public Tracer getTracer()
            {
                return OpenTelemetry.noop().getTracer("spoolex-benchmark");
            }
        });
    }

    /**
     * A public no-argument {@code long} method of a Spoolex object, called by name: the object's class lives in the
     * plugin's class loader, so the benchmark cannot name it. Empty when the object has no such method (Trino's plugin).
     */
    static OptionalLong callLong(Object target, String method)
    {
        Method found;
        try {
            found = target.getClass().getMethod(method);
        }
        catch (NoSuchMethodException e) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of((long) found.invoke(target));
        }
        catch (ReflectiveOperationException e) {
            throw new IllegalStateException("%s.%s() failed".formatted(target.getClass().getName(), method), e);
        }
    }

    /**
     * Which class loader a loaded plugin's classes come from, for the report: proves the plugin did not come from the
     * benchmark's class path.
     */
    static String origin(LoadedPlugin plugin)
    {
        ClassLoader loader = plugin.plugin().getClass().getClassLoader();
        checkState(loader == plugin.classLoader(), "%s came from %s, not from its plugin class loader", plugin.plugin().getClass().getName(), loader);
        return "%s from %s".formatted(plugin.plugin().getClass().getName(), loader);
    }
}
