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

import com.azure.storage.blob.BlobServiceClient;
import com.google.common.collect.ImmutableList;
import io.airlift.units.DataSize;
import io.spoolex.benchmarks.ComparedPlugins.ComparedPlugin;
import io.spoolex.faults.ExchangeCycle;
import io.spoolex.faults.ExchangeCycle.Outcome;
import io.spoolex.faults.ExchangeCycle.Result;
import io.spoolex.faults.FaultInjectingHttpProxy;
import io.spoolex.faults.FaultScenario;
import io.spoolex.faults.FaultScenarios;
import io.spoolex.plugin.PluginArchive.LoadedPlugin;
import io.spoolex.storage.azure.AzureFaultBench;
import io.spoolex.storage.azure.AzureHttpDialect;
import io.spoolex.storage.azure.AzuriteServer;
import io.spoolex.storage.s3.S3HttpDialect;
import io.spoolex.storage.s3.S3ProxyServer;
import io.trino.spi.exchange.ExchangeManager;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;

/**
 * The fault scenarios on S3 (S3Proxy behind the fault proxy) or Azure Blob Storage ({@code --storage azure}: Azurite
 * behind the fault proxy) with Spoolex and with Trino 483's own filesystem
 * exchange manager, interleaved in one run: every round runs every scenario with every exchange manager (in an order
 * that rotates per round), so that the machine's load at a moment hits them all alike. Prints and writes a markdown
 * table of outcomes and seconds per cycle (median, min and max over the rounds) against each manager's no-fault
 * median. {@code bin/bench faults [--rounds N] [--warmups N] [--scenarios all|fast|a,b] [--managers spoolex,trino]
 * [--workload small|20MB|20MB-committed] [--storage s3|azure] [--output FILE]}; a manager may carry properties: {@code spoolex(exchange.s3.retry-mode=STANDARD)}.
 */
public final class FaultBenchmark
{
    private static final List<String> BUCKETS = List.of("bench-faults-one", "bench-faults-two");

    private record Options(int rounds, int warmups, List<FaultScenario> scenarios, List<ManagerSpec> managers, ExchangeCycle.Workload workload, Path output, String storage)
    {
        static Options parse(String[] args)
        {
            Map<String, String> values = new HashMap<>();
            for (int i = 0; i + 1 < args.length; i += 2) {
                if (!args[i].startsWith("--")) {
                    throw new IllegalArgumentException("expected --option value, got " + args[i]);
                }
                values.put(args[i].substring(2), args[i + 1]);
            }
            String scenarios = values.getOrDefault("scenarios", "all");
            List<FaultScenario> chosen = switch (scenarios) {
                case "all" -> FaultScenarios.all();
                case "fast" -> ImmutableList.<FaultScenario>builder().add(FaultScenarios.NO_FAULTS).addAll(FaultScenarios.fast()).build();
                default -> Arrays.stream(scenarios.split(",")).map(FaultScenarios::byName).toList();
            };
            if (!chosen.contains(FaultScenarios.NO_FAULTS)) {
                chosen = ImmutableList.<FaultScenario>builder().add(FaultScenarios.NO_FAULTS).addAll(chosen).build();
            }
            ExchangeCycle.Workload workload = switch (values.getOrDefault("workload", "20MB")) {
                case "small" -> ExchangeCycle.Workload.small();
                case "20MB" -> ExchangeCycle.Workload.twentyMegabytes();
                case "20MB-committed" -> ExchangeCycle.Workload.twentyMegabytes().withoutAbortedAttempt();
                default -> throw new IllegalArgumentException("--workload must be small, 20MB or 20MB-committed");
            };
            String storage = values.getOrDefault("storage", "s3");
            if (!storage.equals("s3") && !storage.equals("azure")) {
                throw new IllegalArgumentException("--storage must be s3 or azure");
            }
            // Trino's plugin comes from its own folder (azure-core-http-netty included), never from this class path
            List<ManagerSpec> managers = ManagerSpec.parseAll(values.getOrDefault("managers", "spoolex,trino"));
            return new Options(
                    Integer.parseInt(values.getOrDefault("rounds", "3")),
                    Integer.parseInt(values.getOrDefault("warmups", "1")),
                    chosen,
                    managers,
                    workload,
                    Path.of(values.getOrDefault("output", storage.equals("azure") ? "target/benchmarks/faults-azure.md" : "target/benchmarks/faults.md")),
                    storage);
        }
    }

