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
package io.spoolex.trino.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.common.collect.ImmutableMap;
import com.google.errorprone.annotations.FormatMethod;
import com.google.errorprone.annotations.FormatString;
import io.airlift.units.Duration;
import io.spoolex.trino.SpoolDirectory;
import io.spoolex.trino.server.TrinoProcessCluster.Installation;
import io.spoolex.trino.server.TrinoRestClient.QueryResult;
import io.spoolex.trino.server.TrinoRestClient.RunningQuery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static com.google.common.io.MoreFiles.deleteRecursively;
import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spot-reclaim test: three real Trino 483 server processes (a coordinator and two workers) with Spoolex installed
 * from its plugin archive, {@code retry-policy=TASK}. A shuffle-heavy query runs once undisturbed; then again, and
 * while one worker runs a task of a stage whose input is spooled exchange data, that worker is killed with
 * {@code kill -9}. The query must finish with the same rows: the lost tasks run again on the surviving worker, which
 * reads what both workers spooled before.
 */
public class SpotReclaimIT
{
    // lineitem (6M rows at sf1) and part shuffled on partkey to a partitioned join (forced: the planner would
    // broadcast the small side and join in the scan stage), then on (brand, container) to the final aggregation.
    // TPC-H scan splits are pinned to their node, so the kill aims at the join or the aggregation, which read only
    // spooled data and may run on any node.
    private static final String QUERY =
            """
            SELECT p.brand, p.container, count(*), sum(l.quantity), sum(CAST(l.extendedprice AS decimal(18, 2))), max(l.shipdate)
            FROM tpch.sf1.lineitem l
            JOIN tpch.sf1.part p ON l.partkey = p.partkey
            GROUP BY p.brand, p.container
            """;

    private static final Map<String, String> SERVER_PROPERTIES = ImmutableMap.<String, String>builder()
            .put("retry-policy", "TASK")
            // the recommended setup: Spoolex compresses and encrypts
            .put("exchange.compression-codec", "NONE")
            .put("external-exchange-encryption-enabled", "false")
            // give up on an unreachable worker's tasks after 10s instead of the default minute, and retry soon
            .put("query.remote-task.max-error-duration", "10s")
            .put("retry-initial-delay", "1s")
            .put("retry-max-delay", "5s")
            // several tasks per worker at once within a ~1.2 GB heap
            .put("fault-tolerant-execution-task-memory", "100MB")
            .put("join-distribution-type", "PARTITIONED")
            // two hash partitions: the join runs as two long tasks rather than many short ones, so that the test
            // reliably catches one running
            .put("fault-tolerant-execution-min-partition-count", "2")
            .put("fault-tolerant-execution-max-partition-count", "2")
            .buildOrThrow();

    private final List<String> timeline = new ArrayList<>();
    private long startNanos;

    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    public void testWorkerKilledWhileReadingSpooledData()
            throws Exception
    {
        Installation installation = Installation.fromSystemProperties();
        assertThat(installation.spoolexArchive()).as("plugin archive (built by `package`)").isRegularFile();
        // under target/, kept when the test fails so that the servers' logs can be read
        Path root = Files.createTempDirectory(Files.createDirectories(Path.of(System.getProperty("spoolex.trino.work.dir", "target/spot-reclaim"))), "run-");
        Path spool = Files.createDirectories(root.resolve("spool"));
        ExecutorService executor = Executors.newCachedThreadPool();
        boolean passed = false;
        startNanos = System.nanoTime();
        try (TrinoProcessCluster cluster = TrinoProcessCluster.start(installation, root, spool, 2, SERVER_PROPERTIES)) {
            event("cluster up: coordinator %s, workers %s", cluster.coordinator().uri(), cluster.nodes().stream().filter(node -> !node.coordinator()).map(node -> node.nodeId() + "@" + node.uri()).toList());
            TrinoRestClient client = cluster.client();
            try {
                QueryResult undisturbed = client.execute(QUERY);
                event("undisturbed run %s finished: %s rows", undisturbed.queryId(), undisturbed.rows().size());
                assertThat(undisturbed.rows()).hasSizeGreaterThan(100);

                RunningQuery query = client.start(QUERY, Map.of());
                event("second run %s submitted", query.queryId());
                CompletableFuture<QueryResult> result = CompletableFuture.supplyAsync(() -> {
                    try {
                        return query.finish();
                    }
                    catch (Exception e) {
                        throw new CompletionException(e);
                    }
                }, executor);

                Victim victim = awaitTaskReadingSpooledData(client, query.queryId(), result);
                event("task %s of stage %s (input: spooled exchange data only) is RUNNING on %s", victim.taskId(), victim.stageId(), victim.nodeId());
                cluster.killHard(victim.nodeId());
                event("kill -9 %s (pid %s) done", victim.nodeId(), cluster.node(victim.nodeId()).process().pid());

                QueryResult disturbed = result.get(5, TimeUnit.MINUTES);
                event("second run %s finished: %s rows", disturbed.queryId(), disturbed.rows().size());

                List<String> attempts = describeAttempts(client.queryInfo(query.queryId()));
                attempts.forEach(attempt -> event("  task %s", attempt));
                assertThat(attempts).as("task attempts that failed on the killed worker")
                        .anyMatch(attempt -> attempt.contains(victim.nodeId()) && attempt.contains("FAILED"));
                assertThat(attempts).as("later attempts that finished on a surviving worker")
                        .anyMatch(attempt -> !attempt.contains(victim.nodeId()) && attempt.contains("FINISHED") && !attempt.matches("\\S+\\.0 .*"));

                assertThat(disturbed.rows().stream().sorted().toList())
                        .as("rows of the run with a worker killed, against the undisturbed run")
                        .isEqualTo(undisturbed.rows().stream().sorted().toList());

                new SpoolDirectory(spool).awaitNothingOf(query.queryId(), new Duration(60, TimeUnit.SECONDS));
                event("spool directory holds nothing of %s", query.queryId());
                passed = true;
            }
            catch (Throwable t) {
                cluster.nodes().forEach(node -> System.err.printf("==== %s logs (end) ====%n%s%n%s%n", node.nodeId(), TrinoProcessCluster.tail(node.launcherLog(), 20), TrinoProcessCluster.tail(node.log(), 80)));
                throw t;
            }
        }
        finally {
            executor.shutdownNow();
            System.out.println("==== spot-reclaim timeline ====");
            timeline.forEach(System.out::println);
            if (passed) {
                deleteRecursively(root, ALLOW_INSECURE);
            }
        }
    }

