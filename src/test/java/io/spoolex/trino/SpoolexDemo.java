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

import com.google.errorprone.annotations.FormatMethod;
import com.google.errorprone.annotations.FormatString;
import io.spoolex.trino.SpoolexQueryRunner.SpoolexCounters;
import io.trino.Session;
import io.trino.execution.FailureInjector.InjectedFailureType;
import io.trino.execution.QueryInfo;
import io.trino.execution.StageInfo;
import io.trino.execution.StagesInfo;
import io.trino.execution.TaskState;
import io.trino.server.BasicQueryInfo;
import io.trino.spi.ErrorType;
import io.trino.spi.QueryId;
import io.trino.testing.DistributedQueryRunner;
import io.trino.testing.MaterializedResult;
import io.trino.testing.MaterializedRow;
import io.trino.testing.QueryRunner.MaterializedResultWithPlan;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static com.google.common.io.MoreFiles.deleteRecursively;
import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static io.spoolex.trino.CommandLineTools.argument;
import static io.spoolex.trino.CommandLineTools.quietLogging;
import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * {@code bin/demo}: an embedded Trino 483 cluster (coordinator and two workers, one JVM, real HTTP between them) with
 * Spoolex as its exchange manager runs a shuffle-heavy TPC-H query three times: without retries, under TASK retries,
 * and under TASK retries with a task of a stage fed by spooled data failing on purpose. It prints what happens as it
 * happens and exits with 1 if the rows differ from the run without retries or the failure did not happen.
 */
public final class SpoolexDemo
{
    // orders joined to customers on custkey: lineitem (joined to its orders in the scan, both are partitioned on
    // orderkey) is shuffled to the join on custkey, then to the aggregation on (mktsegment, orderpriority)
    private static final String QUERY =
            """
            SELECT c.mktsegment, o.orderpriority, count(*) AS line_items, sum(l.quantity) AS quantity,
                   sum(CAST(l.extendedprice * (1 - l.discount) AS decimal(18, 2))) AS revenue
            FROM lineitem l
            JOIN orders o ON l.orderkey = o.orderkey
            JOIN customer c ON o.custkey = c.custkey
            GROUP BY c.mktsegment, o.orderpriority
            ORDER BY c.mktsegment, o.orderpriority
            """;