    /**
     * An exchange manager to measure: {@code spoolex} or {@code trino}, with extra properties.
     */
    private record ManagerSpec(String label, String kind, Map<String, String> properties)
    {
        static List<ManagerSpec> parseAll(String specs)
        {
            List<ManagerSpec> managers = new ArrayList<>();
            int depth = 0;
            int start = 0;
            for (int i = 0; i <= specs.length(); i++) {
                char c = i < specs.length() ? specs.charAt(i) : ',';
                if (c == '(') {
                    depth++;
                }
                else if (c == ')') {
                    depth--;
                }
                else if (c == ',' && depth == 0) {
                    managers.add(parse(specs.substring(start, i).trim()));
                    start = i + 1;
                }
            }
            return managers;
        }

        static ManagerSpec parse(String spec)
        {
            int open = spec.indexOf('(');
            String kind = open < 0 ? spec : spec.substring(0, open);
            if (!kind.equals("spoolex") && !kind.equals("trino")) {
                throw new IllegalArgumentException("unknown exchange manager " + kind + ": spoolex or trino");
            }
            Map<String, String> properties = new LinkedHashMap<>();
            if (open >= 0) {
                for (String property : spec.substring(open + 1, spec.length() - 1).split(";")) {
                    String[] keyValue = property.split("=", 2);
                    properties.put(keyValue[0].trim(), keyValue[1].trim());
                }
            }
            return new ManagerSpec(spec, kind, properties);
        }
    }

    /**
     * @param beforeClose requests by operation from the first write to the last page read
     * @param atClose requests by operation from the exchange's close until nothing was left
     */
    private record Run(int round, FaultScenario scenario, ManagerSpec manager, Result result, Map<String, Long> beforeClose, Map<String, Long> atClose) {}

    /**
     * The storage server behind the fault proxy: S3Proxy, or Azurite.
     */
    private interface BenchStorage
            extends AutoCloseable
    {
        FaultInjectingHttpProxy proxy();

        List<String> storedItems();

        void wipe();

        /**
         * Spoolex's properties (Trino's too, for S3) pointing at the proxy.
         */
        Map<String, String> properties();

        /**
         * The properties of a scenario's retry limits: the attempts alone for Trino's plugin, which has no retry time.
         */
        Map<String, String> retryProperties(FaultScenario.RetryLimits limits, boolean trino);

        @Override
        void close()
                throws Exception;
    }

    private static BenchStorage s3()
            throws Exception
    {
        S3ProxyServer server = S3ProxyServer.start();
        S3Client client = server.createClient();
        FaultInjectingHttpProxy proxy = new FaultInjectingHttpProxy(server.endpoint(), S3HttpDialect.S3);
        S3ProxyServer.createBuckets(client, BUCKETS);
        return new BenchStorage()
        {
            @Override
            public FaultInjectingHttpProxy proxy()
            {
                return proxy;
            }

            @Override
            public List<String> storedItems()
            {
                return FaultBenchmark.storedItems(client);
            }

            @Override
            public void wipe()
            {
                FaultBenchmark.wipe(client);
            }

            @Override
            public Map<String, String> properties()
            {
                return Map.of(
                        "exchange.base-directories", "s3://%s/spool,s3://%s/nested/spool".formatted(BUCKETS.get(0), BUCKETS.get(1)),
                        "exchange.s3.endpoint", proxy.endpoint().toString(),
                        "exchange.s3.region", S3ProxyServer.REGION,
                        "exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY,
                        "exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY,
                        "exchange.s3.path-style-access", "true");
            }

            @Override
            public Map<String, String> retryProperties(FaultScenario.RetryLimits limits, boolean trino)
            {
                return trino
                        ? Map.of("exchange.s3.max-error-retries", Integer.toString(limits.attempts()))
                        : Map.of("exchange.s3.max-error-retries", Integer.toString(limits.attempts()), "exchange.s3.retry-time", limits.time().toMillis() + "ms");
            }

            @Override
            public void close()
                    throws Exception
            {
                proxy.close();
                client.close();
                server.close();
            }
        };
    }