    private record Victim(String taskId, String stageId, String nodeId) {}

    /**
     * Polls the coordinator's query info until a worker runs a task of a stage with no table scan of its own (all
     * its input comes through the exchange, that is from Spoolex).
     */
    private Victim awaitTaskReadingSpooledData(TrinoRestClient client, String queryId, CompletableFuture<QueryResult> result)
            throws Exception
    {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (System.nanoTime() < deadline) {
            if (result.isDone()) {
                throw new AssertionError("query finished before a task reading spooled data could be caught running: " + result.join().queryId());
            }
            JsonNode info;
            try {
                info = client.queryInfo(queryId);
            }
            catch (IOException e) {
                // 410 until the dispatcher has registered the query with the query manager
                Thread.sleep(50);
                continue;
            }
            Optional<Victim> victim = findVictim(info);
            if (victim.isPresent()) {
                return victim.orElseThrow();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no task reading spooled data seen running within 3 minutes");
    }

    private static Optional<Victim> findVictim(JsonNode queryInfo)
    {
        for (JsonNode stage : queryInfo.path("stages").path("stages")) {
            JsonNode plan = stage.path("plan");
            boolean readsOnlyExchanges = !plan.isMissingNode() && !plan.isNull() && plan.path("partitionedSources").isEmpty();
            if (!readsOnlyExchanges) {
                continue;
            }
            for (JsonNode task : stage.path("tasks")) {
                JsonNode status = task.path("taskStatus");
                String nodeId = status.path("nodeId").asText();
                if (status.path("state").asText().equals("RUNNING") && nodeId.startsWith("worker-")) {
                    return Optional.of(new Victim(status.path("taskId").asText(), stage.path("stageId").asText(), nodeId));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * One line per task attempt: {@code stage.partition.attempt STATE on node (created …, ended …)}.
     */
    private List<String> describeAttempts(JsonNode queryInfo)
    {
        List<String> lines = new ArrayList<>();
        for (JsonNode stage : queryInfo.path("stages").path("stages")) {
            for (JsonNode task : stage.path("tasks")) {
                JsonNode status = task.path("taskStatus");
                String taskId = status.path("taskId").asText();
                String shortId = taskId.substring(taskId.indexOf('.') + 1);
                JsonNode failures = status.path("failures");
                String failure = failures.isEmpty() ? "" : ": " + failures.get(0).path("type").asText() + ": " + failures.get(0).path("message").asText();
                lines.add("%s %s on %s (created t=%s, ended t=%s)%s".formatted(
                        shortId,
                        status.path("state").asText(),
                        status.path("nodeId").asText(),
                        relative(task.path("stats").path("createTime").asText(null)),
                        relative(task.path("stats").path("endTime").asText(null)),
                        failure));
            }
        }
        return lines;
    }

    private String relative(String isoTime)
    {
        if (isoTime == null || isoTime.isEmpty()) {
            return "-";
        }
        try {
            long wallMillisNow = System.currentTimeMillis();
            long elapsedMillisNow = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
            long instantMillis = Instant.parse(isoTime).toEpochMilli();
            return "%.1fs".formatted((instantMillis - (wallMillisNow - elapsedMillisNow)) / 1000.0);
        }
        catch (RuntimeException e) {
            return isoTime;
        }
    }

    @FormatMethod
    private void event(@FormatString String format, Object... args)
    {
        String line = "t=%6.1fs  %s".formatted((System.nanoTime() - startNanos) / 1e9, format.formatted(args));
        timeline.add(line);
        System.out.println(line);
    }
}