    private final long startNanos = System.nanoTime();
    // the terminal itself: once Trino's logging is configured, System.out goes to the log file
    private final PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, UTF_8);
    private final Map<String, String> nodeNames = new ConcurrentHashMap<>();

    private SpoolexDemo() {}

    public static void main(String[] args)
    {
        SpoolexDemo demo = new SpoolexDemo();
        int status;
        try {
            status = demo.run(args);
        }
        catch (Throwable t) {
            // System.err belongs to Trino's log file by now: report on the terminal
            demo.out.println();
            demo.out.println("Demo FAILED: " + t);
            t.printStackTrace(demo.out);
            demo.out.println("Trino's log: target/demo/trino.log");
            status = 2;
        }
        System.exit(status);
    }

    private int run(String[] args)
            throws Exception
    {
        Map<String, String> exchangeProperties = new LinkedHashMap<>();
        String baseDirectories = null;
        String schema = "sf1";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--base-directories" -> baseDirectories = argument(args, ++i);
                case "--property" -> {
                    String property = argument(args, ++i);
                    int equals = property.indexOf('=');
                    if (equals <= 0) {
                        throw new IllegalArgumentException("--property wants name=value, got " + property);
                    }
                    exchangeProperties.put(property.substring(0, equals), property.substring(equals + 1));
                }
                case "--schema" -> schema = argument(args, ++i);
                case "--help", "-h" -> {
                    out.println(
                            """
                            usage: bin/demo [--base-directories URI[,URI...]] [--property name=value]... [--schema tiny|sf0.1|sf1]
                              --base-directories  where Spoolex spools (exchange.base-directories); default: a new local directory
                              --property          another exchange-manager.properties entry, e.g. exchange.s3.endpoint=http://...
                              --schema            TPC-H schema to query (default sf1)""");
                    return 0;
                }
                default -> throw new IllegalArgumentException("unknown argument %s (try --help)".formatted(args[i]));
            }
        }

        Path work = Files.createDirectories(Path.of("target", "demo"));
        Path log = work.resolve("trino.log");
        quietLogging(log);
        Optional<Path> localSpool = Optional.empty();
        if (baseDirectories == null) {
            localSpool = Optional.of(Files.createTempDirectory(work.toAbsolutePath(), "spool-"));
            baseDirectories = localSpool.orElseThrow().toString();
        }

        say("Starting Trino 483: a coordinator and two workers in one JVM, TPC-H catalog, retry-policy=TASK");
        say("Spoolex is the exchange manager: exchange.base-directories=%s%s",
                baseDirectories,
                exchangeProperties.isEmpty() ? "" : " " + exchangeProperties);
        say("Trino's own log goes to %s", log);
        SpoolexQueryRunner.Builder builder = SpoolexQueryRunner.builder(baseDirectories);
        exchangeProperties.forEach(builder::withExchangeProperty);
        try (DistributedQueryRunner queryRunner = builder.build()) {
            int worker = 0;
            for (var server : queryRunner.getServers()) {
                nodeNames.put(server.getCurrentNode().getNodeIdentifier(), server.isCoordinator() ? "coordinator" : "worker-" + ++worker);
            }
            say("Cluster up: %s", queryRunner.getServers().stream()
                    .map(server -> "%s at %s".formatted(nodeName(server.getCurrentNode().getNodeIdentifier()), server.getBaseUrl()))
                    .collect(Collectors.joining(", ")));
            String query = queryOn(schema);
            out.println();
            out.println(query.strip().indent(4));

            // the first run of a query in a fresh JVM runs much of its code interpreted, and later runs keep getting a
            // little faster as the JIT goes on: after a warm-up under TASK (which also runs Spoolex's code), the run
            // with a failed task goes before the plain TASK run, so that warming up never makes a failure look cheap
            say("Warm-up: the same query once under TASK, so that the three timed runs below compare warm JVMs");
            QueryId warmUp = queryRunner.executeWithPlan(Session.builder(queryRunner.getDefaultSession()).setSystemProperty("retry_policy", "TASK").build(), query).queryId();
            StageInfo target = stageFedBySpool(queryRunner, warmUp);

            say("1/3  retry_policy=NONE: the reference, no spooling");
            Run none = execute(queryRunner, query, "NONE", Optional.empty(), localSpool);

            say("2/3  retry_policy=TASK, and the first attempt of task 0 of stage %s (%s) will fail", target.stageId().id(), describe(target));
            Run failed = execute(queryRunner, query, "TASK", Optional.of(target.stageId().id()), localSpool);

            say("3/3  retry_policy=TASK: every stage's output goes through Spoolex");
            Run task = execute(queryRunner, query, "TASK", Optional.empty(), localSpool);

            out.println();
            printRows(failed.result().result());
            out.println();
            say("Wall time, one warm run each, in the order they ran: %.1fs without retries (NONE); %.1fs with TASK retries and a failed task (its retry included); %.1fs with TASK retries (every stage's output spooled and read back)",
                    none.seconds(),
                    failed.seconds(),
                    task.seconds());
            say("     Single runs on a shared machine vary by 10-30%%: compare with bin/bench queries, which repeats and interleaves runs, before reading anything into small differences");
            for (Run run : List.of(task, failed)) {
                SpoolexCounters spooled = run.spooled();
                say("Spooled by %s: %s page bytes in %s files, %s bytes in storage (%.0f%%), %s files read back%s",
                        run.label(),
                        bytes(spooled.sinkPageBytes()),
                        spooled.filesWritten(),
                        bytes(spooled.sinkStorageBytes()),
                        spooled.sinkPageBytes() == 0 ? 0.0 : 100.0 * spooled.sinkStorageBytes() / spooled.sinkPageBytes(),
                        spooled.filesRead(),
                        run.peakSpoolBytes() < 0 ? "" : "; spool directory peaked at %s in %s files".formatted(bytes(run.peakSpoolBytes()), run.peakSpoolFiles()));
            }

            boolean ok = true;
            ok &= check(sameRows(task.result().result(), none.result().result()), "TASK rows are identical to NONE rows (%s rows)".formatted(none.result().result().getRowCount()));
            ok &= check(sameRows(failed.result().result(), none.result().result()), "rows with a failed task are identical to NONE rows");
            QueryTasks tasks = QueryTasks.of(queryRunner, failed.queryId());
            int stageId = target.stageId().id();
            List<QueryTasks.Attempt> injected = tasks.ofStage(stageId).stream().filter(attempt -> attempt.partition() == 0 && attempt.attempt() == 0).toList();
            ok &= check(injected.size() == 1 && injected.getFirst().state() == TaskState.FAILED && tasks.retriedSuccessfully(injected.getFirst()),
                    "task %s.0.0 failed and a later attempt of it finished: %s".formatted(stageId, tasks.ofStage(stageId).stream()
                            .filter(attempt -> attempt.partition() == 0)
                            .map(attempt -> "%s.%s.%s %s on %s".formatted(attempt.stageId(), attempt.partition(), attempt.attempt(), attempt.state(), nodeName(attempt.nodeId())))
                            .toList()));
            Set<Integer> upstream = upstreamStages(queryRunner, failed.queryId(), stageId);
            // a task upstream may only have run again if an attempt of its own failed (on a busy machine Trino 483
            // sometimes fails a task by itself, trinodb/trino#30427; that is retried like any failure)
            boolean upstreamRanOnce = tasks.attempts().stream()
                    .filter(attempt -> upstream.contains(attempt.stageId()))
                    .allMatch(attempt -> attempt.attempt() == 0 || tasks.replacesFailedAttempt(attempt));
            ok &= check(upstreamRanOnce, "the stages feeding stage %s (%s) ran once: the retry read their output again from Spoolex".formatted(stageId, upstream));
            if (localSpool.isPresent()) {
                boolean empty;
                try (var entries = Files.list(localSpool.orElseThrow())) {
                    empty = entries.findAny().isEmpty();
                }
                for (int wait = 0; !empty && wait < 100; wait++) {
                    Thread.sleep(100);
                    try (var entries = Files.list(localSpool.orElseThrow())) {
                        empty = entries.findAny().isEmpty();
                    }
                }
                ok &= check(empty, "the spool directory is empty again (exchanges delete their data when they close)");
            }
            out.println();
            say(ok ? "Demo passed." : "Demo FAILED.");
            return ok ? 0 : 1;
        }
        finally {
            if (localSpool.isPresent()) {
                deleteRecursively(localSpool.orElseThrow(), ALLOW_INSECURE);
            }
        }
    }

    /**
     * The demo query on the tables of a TPC-H schema (tiny, sf0.1, sf1, ...).
     */
    private static String queryOn(String schema)
    {
        return QUERY.replace("FROM lineitem", "FROM \"%s\".lineitem".formatted(schema))
                .replace("JOIN orders", "JOIN \"%s\".orders".formatted(schema))
                .replace("JOIN customer", "JOIN \"%s\".customer".formatted(schema));
    }

    private record Run(String label, MaterializedResultWithPlan result, double seconds, SpoolexCounters spooled, long peakSpoolBytes, long peakSpoolFiles)
    {
        QueryId queryId()
        {
            return result.queryId();
        }
    }

    private Run execute(DistributedQueryRunner queryRunner, String query, String retryPolicy, Optional<Integer> failStage, Optional<Path> localSpool)
            throws Exception
    {
        String traceToken = "spoolex-demo-" + UUID.randomUUID();
        failStage.ifPresent(stage -> queryRunner.injectTaskFailure(traceToken, stage, 0, 0, InjectedFailureType.TASK_FAILURE, Optional.of(ErrorType.INTERNAL_ERROR)));
        Session session = Session.builder(queryRunner.getDefaultSession())
                .setSystemProperty("retry_policy", retryPolicy)
                .setTraceToken(Optional.of(traceToken))
                .build();
        SpoolexCounters before = SpoolexQueryRunner.clusterCounters(queryRunner);
        Optional<SpoolDirectory.Watcher> watcher = localSpool.map(path -> new SpoolDirectory(path).watch());
        AtomicBoolean done = new AtomicBoolean();
        Thread progress = Thread.ofPlatform().daemon().name("demo-progress").start(() -> reportProgress(queryRunner, traceToken, before, done));
        long start = System.nanoTime();
        MaterializedResultWithPlan result;
        try {
            result = queryRunner.executeWithPlan(session, query);
        }
        finally {
            done.set(true);
            progress.join();
            watcher.ifPresent(SpoolDirectory.Watcher::close);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        SpoolexCounters spooled = SpoolexQueryRunner.clusterCounters(queryRunner).minus(before);
        say("     finished in %.1fs: %s rows; %s", seconds, result.result().getRowCount(), QueryTasks.of(queryRunner, result.queryId()).summary());
        String label = retryPolicy + (failStage.isPresent() ? " with a failed task" : "");
        return new Run(
                label,
                result,
                seconds,
                spooled,
                watcher.map(SpoolDirectory.Watcher::maxBytes).orElse(-1L),
                watcher.map(SpoolDirectory.Watcher::maxFiles).orElse(-1L));
    }

    /**
     * Every two seconds: the query's stages and tasks; at once: every task attempt that fails and its replacement.
     */
    private void reportProgress(DistributedQueryRunner queryRunner, String traceToken, SpoolexCounters before, AtomicBoolean done)
    {
        Set<String> reported = new HashSet<>();
        long lastLine = System.nanoTime();
        while (!done.get()) {
            try {
                Thread.sleep(100);
                Optional<QueryId> queryId = queryRunner.getCoordinator().getQueryManager().getQueries().stream()
                        .filter(query -> query.getSession().getTraceToken().equals(Optional.of(traceToken)))
                        .map(BasicQueryInfo::getQueryId)
                        .findFirst();
                if (queryId.isEmpty()) {
                    continue;
                }
                QueryInfo info = queryRunner.getCoordinator().getQueryManager().getFullQueryInfo(queryId.orElseThrow());
                List<StageInfo> stages = StagesInfo.getAllStages(info.getStages());
                // failures first, then the attempts that replace them
                for (StageInfo stage : stages) {
                    for (var task : stage.tasks()) {
                        var status = task.taskStatus();
                        if (status.state() == TaskState.FAILED && reported.add(status.taskId() + " failed")) {
                            String reason = status.failures().isEmpty() ? "" : ": " + status.failures().getFirst().message();
                            say("     ! task %s.%s.%s failed on %s%s", stage.stageId().id(), status.taskId().partitionId(), status.taskId().attemptId(), nodeName(status.nodeId()), reason);
                        }
                    }
                }
                for (StageInfo stage : stages) {
                    for (var task : stage.tasks()) {
                        var status = task.taskStatus();
                        if (status.taskId().attemptId() > 0 && reported.add(status.taskId() + " retried")) {
                            say("     > retry: task %s.%s attempt %s scheduled on %s; it reads its input again from Spoolex, the stages before it do not run again",
                                    stage.stageId().id(),
                                    status.taskId().partitionId(),
                                    status.taskId().attemptId(),
                                    nodeName(status.nodeId()));
                        }
                    }
                }
                if (System.nanoTime() - lastLine > 2_000_000_000L && !stages.isEmpty()) {
                    lastLine = System.nanoTime();
                    String summary = stages.stream()
                            .sorted((left, right) -> Integer.compare(right.stageId().id(), left.stageId().id()))
                            .map(stage -> "stage %s %s %s/%s".formatted(
                                    stage.stageId().id(),
                                    stage.state().toString().toLowerCase(Locale.ROOT),
                                    stage.tasks().stream().filter(task -> task.taskStatus().state() == TaskState.FINISHED).count(),
                                    stage.tasks().size()))
                            .collect(Collectors.joining(", "));
                    SpoolexCounters spooled = SpoolexQueryRunner.clusterCounters(queryRunner).minus(before);
                    say("     %s: %s (tasks finished/started); spooled so far %s in %s files",
                            info.getState().toString().toLowerCase(Locale.ROOT),
                            summary,
                            bytes(spooled.sinkStorageBytes()),
                            spooled.filesWritten());
                }
            }
            catch (InterruptedException e) {
                return;
            }
            catch (RuntimeException e) {
                // the query ended between listing and reading it
            }
        }
    }

    /**
     * A stage that reads only spooled data (no table scan of its own) and writes to another exchange.
     */
    private static StageInfo stageFedBySpool(DistributedQueryRunner queryRunner, QueryId queryId)
    {
        QueryInfo info = queryRunner.getCoordinator().getQueryManager().getFullQueryInfo(queryId);
        StagesInfo stages = info.getStages().orElseThrow();
        return stages.getStages().stream()
                .filter(stage -> !stage.stageId().equals(stages.getOutputStageId()))
                .filter(stage -> stage.plan() != null && stage.plan().getPartitionedSources().isEmpty() && !stage.subStages().isEmpty())
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("the plan has no intermediate stage: " + stages.getStages().stream().map(StageInfo::stageId).toList()));
    }

    private static Set<Integer> upstreamStages(DistributedQueryRunner queryRunner, QueryId queryId, int stageId)
    {
        StagesInfo stages = queryRunner.getCoordinator().getQueryManager().getFullQueryInfo(queryId).getStages().orElseThrow();
        StageInfo stage = stages.getStages().stream().filter(candidate -> candidate.stageId().id() == stageId).findFirst().orElseThrow();
        return stages.getSubStagesDeep(stage.stageId()).stream().map(sub -> sub.stageId().id()).collect(Collectors.toSet());
    }

    private static String describe(StageInfo stage)
    {
        return "reads the spooled output of stage%s %s".formatted(
                stage.subStages().size() == 1 ? "" : "s",
                stage.subStages().stream().map(id -> Integer.toString(id.id())).collect(Collectors.joining(" and ")));
    }

    private boolean sameRows(MaterializedResult actual, MaterializedResult expected)
    {
        try {
            // the query orders by a unique key: compare in order
            ResultAssertions.assertSameRowsInOrder(actual, expected, "demo");
            return true;
        }
        catch (AssertionError e) {
            out.println("     " + e.getMessage());
            return false;
        }
    }

    private void printRows(MaterializedResult result)
    {
        List<String> columns = result.getColumnNames();
        List<List<String>> rows = new ArrayList<>();
        for (MaterializedRow row : result.getMaterializedRows()) {
            rows.add(row.getFields().stream().map(String::valueOf).toList());
        }
        int[] widths = new int[columns.size()];
        for (int i = 0; i < columns.size(); i++) {
            widths[i] = columns.get(i).length();
            for (List<String> row : rows) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        printRow(columns, widths);
        StringBuilder rule = new StringBuilder("    ");
        for (int width : widths) {
            rule.append("-".repeat(width)).append("-+-");
        }
        out.println(rule.substring(0, rule.length() - 3));
        rows.forEach(row -> printRow(row, widths));
    }

    private void printRow(List<String> values, int[] widths)
    {
        StringBuilder line = new StringBuilder("    ");
        for (int i = 0; i < values.size(); i++) {
            line.append(" ".repeat(widths[i] - values.get(i).length())).append(values.get(i));
            if (i < values.size() - 1) {
                line.append(" | ");
            }
        }
        out.println(line);
    }

    private String nodeName(String nodeId)
    {
        return nodeNames.getOrDefault(nodeId, nodeId);
    }

    private boolean check(boolean condition, String description)
    {
        say("%s %s", condition ? "[ok]  " : "[FAIL]", description);
        return condition;
    }

    @FormatMethod
    private void say(@FormatString String format, Object... args)
    {
        out.printf("[%6.1fs] %s%n", (System.nanoTime() - startNanos) / 1e9, format.formatted(args));
    }

    private static String bytes(long bytes)
    {
        if (bytes < 1024 * 1024) {
            return "%.1f kB".formatted(bytes / 1024.0);
        }
        return "%.1f MB".formatted(bytes / (1024.0 * 1024));
    }
}