    private static BenchStorage azure()
            throws Exception
    {
        AzuriteServer server = AzuriteServer.start();
        server.createContainers(AzureFaultBench.CONTAINERS);
        BlobServiceClient client = server.createClient();
        FaultInjectingHttpProxy proxy = new FaultInjectingHttpProxy(server.blobEndpoint(), AzureHttpDialect.AZURE);
        return new BenchStorage()
        {
            @Override
            public FaultInjectingHttpProxy proxy()
            {
                return proxy;
            }

            @Override
            public List<String> storedItems()
            {
                return AzureFaultBench.storedBlobs(client);
            }

            @Override
            public void wipe()
            {
                AzureFaultBench.wipe(client);
            }

            @Override
            public Map<String, String> properties()
            {
                return AzureFaultBench.properties(proxy.endpoint());
            }

            @Override
            public Map<String, String> retryProperties(FaultScenario.RetryLimits limits, boolean trino)
            {
                // Trino's Azure exchange storage has the attempts (exchange.azure.max-error-retries) but no retry time
                return trino
                        ? Map.of("exchange.azure.max-error-retries", Integer.toString(limits.attempts()))
                        : AzureFaultBench.retryLimits(limits);
            }

            @Override
            public void close()
                    throws Exception
            {
                proxy.close();
                server.close();
            }
        };
    }

    private final Options options;
    private final Map<ComparedPlugin, LoadedPlugin> plugins = new EnumMap<>(ComparedPlugin.class);

    private FaultBenchmark(Options options)
    {
        this.options = options;
    }

    public static void main(String[] args)
            throws Exception
    {
        new FaultBenchmark(Options.parse(args)).run();
        System.exit(0);
    }

    private void run()
            throws Exception
    {
        Files.createDirectories(options.output().toAbsolutePath().getParent());
        Path runLog = options.output().resolveSibling(options.output().getFileName().toString().replace(".md", "") + "-runs.txt");
        List<Run> runs = new ArrayList<>();
        try (BenchStorage storage = options.storage().equals("azure") ? azure() : s3()) {
            FaultInjectingHttpProxy proxy = storage.proxy();
            ExchangeCycle cycle = new ExchangeCycle(options.workload(), proxy, storage::storedItems, Duration.ofSeconds(120), Duration.ofSeconds(60));
            System.out.printf(
                    "Fault benchmark on %s: %s of pages per cycle, scenarios %s, managers %s, %s rounds after %s warm-up%n",
                    options.storage(),
                    DataSize.succinctBytes(options.workload().pageBytesTotal()),
                    options.scenarios(),
                    options.managers().stream().map(ManagerSpec::label).toList(),
                    options.rounds(),
                    options.warmups());
            for (int warmup = 0; warmup < options.warmups(); warmup++) {
                for (ManagerSpec manager : options.managers()) {
                    Result result = runOne(cycle, manager, FaultScenarios.NO_FAULTS, storage, -1 - warmup);
                    System.out.printf(Locale.ROOT, "warm-up %-40s %s %.1f s%n", manager.label(), result.outcome(), result.totalSeconds());
                }
            }
            for (int round = 0; round < options.rounds(); round++) {
                for (FaultScenario scenario : options.scenarios()) {
                    List<ManagerSpec> order = rotated(options.managers(), round);
                    for (ManagerSpec manager : order) {
                        proxy.clear();
                        Result result = runOne(cycle, manager, scenario, storage, round);
                        List<FaultInjectingHttpProxy.Request> requests = proxy.requests();
                        Run run = new Run(
                                round,
                                scenario,
                                manager,
                                result,
                                operations(requests.stream().filter(request -> request.receivedNanos() < result.closeStartNanos()).toList()),
                                operations(requests.stream().filter(request -> request.receivedNanos() >= result.closeStartNanos()).toList()));
                        runs.add(run);
                        String line = describe(run);
                        System.out.println(line);
                        Files.writeString(runLog, line + "\n", UTF_8, CREATE, APPEND);
                    }
                }
            }
        }
        String table = table(runs) + "\n" + requestTable(runs);
        System.out.println();
        System.out.println(table);
        Files.writeString(options.output(), table, UTF_8);
        System.out.printf("Written to %s (every run in %s)%n", options.output(), runLog);
    }

