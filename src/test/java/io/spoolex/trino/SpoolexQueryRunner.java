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
package io.spoolex.trino;

import com.google.common.collect.ImmutableMap;
import com.google.inject.Key;
import com.google.inject.Module;
import com.google.inject.Scopes;
import io.airlift.units.Duration;
import io.spoolex.SpoolexPlugin;
import io.spoolex.exchange.SpoolexExchangeManager;
import io.trino.Session;
import io.trino.exchange.ExchangeManagerRegistry;
import io.trino.execution.FailureInjector;
import io.trino.execution.TestingFailureInjectionConfig;
import io.trino.execution.TestingFailureInjector;
import io.trino.metadata.HandleResolver;
import io.trino.plugin.tpch.TpchPlugin;
import io.trino.server.PluginClassLoader;
import io.trino.spi.Plugin;
import io.trino.testing.DistributedQueryRunner;
import io.trino.testing.FaultTolerantExecutionConnectorTestHelper;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static com.google.common.collect.ImmutableList.toImmutableList;
import static com.google.inject.multibindings.OptionalBinder.newOptionalBinder;
import static io.airlift.configuration.ConfigBinder.configBinder;
import static io.trino.testing.TestingSession.testSessionBuilder;
import static java.util.Objects.requireNonNull;
import static java.util.concurrent.TimeUnit.SECONDS;

/**
 * A real Trino 483 cluster in one JVM: a coordinator that schedules no work and two workers talking over HTTP, the
 * TPC-H connector as catalog {@code tpch}, fault-tolerant execution with {@code retry-policy=TASK}, and Spoolex as
 * the exchange manager, installed as a plugin and loaded under the name operators use, {@code filesystem} (or
 * another, e.g. {@code hdfs} with {@link Builder#withExchangeManagerName}).
 * The engine's own exchange compression and encryption are off, as docs/deployment.md recommends: Spoolex does both.
 * Failure injection is bound, so {@link DistributedQueryRunner#injectTaskFailure} really fails tasks.
 * <p>
 * Benchmarks start from Trino's own defaults instead ({@link Builder#withoutTestSettings()}) and may install another
 * exchange plugin under the same name ({@link Builder#withExchangePlugin}), e.g. Trino's own filesystem exchange manager.
 */
public final class SpoolexQueryRunner
{
    public static final String CATALOG = "tpch";

    /**
     * How long an injected request timeout holds a request; longer than the coordinator's HTTP idle timeout.
     */
    public static final Duration INJECTED_REQUEST_TIMEOUT = new Duration(6, SECONDS);
    /**
     * HTTP idle timeout of the coordinator's task-management and result requests.
     */
    public static final Duration REQUEST_TIMEOUT = new Duration(3, SECONDS);
    /**
     * How long the coordinator keeps retrying requests to a task before it gives the task up as failed.
     */
    public static final Duration MAX_ERROR_DURATION = new Duration(4, SECONDS);

    private SpoolexQueryRunner() {}

    public static Builder builder(String baseDirectories)
    {
        return new Builder(baseDirectories);
    }

    /**
     * Spoolex's exchange manager on each node, coordinator first.
     */
    public static List<SpoolexExchangeManager> exchangeManagers(DistributedQueryRunner queryRunner)
    {
        return queryRunner.getServers().stream()
                .map(server -> (SpoolexExchangeManager) server.getInstance(Key.get(ExchangeManagerRegistry.class)).getExchangeManager())
                .collect(toImmutableList());
    }

    /**
     * Spoolex's counters summed over the nodes: workers run the sinks and sources of the stages, the coordinator
     * reads the output of the root stage (and, under QUERY retries, spools the query's result). Read by name, so that
     * it also works for a plugin installed from its plugin folder in a plugin class loader of its own, whose classes
     * are not the ones this class loader sees.
     */
    public static SpoolexCounters clusterCounters(DistributedQueryRunner queryRunner)
    {
        SpoolexCounters sum = SpoolexCounters.ZERO;
        for (var server : queryRunner.getServers()) {
            Object stats = call(server.getInstance(Key.get(ExchangeManagerRegistry.class)).getExchangeManager(), "getStats");
            sum = sum.plus(new SpoolexCounters(
                    totalCount(stats, "getSinksFinished"),
                    totalCount(stats, "getSinksAborted"),
                    totalCount(stats, "getFilesWritten"),
                    totalCount(stats, "getSinkPageBytes"),
                    totalCount(stats, "getSinkStorageBytes"),
                    totalCount(stats, "getFilesRead"),
                    totalCount(stats, "getSourcePageBytes"),
                    totalCount(stats, "getSinkBufferWaits")));
        }
        return sum;
    }

