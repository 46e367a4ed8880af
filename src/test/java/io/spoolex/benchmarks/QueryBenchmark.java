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

import com.google.errorprone.annotations.FormatMethod;
import com.google.errorprone.annotations.FormatString;
import com.sun.management.OperatingSystemMXBean;
import io.spoolex.benchmarks.ComparedPlugins.ComparedPlugin;
import io.spoolex.trino.QueryTasks;
import io.spoolex.trino.SpoolexQueryRunner;
import io.spoolex.trino.SpoolexQueryRunner.SpoolexCounters;
import io.trino.Session;
import io.trino.spi.Plugin;
import io.trino.testing.DistributedQueryRunner;
import io.trino.testing.MaterializedResult;
import io.trino.testing.QueryRunner.MaterializedResultWithPlan;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import static com.google.common.io.MoreFiles.deleteRecursively;
import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static io.spoolex.trino.CommandLineTools.argument;
import static io.spoolex.trino.CommandLineTools.quietLogging;
import static io.spoolex.trino.ResultAssertions.assertSameRows;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

/**
 * {@code bin/bench queries}: TPC-H sf1 queries with heavy shuffles on in-JVM 3-node Trino 483 clusters (a coordinator
 * that schedules no work and two workers), in three configurations:
 * <ul>
 * <li>A: Spoolex under {@code retry_policy=TASK}, the engine's exchange compression and encryption off and Spoolex's
 * LZ4 + AES-256-GCM on (its defaults), spooling to a local directory;</li>
 * <li>B: Trino 483's own filesystem exchange manager under {@code retry_policy=TASK} with the engine's FTE defaults
 * (LZ4 compression and AES encryption in the engine's page serializer), spooling to a local directory on the same
 * disk;</li>
 * <li>C: {@code retry_policy=NONE}: the cluster of A with the session's retry policy switched off. Nothing is spooled;
 * stages stream to each other over HTTP, uncompressed, which is Trino's own default for a cluster without retries.</li>
 * </ul>
 * Both exchange plugins are installed from their plugin folders, each in a plugin class loader of its own as a Trino
 * server installs them ({@link ComparedPlugins}), never from this class path.
 * Both clusters stay up in this JVM. After a warm-up of every configuration, each round runs every query once in each
 * configuration, the order of the configurations rotating from query to query and round to round, so that neither
 * ordering nor a slow phase of the machine favours one. Every run's rows must equal the first run's rows.
 * Reports per query the median wall time of each configuration and the ratios A/B, A/C, B/C; overall the geometric
 * mean of each ratio and the total time. Writes target/benchmarks/queries.md and queries.png.
 */
public final class QueryBenchmark
{
    private static final String SCHEMA = "sf1";
    private static final String MEMORY_PLUGIN_CLASS = "io.trino.plugin.memory.MemoryPlugin";
    private static final List<String> TPCH_TABLES = List.of("region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem");

    /**
     * Where the queries read the TPC-H tables from.
     */
    enum Source
    {
        /**
         * Trino's tpch connector, which generates the rows as it scans them (most of the CPU time of these queries
         * goes there, see docs/benchmarks.md).
         */
        TPCH("tpch", "queries"),
        /**
         * The same sf1 tables copied once into Trino's memory connector on each cluster, so that a scan only hands
         * over pages it already has: what remains is closer to the engine's own work (joins, aggregations) and the
         * exchange.
         */
        MEMORY("memory", "queries-memory");

        private final String catalog;
        private final String outputName;

        Source(String catalog, String outputName)
        {
            this.catalog = catalog;
            this.outputName = outputName;
        }

        String catalog()
        {
            return catalog;
        }
    }

    private static final Path OUTPUT = Path.of("target", "benchmarks");

    /**
     * Trino 483 now and then fails a task that reads spooled data, whatever the exchange manager (trinodb/trino#30427,
     * fixed after 483: the engine's spooling data source updates a memory context it already closed). FTE retries the
     * task after {@code retry-initial-delay} (10 s by default), which would dwarf the differences measured here, so a
     * measured run hit by it is run again (and counted in the report).
     */
    static final String KNOWN_ENGINE_RACE = "ChildAggregatedMemoryContext is already closed";
    private static final int MAX_TRIES = 3;