    private Result runOne(ExchangeCycle cycle, ManagerSpec spec, FaultScenario scenario, BenchStorage storage, int round)
    {
        ExchangeManager manager = createManager(spec, scenario, storage);
        Result result;
        try {
            result = cycle.run(manager, scenario, 1000L * round + scenario.name().hashCode());
        }
        finally {
            manager.shutdown();
            // whatever a manager left behind is in its result; the next cycle starts from empty buckets
            storage.wipe();
        }
        return result;
    }

    private ExchangeManager createManager(ManagerSpec spec, FaultScenario scenario, BenchStorage storage)
    {
        Map<String, String> properties = new HashMap<>(storage.properties());
        ComparedPlugin plugin;
        if (spec.kind().equals("trino")) {
            // Trino's plugin has the attempts (exchange.s3.max-error-retries) but no retry time
            scenario.storageRetries().ifPresent(limits -> properties.putAll(storage.retryProperties(limits, true)));
            plugin = ComparedPlugin.TRINO_FILESYSTEM;
        }
        else {
            scenario.storageRetries().ifPresent(limits -> properties.putAll(storage.retryProperties(limits, false)));
            // Trino's plugin has no startup check: neither probes the storage before the cycle
            properties.put("exchange.startup-check", "OFF");
            plugin = ComparedPlugin.SPOOLEX_FILESYSTEM;
        }
        properties.putAll(spec.properties());
        // both from their plugin folders, in plugin class loaders of their own, as a server loads them
        LoadedPlugin loaded = plugins.computeIfAbsent(plugin, ComparedPlugin::load);
        return ComparedPlugins.createExchangeManager(loaded, "filesystem", properties);
    }

    private static List<String> storedItems(S3Client client)
    {
        List<String> items = new ArrayList<>();
        for (String bucket : BUCKETS) {
            for (S3Object object : client.listObjectsV2Paginator(request -> request.bucket(bucket)).contents()) {
                items.add("s3://%s/%s".formatted(bucket, object.key()));
            }
            for (MultipartUpload upload : client.listMultipartUploads(request -> request.bucket(bucket)).uploads()) {
                items.add("upload s3://%s/%s".formatted(bucket, upload.key()));
            }
        }
        return items;
    }

    private static void wipe(S3Client client)
    {
        for (String bucket : BUCKETS) {
            for (MultipartUpload upload : client.listMultipartUploads(request -> request.bucket(bucket)).uploads()) {
                client.abortMultipartUpload(request -> request.bucket(bucket).key(upload.key()).uploadId(upload.uploadId()));
            }
            for (S3Object object : client.listObjectsV2Paginator(request -> request.bucket(bucket)).contents()) {
                client.deleteObject(request -> request.bucket(bucket).key(object.key()));
            }
        }
    }

    private static <T> List<T> rotated(List<T> list, int by)
    {
        List<T> rotated = new ArrayList<>(list);
        Collections.rotate(rotated, by);
        return rotated;
    }

    private static Map<String, Long> operations(List<FaultInjectingHttpProxy.Request> requests)
    {
        return requests.stream().collect(Collectors.groupingBy(FaultInjectingHttpProxy.Request::operation, TreeMap::new, Collectors.counting()));
    }

    /**
     * Requests per cycle without faults, by operation, before the close and at it (the cleanup's), as the last round
     * counted them.
     */
    private String requestTable(List<Run> runs)
    {
        StringBuilder table = new StringBuilder("| exchange manager | requests to write, commit and read | requests to clean up at close |\n|---|---|---|\n");
        for (ManagerSpec manager : options.managers()) {
            runs.stream()
                    .filter(run -> run.scenario().equals(FaultScenarios.NO_FAULTS) && run.manager().equals(manager))
                    .reduce((_, second) -> second)
                    .ifPresent(run -> table.append("| %s | %s | %s |\n".formatted(title(manager), describeCounts(run.beforeClose()), describeCounts(run.atClose()))));
        }
        return table.toString();
    }