    private static long totalCount(Object stats, String counter)
    {
        return (long) call(call(stats, counter), "getTotalCount");
    }

    private static Object call(Object target, String method)
    {
        try {
            return target.getClass().getMethod(method).invoke(target);
        }
        catch (ReflectiveOperationException e) {
            throw new IllegalStateException("%s.%s() failed: is this Spoolex's exchange manager?".formatted(target.getClass().getName(), method), e);
        }
    }

    /**
     * A snapshot of the counters that show data went through Spoolex.
     */
    public record SpoolexCounters(long sinksFinished, long sinksAborted, long filesWritten, long sinkPageBytes, long sinkStorageBytes, long filesRead, long sourcePageBytes, long sinkBufferWaits)
    {
        public static final SpoolexCounters ZERO = new SpoolexCounters(0, 0, 0, 0, 0, 0, 0, 0);

        public SpoolexCounters plus(SpoolexCounters other)
        {
            return new SpoolexCounters(
                    sinksFinished + other.sinksFinished,
                    sinksAborted + other.sinksAborted,
                    filesWritten + other.filesWritten,
                    sinkPageBytes + other.sinkPageBytes,
                    sinkStorageBytes + other.sinkStorageBytes,
                    filesRead + other.filesRead,
                    sourcePageBytes + other.sourcePageBytes,
                    sinkBufferWaits + other.sinkBufferWaits);
        }

        public SpoolexCounters minus(SpoolexCounters other)
        {
            return new SpoolexCounters(
                    sinksFinished - other.sinksFinished,
                    sinksAborted - other.sinksAborted,
                    filesWritten - other.filesWritten,
                    sinkPageBytes - other.sinkPageBytes,
                    sinkStorageBytes - other.sinkStorageBytes,
                    filesRead - other.filesRead,
                    sourcePageBytes - other.sourcePageBytes,
                    sinkBufferWaits - other.sinkBufferWaits);
        }
    }

    public static final class Builder
    {
        private final String baseDirectories;
        private final Map<String, String> exchangeProperties = new HashMap<>();
        private final Map<String, String> extraProperties = new HashMap<>();
        private int workerCount = 2;
        private Plugin exchangePlugin = new SpoolexPlugin();
        private String exchangeManagerName = SpoolexPlugin.FILESYSTEM_FACTORY;
        private boolean testSettings = true;

        private Builder(String baseDirectories)
        {
            this.baseDirectories = requireNonNull(baseDirectories, "baseDirectories is null");
        }

        /**
         * Adds or replaces a property of exchange-manager.properties.
         */
        public Builder withExchangeProperty(String name, String value)
        {
            exchangeProperties.put(name, value);
            return this;
        }

        /**
         * Adds or replaces a property of config.properties on every node.
         */
        public Builder withServerProperty(String name, String value)
        {
            extraProperties.put(name, value);
            return this;
        }

        public Builder withWorkerCount(int workerCount)
        {
            this.workerCount = workerCount;
            return this;
        }

        /**
         * Installs this plugin instead of Spoolex's {@code filesystem} one; the exchange manager loaded is named
         * {@code filesystem} unless {@link #withExchangeManagerName} says otherwise.
         * {@link #exchangeManagers} and {@link #clusterCounters} only work with Spoolex.
         */
        public Builder withExchangePlugin(Plugin exchangePlugin)
        {
            this.exchangePlugin = requireNonNull(exchangePlugin, "exchangePlugin is null");
            return this;
        }

        /**
         * The {@code exchange-manager.name} to load from the installed plugin, e.g. {@code hdfs}.
         */
        public Builder withExchangeManagerName(String exchangeManagerName)
        {
            this.exchangeManagerName = requireNonNull(exchangeManagerName, "exchangeManagerName is null");
            return this;
        }

        /**
         * Trino's and the exchange plugin's own defaults instead of the test settings: no small files, handles and
         * tasks, no short timeouts, no failure injection, and the engine's exchange codec and encryption left at
         * Trino's FTE defaults (LZ4, encrypted) unless set with {@link #withServerProperty}. The servers get only
         * {@code retry-policy=TASK} and what {@link #withServerProperty} adds; exchange-manager.properties only the
         * base directories and what {@link #withExchangeProperty} adds. For benchmarks, which must compare
         * configurations an operator would run, not the stress settings of the tests.
         */
        public Builder withoutTestSettings()
        {
            testSettings = false;
            return this;
        }