    /**
     * Settings both clusters get. Everything else is Trino 483's default. Trino's default task memory estimate (5 GB)
     * assumes nodes with tens of GB: every in-JVM node here reports a 9.8 GB pool (the JVM's heap minus headroom),
     * so 5 GB would let a worker run one FTE task at a time, whereas the TPC-H sf1 tasks use a few hundred MB at
     * most. 1 GB gives a worker room for several tasks at once, as 5 GB does on the nodes Trino's default is meant for.
     */
    private static final Map<String, String> CLUSTER_SETTINGS = Map.of("fault-tolerant-execution-task-memory", "1GB");

    enum Configuration
    {
        A("Spoolex (TASK)", "TASK"),
        B("Trino filesystem (TASK)", "TASK"),
        C("retry_policy=NONE", "NONE");

        private final String description;
        private final String retryPolicy;

        Configuration(String description, String retryPolicy)
        {
            this.description = description;
            this.retryPolicy = retryPolicy;
        }

        String description()
        {
            return description;
        }
    }

    /**
     * A TPC-H query, written for the column names of Trino's tpch connector (no {@code l_}, {@code o_}... prefixes).
     */
    record TpchQuery(String name, String sql)
    {
        TpchQuery
        {
            requireNonNull(name, "name is null");
            requireNonNull(sql, "sql is null");
        }
    }

    // the standard TPC-H texts with their validation parameters (TPC-H specification 3.0.1, section 2.4)
    static final List<TpchQuery> QUERIES = List.of(
            new TpchQuery("Q3",
                    """
                    SELECT l.orderkey, sum(l.extendedprice * (1 - l.discount)) AS revenue, o.orderdate, o.shippriority
                    FROM customer c, orders o, lineitem l
                    WHERE c.mktsegment = 'BUILDING'
                      AND c.custkey = o.custkey
                      AND l.orderkey = o.orderkey
                      AND o.orderdate < DATE '1995-03-15'
                      AND l.shipdate > DATE '1995-03-15'
                    GROUP BY l.orderkey, o.orderdate, o.shippriority
                    ORDER BY revenue DESC, o.orderdate
                    LIMIT 10
                    """),
            new TpchQuery("Q5",
                    """
                    SELECT n.name, sum(l.extendedprice * (1 - l.discount)) AS revenue
                    FROM customer c, orders o, lineitem l, supplier s, nation n, region r
                    WHERE c.custkey = o.custkey
                      AND l.orderkey = o.orderkey
                      AND l.suppkey = s.suppkey
                      AND c.nationkey = s.nationkey
                      AND s.nationkey = n.nationkey
                      AND n.regionkey = r.regionkey
                      AND r.name = 'ASIA'
                      AND o.orderdate >= DATE '1994-01-01'
                      AND o.orderdate < DATE '1994-01-01' + INTERVAL '1' YEAR
                    GROUP BY n.name
                    ORDER BY revenue DESC
                    """),
            new TpchQuery("Q9",
                    """
                    SELECT nation, o_year, sum(amount) AS sum_profit
                    FROM (
                        SELECT n.name AS nation, extract(YEAR FROM o.orderdate) AS o_year,
                               l.extendedprice * (1 - l.discount) - ps.supplycost * l.quantity AS amount
                        FROM part p, supplier s, lineitem l, partsupp ps, orders o, nation n
                        WHERE s.suppkey = l.suppkey
                          AND ps.suppkey = l.suppkey
                          AND ps.partkey = l.partkey
                          AND p.partkey = l.partkey
                          AND o.orderkey = l.orderkey
                          AND s.nationkey = n.nationkey
                          AND p.name LIKE '%green%'
                    ) AS profit
                    GROUP BY nation, o_year
                    ORDER BY nation, o_year DESC
                    """),
            new TpchQuery("Q10",
                    """
                    SELECT c.custkey, c.name, sum(l.extendedprice * (1 - l.discount)) AS revenue, c.acctbal, n.name,
                           c.address, c.phone, c.comment
                    FROM customer c, orders o, lineitem l, nation n
                    WHERE c.custkey = o.custkey
                      AND l.orderkey = o.orderkey
                      AND o.orderdate >= DATE '1993-10-01'
                      AND o.orderdate < DATE '1993-10-01' + INTERVAL '3' MONTH
                      AND l.returnflag = 'R'
                      AND c.nationkey = n.nationkey
                    GROUP BY c.custkey, c.name, c.acctbal, c.phone, n.name, c.address, c.comment
                    ORDER BY revenue DESC
                    LIMIT 20
                    """),
            new TpchQuery("Q13",
                    """
                    SELECT c_count, count(*) AS custdist
                    FROM (
                        SELECT c.custkey, count(o.orderkey) AS c_count
                        FROM customer c LEFT OUTER JOIN orders o
                          ON c.custkey = o.custkey AND o.comment NOT LIKE '%special%requests%'
                        GROUP BY c.custkey
                    ) AS c_orders
                    GROUP BY c_count
                    ORDER BY custdist DESC, c_count DESC
                    """),
            new TpchQuery("Q18",
                    """
                    SELECT c.name, c.custkey, o.orderkey, o.orderdate, o.totalprice, sum(l.quantity)
                    FROM customer c, orders o, lineitem l
                    WHERE o.orderkey IN (
                            SELECT orderkey
                            FROM lineitem
                            GROUP BY orderkey
                            HAVING sum(quantity) > 300)
                      AND c.custkey = o.custkey
                      AND o.orderkey = l.orderkey
                    GROUP BY c.name, c.custkey, o.orderkey, o.orderdate, o.totalprice
                    ORDER BY o.totalprice DESC, o.orderdate
                    LIMIT 100
                    """),
            new TpchQuery("Q21",
                    """
                    SELECT s.name, count(*) AS numwait
                    FROM supplier s, lineitem l1, orders o, nation n
                    WHERE s.suppkey = l1.suppkey
                      AND o.orderkey = l1.orderkey
                      AND o.orderstatus = 'F'
                      AND l1.receiptdate > l1.commitdate
                      AND EXISTS (
                            SELECT *
                            FROM lineitem l2
                            WHERE l2.orderkey = l1.orderkey
                              AND l2.suppkey <> l1.suppkey)
                      AND NOT EXISTS (
                            SELECT *
                            FROM lineitem l3
                            WHERE l3.orderkey = l1.orderkey
                              AND l3.suppkey <> l1.suppkey
                              AND l3.receiptdate > l3.commitdate)
                      AND s.nationkey = n.nationkey
                      AND n.name = 'SAUDI ARABIA'
                    GROUP BY s.name
                    ORDER BY numwait DESC, s.name
                    LIMIT 100
                    """));