    private static String describeCounts(Map<String, Long> counts)
    {
        long total = counts.values().stream().mapToLong(Long::longValue).sum();
        return "%s: %s".formatted(total, counts.entrySet().stream().map(entry -> "%s %s".formatted(entry.getValue(), entry.getKey())).collect(Collectors.joining(", ")));
    }

    private static String describe(Run run)
    {
        Result result = run.result();
        return String.format(
                Locale.ROOT,
                "%s round %d %-24s %-40s %-16s %6.2f s + %5.2f s cleanup, %3d requests, %3d faults%s%s",
                Instant.now(),
                run.round(),
                run.scenario().name(),
                run.manager().label(),
                result.outcome(),
                result.seconds(),
                result.cleanupSeconds(),
                result.requests(),
                result.faultCount(),
                result.leftovers().isEmpty() ? "" : ", %s left".formatted(result.leftovers().size()),
                result.failure().map(failure -> "; " + firstLine(failure.toString())).orElse(""));
    }

    private static String firstLine(String text)
    {
        int newline = text.indexOf('\n');
        String line = newline < 0 ? text : text.substring(0, newline);
        return line.length() > 400 ? line.substring(0, 400) + "..." : line;
    }

    private String table(List<Run> runs)
    {
        StringBuilder table = new StringBuilder();
        table.append("| scenario |");
        for (ManagerSpec manager : options.managers()) {
            table.append(" %s: outcomes | %s: s per cycle, median (min–max) | × no faults |".formatted(title(manager), title(manager)));
        }
        table.append("\n|---|");
        table.append("---|---:|---:|".repeat(options.managers().size()));
        table.append('\n');
        Map<String, Double> baseline = new HashMap<>();
        for (ManagerSpec manager : options.managers()) {
            baseline.put(manager.label(), median(seconds(runs, FaultScenarios.NO_FAULTS, manager)));
        }
        for (FaultScenario scenario : options.scenarios()) {
            table.append("| ").append(scenario.name()).append(" |");
            for (ManagerSpec manager : options.managers()) {
                List<Run> cell = runs.stream().filter(run -> run.scenario().equals(scenario) && run.manager().equals(manager)).toList();
                double[] seconds = seconds(runs, scenario, manager);
                Map<Outcome, Long> outcomes = cell.stream().collect(Collectors.groupingBy(run -> run.result().outcome(), TreeMap::new, Collectors.counting()));
                String outcomeText = outcomes.entrySet().stream()
                        .map(entry -> "%s %s".formatted(entry.getValue(), entry.getKey()))
                        .collect(Collectors.joining(", "));
                table.append(String.format(
                        Locale.ROOT,
                        " %s | %.1f (%.1f–%.1f) | %.1f× |",
                        outcomeText,
                        median(seconds),
                        Arrays.stream(seconds).min().orElse(0),
                        Arrays.stream(seconds).max().orElse(0),
                        median(seconds) / baseline.get(manager.label())));
            }
            table.append('\n');
        }
        table.append(String.format(
                Locale.ROOT,
                "%nSeconds per cycle: first write to last page read, plus close until nothing is left in storage (or the 60 s wait ends). %s rounds, interleaved; %s of pages per cycle.%n",
                options.rounds(),
                DataSize.succinctBytes(options.workload().pageBytesTotal())));
        return table.toString();
    }

    private static String title(ManagerSpec manager)
    {
        String name = manager.kind().equals("trino") ? "Trino 483" : "Spoolex";
        return manager.properties().isEmpty() ? name : name + " " + manager.properties();
    }

    private static double[] seconds(List<Run> runs, FaultScenario scenario, ManagerSpec manager)
    {
        return runs.stream()
                .filter(run -> run.scenario().equals(scenario) && run.manager().equals(manager))
                .mapToDouble(run -> run.result().totalSeconds())
                .toArray();
    }

    private static double median(double[] values)
    {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }
}