        public DistributedQueryRunner build()
                throws Exception
        {
            Session session = testSessionBuilder()
                    .setCatalog(CATALOG)
                    .setSchema("tiny")
                    .build();

            Map<String, String> properties = new HashMap<>();
            Map<String, String> coordinatorProperties = new HashMap<>();
            coordinatorProperties.put("node-scheduler.include-coordinator", "false");
            DistributedQueryRunner.Builder<?> runnerBuilder = DistributedQueryRunner.builder(session)
                    .setWorkerCount(workerCount);
            if (testSettings) {
                properties.putAll(FaultTolerantExecutionConnectorTestHelper.getExtraProperties());
                // the recommended setup: Spoolex compresses and encrypts, so the engine does neither
                properties.put("exchange.compression-codec", "NONE");
                properties.put("external-exchange-encryption-enabled", "false");
                // failure injection and short timeouts, so that injected request timeouts resolve in seconds
                properties.put("failure-injection.request-timeout", INJECTED_REQUEST_TIMEOUT.toString());
                properties.put("query.remote-task.max-error-duration", MAX_ERROR_DURATION.toString());
                properties.put("exchange.max-error-duration", MAX_ERROR_DURATION.toString());
                properties.put("exchange.http-client.idle-timeout", REQUEST_TIMEOUT.toString());
                properties.put("retry-initial-delay", "0s");
                // small tasks, so that every stage of a TPC-H tiny or sf0.1 query runs as several tasks: an unknown-size
                // TPC-H split counts as the standard split size, and a task takes splits up to the target size
                properties.put("fault-tolerant-execution-standard-split-size", "1MB");
                properties.put("fault-tolerant-execution-arbitrary-distribution-compute-task-target-size-min", "1MB");
                properties.put("fault-tolerant-execution-arbitrary-distribution-compute-task-target-size-max", "4MB");
                properties.put("fault-tolerant-execution-hash-distribution-compute-task-target-size", "1MB");
                coordinatorProperties.put("scheduler.http-client.idle-timeout", REQUEST_TIMEOUT.toString());
                Module failureInjection = binder -> {
                    configBinder(binder).bindConfig(TestingFailureInjectionConfig.class);
                    newOptionalBinder(binder, FailureInjector.class).setBinding().to(TestingFailureInjector.class).in(Scopes.SINGLETON);
                };
                runnerBuilder.setAdditionalModule(failureInjection);
            }
            else {
                properties.put("retry-policy", "TASK");
            }
            properties.putAll(extraProperties);

            DistributedQueryRunner queryRunner = runnerBuilder
                    .setExtraProperties(properties)
                    .setCoordinatorProperties(ImmutableMap.copyOf(coordinatorProperties))
                    .build();
            try {
                queryRunner.installPlugin(new TpchPlugin());
                queryRunner.createCatalog(CATALOG, "tpch", ImmutableMap.of("tpch.splits-per-node", "4"));
                queryRunner.installPlugin(exchangePlugin);
                if (exchangePlugin.getClass().getClassLoader() instanceof PluginClassLoader pluginClassLoader) {
                    // a plugin from its folder (as a server loads it): its handles travel between nodes in JSON named
                    // by the plugin's class loader, which a server that loads plugin folders itself registers
                    for (var server : queryRunner.getServers()) {
                        server.getInstance(Key.get(HandleResolver.class)).registerClassLoader(pluginClassLoader);
                    }
                }
                Map<String, String> exchange = new HashMap<>();
                if (testSettings) {
                    // small files and handles, so that even TPC-H tiny rolls over files and spreads over several tasks
                    exchange.put("exchange.max-page-storage-size", "4MB");
                    exchange.put("exchange.sink-max-file-size", "4MB");
                    exchange.put("exchange.source-handle-target-data-size", "4MB");
                    // room for the many-partitions query (Trino's default is 50)
                    exchange.put("exchange.max-output-partition-count", "200");
                }
                exchange.putAll(exchangeProperties);
                exchange.put("exchange.base-directories", baseDirectories);
                queryRunner.loadExchangeManager(exchangeManagerName, ImmutableMap.copyOf(exchange));
                return queryRunner;
            }
            catch (Throwable t) {
                try (queryRunner) {
                    throw t;
                }
            }
        }
    }
}