    /**
     * One measured (or warm-up) run.
     */
    record Run(Configuration configuration, TpchQuery query, int round, double seconds, List<String> failedTasks, SpoolexCounters spooled)
    {
        Run
        {
            failedTasks = List.copyOf(failedTasks);
        }

        /**
         * Every failed task attempt failed by Trino 483's own race, not by anything the exchange manager did.
         */
        boolean onlyHitKnownEngineRace()
        {
            return !failedTasks.isEmpty() && failedTasks.stream().allMatch(failure -> failure.contains(KNOWN_ENGINE_RACE));
        }
    }

    private final PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, UTF_8);
    private final long startNanos = System.nanoTime();

    private QueryBenchmark() {}

    public static void main(String[] args)
            throws Exception
    {
        int repetitions = 5;
        // the first pass over the queries runs with a cold JIT (up to three times slower); the second is close to steady
        int warmups = 2;
        Source source = Source.TPCH;
        List<TpchQuery> queries = QUERIES;
        List<Configuration> configurations = List.of(Configuration.values());
        Map<String, String> clusterSettings = new LinkedHashMap<>(CLUSTER_SETTINGS);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--repetitions" -> repetitions = Integer.parseInt(argument(args, ++i));
                case "--warmups" -> warmups = Integer.parseInt(argument(args, ++i));
                case "--source" -> source = Source.valueOf(argument(args, ++i).toUpperCase(Locale.ROOT));
                case "--queries" -> {
                    List<String> names = Arrays.stream(argument(args, ++i).split(",")).map(String::strip).map(name -> name.toUpperCase(Locale.ROOT)).toList();
                    queries = QUERIES.stream().filter(query -> names.contains(query.name())).toList();
                    if (queries.size() != names.size()) {
                        throw new IllegalArgumentException("unknown query in %s; known: %s".formatted(names, QUERIES.stream().map(TpchQuery::name).toList()));
                    }
                }
                case "--configurations" -> configurations = Arrays.stream(argument(args, ++i).split(","))
                        .map(String::strip)
                        .map(name -> Configuration.valueOf(name.toUpperCase(Locale.ROOT)))
                        .distinct()
                        .sorted()
                        .toList();
                case "--server-property" -> {
                    String property = argument(args, ++i);
                    int equals = property.indexOf('=');
                    if (equals <= 0) {
                        throw new IllegalArgumentException("--server-property wants name=value, got " + property);
                    }
                    clusterSettings.put(property.substring(0, equals), property.substring(equals + 1));
                }
                case "--help", "-h" -> {
                    System.out.println(
                            """
                            usage: bin/bench queries [--repetitions N] [--warmups N] [--queries Q3,Q5,...] [--configurations A,B,C]
                                                     [--source tpch|memory] [--server-property name=value]...
                              --repetitions      measured runs of each query in each configuration (default 5)
                              --warmups          unmeasured runs of each query in each configuration first (default 2)
                              --source           tpch: the tpch connector generates rows while scanning (default);
                                                 memory: sf1 copied into the memory connector first (output queries-memory.*)
                              --queries          a subset of %s
                              --configurations   a subset of A (Spoolex, TASK), B (Trino's plugin, TASK), C (NONE); default all
                              --server-property  a config.properties entry for every node of both clusters (repeatable)"""
                                    .formatted(QUERIES.stream().map(TpchQuery::name).collect(Collectors.joining(","))));
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument %s (try --help)".formatted(args[i]));
            }
        }
        if (repetitions < 1 || warmups < 0) {
            throw new IllegalArgumentException("--repetitions must be at least 1 and --warmups at least 0");
        }
        int status = new QueryBenchmark().run(source, queries, configurations, repetitions, warmups, clusterSettings);
        System.exit(status);
    }

    private int run(Source source, List<TpchQuery> queries, List<Configuration> configurations, int repetitions, int warmups, Map<String, String> clusterSettings)
            throws Exception
    {
        Files.createDirectories(OUTPUT);
        Path log = OUTPUT.resolve("queries-trino.log");
        quietLogging(log);
        // both spool directories under target/: the same disk
        Path spoolRoot = Files.createTempDirectory(OUTPUT.toAbsolutePath(), "query-spool-");
        Path spoolexSpool = Files.createDirectories(spoolRoot.resolve("spoolex"));
        Path trinoSpool = Files.createDirectories(spoolRoot.resolve("trino"));
        say("TPC-H %s from the %s connector, queries %s, configurations %s, %s warm-up and %s measured runs of each; Trino's log: %s",
                SCHEMA,
                source.catalog(),
                queries.stream().map(TpchQuery::name).toList(),
                configurations,
                warmups,
                repetitions,
                log);
        say("Settings of both clusters besides Trino's defaults: %s", clusterSettings);

        Map<Configuration, DistributedQueryRunner> runners = new EnumMap<>(Configuration.class);
        List<DistributedQueryRunner> started = new ArrayList<>();
        try {
            boolean needsSpoolex = configurations.contains(Configuration.A) || configurations.contains(Configuration.C);
            if (needsSpoolex) {
                say("Starting cluster 1: Spoolex, engine exchange compression and encryption off, spool %s", spoolexSpool);
                SpoolexQueryRunner.Builder builder = SpoolexQueryRunner.builder(spoolexSpool.toString())
                        .withoutTestSettings()
                        .withExchangePlugin(ComparedPlugin.SPOOLEX_FILESYSTEM.load().plugin())
                        .withServerProperty("exchange.compression-codec", "NONE")
                        .withServerProperty("external-exchange-encryption-enabled", "false");
                clusterSettings.forEach(builder::withServerProperty);
                DistributedQueryRunner spoolexRunner = builder.build();
                started.add(spoolexRunner);
                runners.put(Configuration.A, spoolexRunner);
                // NONE runs on the Spoolex cluster: with retries off no exchange manager is involved, and that
                // cluster's engine codec setting (NONE) is Trino's own default for a cluster without retries
                runners.put(Configuration.C, spoolexRunner);
            }
            if (configurations.contains(Configuration.B)) {
                say("Starting cluster 2: Trino's filesystem exchange manager, engine FTE defaults (LZ4, encryption), spool %s", trinoSpool);
                SpoolexQueryRunner.Builder builder = SpoolexQueryRunner.builder(trinoSpool.toString())
                        .withoutTestSettings()
                        .withExchangePlugin(ComparedPlugin.TRINO_FILESYSTEM.load().plugin());
                clusterSettings.forEach(builder::withServerProperty);
                DistributedQueryRunner trinoRunner = builder.build();
                started.add(trinoRunner);
                runners.put(Configuration.B, trinoRunner);
            }
            if (source == Source.MEMORY) {
                for (DistributedQueryRunner runner : started) {
                    loadIntoMemory(runner);
                }
            }
            say("Clusters up; heap in use after a full GC: %s of %s", bytes(heapUsedAfterGc()), bytes(Runtime.getRuntime().maxMemory()));

            Map<String, MaterializedResult> expected = new LinkedHashMap<>();
            List<Run> runs = new ArrayList<>();
            List<Run> repeated = new ArrayList<>();
            for (int warmup = 0; warmup < warmups; warmup++) {
                for (int index = 0; index < queries.size(); index++) {
                    for (Configuration configuration : rotated(configurations, warmup + index)) {
                        Run run = execute(runners.get(configuration), source, configuration, queries.get(index), -1 - warmup, expected);
                        say("warm-up %s %-3s %s: %.2fs%s", warmup + 1, run.query().name(), configuration, run.seconds(), failures(run));
                    }
                }
            }
            say("Heap in use after a full GC: %s", bytes(heapUsedAfterGc()));
            for (int round = 0; round < repetitions; round++) {
                for (int index = 0; index < queries.size(); index++) {
                    TpchQuery query = queries.get(index);
                    List<String> line = new ArrayList<>();
                    for (Configuration configuration : rotated(configurations, round + index)) {
                        Run run = execute(runners.get(configuration), source, configuration, query, round, expected);
                        for (int tries = 1; run.onlyHitKnownEngineRace() && tries < MAX_TRIES; tries++) {
                            repeated.add(run);
                            line.add("%s %.2fs%s, again".formatted(configuration, run.seconds(), failures(run)));
                            run = execute(runners.get(configuration), source, configuration, query, round, expected);
                        }
                        runs.add(run);
                        line.add("%s %.2fs%s".formatted(configuration, run.seconds(), failures(run)));
                    }
                    say("round %s/%s %-3s %s", round + 1, repetitions, query.name(), String.join(", ", line));
                }
            }

            QueryReport report = new QueryReport(
                    source,
                    queries,
                    configurations,
                    runs,
                    repeated,
                    repetitions,
                    warmups,
                    clusterSettings,
                    machine(spoolRoot),
                    Instant.now().truncatedTo(ChronoUnit.SECONDS));
            String markdown = report.markdown();
            out.println();
            out.println(markdown);
            Path markdownFile = OUTPUT.resolve(source.outputName + ".md");
            Path chartFile = OUTPUT.resolve(source.outputName + ".png");
            Files.writeString(markdownFile, markdown);
            report.writeChart(chartFile);
            say("Wrote %s and %s", markdownFile, chartFile);
            return 0;
        }
        catch (Throwable t) {
            out.println();
            out.println("Query benchmark FAILED: " + t);
            t.printStackTrace(out);
            out.println("Trino's log: " + log);
            return 1;
        }
        finally {
            for (DistributedQueryRunner runner : started) {
                runner.close();
            }
            deleteRecursively(spoolRoot, ALLOW_INSECURE);
        }
    }

    /**
     * The configurations starting from a different one each time, so that each runs first, second, ... equally often.
     */
    static List<Configuration> rotated(List<Configuration> configurations, int shift)
    {
        List<Configuration> order = new ArrayList<>();
        for (int i = 0; i < configurations.size(); i++) {
            order.add(configurations.get((i + shift) % configurations.size()));
        }
        return order;
    }

    /**
     * Copies the sf1 tables into the memory connector of every worker of the cluster.
     */
    private void loadIntoMemory(DistributedQueryRunner runner)
            throws ReflectiveOperationException
    {
        long start = System.nanoTime();
        runner.installPlugin((Plugin) Class.forName(MEMORY_PLUGIN_CLASS).getConstructor().newInstance());
        // room for sf1 (about 1 GB in memory, spread over the two workers)
        runner.createCatalog(Source.MEMORY.catalog(), "memory", Map.of("memory.max-data-per-node", "4GB"));
        // the memory connector does not write under retries
        Session session = Session.builder(runner.getDefaultSession())
                .setSystemProperty("retry_policy", "NONE")
                .build();
        runner.execute(session, "CREATE SCHEMA %s.%s".formatted(Source.MEMORY.catalog(), SCHEMA));
        for (String table : TPCH_TABLES) {
            runner.execute(session, "CREATE TABLE %1$s.%2$s.%3$s AS SELECT * FROM tpch.%2$s.%3$s".formatted(Source.MEMORY.catalog(), SCHEMA, table));
        }
        say("Loaded TPC-H %s into the memory connector in %.1fs", SCHEMA, (System.nanoTime() - start) / 1e9);
    }

    private Run execute(DistributedQueryRunner runner, Source source, Configuration configuration, TpchQuery query, int round, Map<String, MaterializedResult> expected)
    {
        Session session = Session.builder(runner.getDefaultSession())
                .setCatalog(source.catalog())
                .setSchema(SCHEMA)
                .setSystemProperty("retry_policy", configuration.retryPolicy)
                // a hang fails the benchmark instead of stalling it (these queries take seconds)
                .setSystemProperty("query_max_run_time", "5m")
                .build();
        SpoolexCounters before = configuration == Configuration.A ? SpoolexQueryRunner.clusterCounters(runner) : SpoolexCounters.ZERO;
        long start = System.nanoTime();
        MaterializedResultWithPlan result = runner.executeWithPlan(session, query.sql());
        double seconds = (System.nanoTime() - start) / 1e9;
        SpoolexCounters spooled = configuration == Configuration.A ? SpoolexQueryRunner.clusterCounters(runner).minus(before) : SpoolexCounters.ZERO;
        List<String> failedTasks = QueryTasks.of(runner, result.queryId()).failed().stream().map(QueryTasks.Attempt::failure).toList();

        MaterializedResult rows = result.result();
        MaterializedResult reference = expected.putIfAbsent(query.name(), rows);
        if (reference == null) {
            if (rows.getRowCount() == 0) {
                throw new IllegalStateException("%s returned no rows".formatted(query.name()));
            }
        }
        else {
            // the same rows in every run, so that a faster configuration never hides a wrong answer
            assertSameRows(rows, reference, "%s in %s (round %s)".formatted(query.name(), configuration, round + 1));
        }
        return new Run(configuration, query, round, seconds, failedTasks, spooled);
    }

    private static String failures(Run run)
    {
        if (run.failedTasks().isEmpty()) {
            return "";
        }
        return " (%s failed task attempt%s, retried by FTE: %s)".formatted(
                run.failedTasks().size(),
                run.failedTasks().size() == 1 ? "" : "s",
                run.onlyHitKnownEngineRace() ? "Trino's own race trinodb/trino#30427" : run.failedTasks().getFirst());
    }

    private static long heapUsedAfterGc()
    {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /**
     * What the numbers were measured on: cores, memory, CPU, JVM, the spool directories' file system.
     */
    private static Map<String, String> machine(Path spool)
            throws IOException
    {
        Map<String, String> machine = new LinkedHashMap<>();
        machine.put("CPU", cpuModel());
        machine.put("cores (available to the JVM)", String.valueOf(Runtime.getRuntime().availableProcessors()));
        long physical = ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getTotalMemorySize();
        machine.put("memory", bytes(physical));
        machine.put("OS", "%s %s (%s)".formatted(System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("os.arch")));
        machine.put("JVM", "%s %s, max heap %s, %s".formatted(
                System.getProperty("java.vm.name"),
                Runtime.version(),
                bytes(Runtime.getRuntime().maxMemory()),
                ManagementFactory.getGarbageCollectorMXBeans().stream().map(bean -> bean.getName()).collect(Collectors.joining(", "))));
        machine.put("spool file system", "%s (%s)".formatted(Files.getFileStore(spool).type(), Files.getFileStore(spool).name()));
        return machine;
    }

    private static String cpuModel()
    {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(line -> line.startsWith("model name"))
                    .map(line -> line.substring(line.indexOf(':') + 1).strip())
                    .findFirst()
                    .orElse("unknown");
        }
        catch (IOException e) {
            return "unknown";
        }
    }

    static String bytes(long bytes)
    {
        if (bytes >= 1L << 30) {
            return "%.1f GB".formatted(bytes / (double) (1L << 30));
        }
        return "%.1f MB".formatted(bytes / (double) (1L << 20));
    }

    @FormatMethod
    private void say(@FormatString String format, Object... args)
    {
        out.printf("[%6.1fs] %s%n", (System.nanoTime() - startNanos) / 1e9, format.formatted(args));
    }
}
