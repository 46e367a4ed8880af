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

import com.google.common.graph.Traverser;
import io.airlift.log.Logger;
import io.airlift.units.Duration;
import io.trino.Session;
import io.trino.client.StageStats;
import io.trino.execution.FailureInjector.InjectedFailureType;
import io.trino.execution.TaskState;
import io.trino.spi.ErrorType;
import io.trino.testing.DistributedQueryRunner;
import io.trino.testing.MaterializedResult;
import io.trino.testing.QueryRunner.MaterializedResultWithPlan;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static com.google.common.collect.ImmutableList.toImmutableList;
import static com.google.common.collect.Streams.stream;
import static com.google.common.io.MoreFiles.deleteRecursively;
import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static io.spoolex.trino.ResultAssertions.assertSameRows;
import static java.lang.Integer.parseInt;
import static java.util.concurrent.TimeUnit.MINUTES;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS;

/**
 * The failure matrix: every kind of failure Trino can inject, at a leaf stage (reads tables, writes to Spoolex), an
 * intermediate stage (reads from and writes to Spoolex) and the boundary stage (feeds the coordinator), under
 * {@code retry_policy=TASK}. The query must return the rows of a run without retries, its statistics must show that
 * the injected failure really failed a task (an injection aimed at a stage the plan lacks would do nothing) and that
 * a later attempt of that task finished, and the spool directory must end up empty of the query.
 */
@TestInstance(PER_CLASS)
public class TestSpoolexFailureRecovery
{
    private static final Logger log = Logger.get(TestSpoolexFailureRecovery.class);
    private static final Duration CLEANUP_TIMEOUT = new Duration(30, SECONDS);
    static final String KNOWN_ENGINE_RACE = "ChildAggregatedMemoryContext is already closed";

    // a partitioned join under a hash aggregation: scans (leaf) -> join and partial aggregation (intermediate) ->
    // final aggregation (intermediate) -> output (boundary), every edge an exchange through Spoolex. (A join on
    // orderkey would not do: TPC-H's lineitem and orders are both partitioned on it, and the join runs in the scan.)
    private static final String QUERY =
            """
            SELECT p.brand, l.returnflag, count(*), sum(l.quantity), sum(CAST(l.extendedprice AS decimal(15, 2))), avg(l.discount)
            FROM lineitem l
            JOIN part p ON l.partkey = p.partkey
            GROUP BY p.brand, l.returnflag
            """;

    enum StageKind
    {
        LEAF, INTERMEDIATE, BOUNDARY
    }

    private Path spool;
    private SpoolDirectory spoolDirectory;
    private DistributedQueryRunner queryRunner;
    private MaterializedResult expected;
    private StageStats undisturbedRootStage;

    @BeforeAll
    public void setUp()
            throws Exception
    {
        spool = Files.createTempDirectory("spoolex-failures");
        spoolDirectory = new SpoolDirectory(spool);
        queryRunner = SpoolexQueryRunner.builder(spool.toString()).build();
        expected = queryRunner.execute(session("NONE"), QUERY);
        assertThat(expected.getRowCount()).isGreaterThan(0);
        // the stage layout of the query under TASK, to aim the injections at
        MaterializedResult undisturbed = queryRunner.execute(session("TASK"), QUERY);
        assertSameRows(undisturbed, expected, "undisturbed run");
        undisturbedRootStage = undisturbed.getStatementStats().orElseThrow().getRootStage();
    }

    @AfterAll
    public void tearDown()
            throws Exception
    {
        if (queryRunner != null) {
            queryRunner.close();
            queryRunner = null;
        }
        if (spool != null) {
            deleteRecursively(spool, ALLOW_INSECURE);
        }
    }

    static Stream<Arguments> failures()
    {
        return Stream.of(InjectedFailureType.values())
                .flatMap(type -> Stream.of(StageKind.values()).map(stage -> Arguments.of(type, stage)));
    }

    /**
     * Under TASK every injected failure type at every stage. Task-management failures and timeouts and task failures
     * must fail the aimed task, which a later attempt replaces. Get-results failures and timeouts never fire under
     * TASK: no task output travels over HTTP, the workers write it to Spoolex and the coordinator reads the final
     * output from Spoolex too, so nobody calls a task's results endpoint. The test checks exactly that (no task
     * failed, same rows); {@link #testQueryRetryOfResultsRequestFailure} shows the same injections do fire under QUERY.
     */
    @ParameterizedTest
    @MethodSource("failures")
    @Timeout(value = 3, unit = MINUTES)
    public void testTaskRetry(InjectedFailureType failureType, StageKind stageKind)
            throws Exception
    {
        boolean firesUnderTask = failureType != InjectedFailureType.TASK_GET_RESULTS_REQUEST_FAILURE && failureType != InjectedFailureType.TASK_GET_RESULTS_REQUEST_TIMEOUT;
        int stageId = stageId(stageKind);
        String description = "TASK: %s at %s stage %s".formatted(failureType, stageKind, stageId);
        MaterializedResultWithPlan result = executeWithFailure("TASK", failureType, stageId, description);
        StageStats stage = stageStats(result.result().getStatementStats().orElseThrow().getRootStage(), stageId);
        QueryTasks tasks = QueryTasks.of(queryRunner, result.queryId());

        if (!firesUnderTask) {
            // nothing fails because of the injection. Trino 483 has one known race of its own that may fail a task
            // reading spooled data now and then (trinodb/trino#30427, fixed after 483: the shared spooling data
            // source updates a closed memory context); FTE retries such a task like any other, so it is tolerated
            // here, and only here, by its exact message
            assertThat(tasks.failed())
                    .as("%s: failed attempts (task results never travel over HTTP under TASK)", description)
                    .allSatisfy(attempt -> assertThat(attempt.failure()).contains(KNOWN_ENGINE_RACE));
            return;
        }
        assertThat(stage.getFailedTasks()).as("%s: failed tasks of the stage (did the injection fire?)", description).isGreaterThan(0);
        List<QueryTasks.Attempt> injected = tasks.ofStage(stageId).stream()
                .filter(attempt -> attempt.partition() == 0 && attempt.attempt() == 0)
                .collect(toImmutableList());
        assertThat(injected).as("%s: the injected attempt", description).hasSize(1);
        assertThat(injected.getFirst().state()).as("%s: state of the injected attempt", description).isEqualTo(TaskState.FAILED);
        assertThat(tasks.retriedSuccessfully(injected.getFirst())).as("%s: a later attempt of the task finished: %s", description, tasks.ofStage(stageId)).isTrue();
    }

    static Stream<Arguments> resultsRequestFailures()
    {
        return Stream.of(InjectedFailureType.TASK_GET_RESULTS_REQUEST_FAILURE, InjectedFailureType.TASK_GET_RESULTS_REQUEST_TIMEOUT)
                .flatMap(type -> Stream.of(StageKind.values()).map(stage -> Arguments.of(type, stage)));
    }

    /**
     * Get-results failures under QUERY: stages stream to each other over HTTP, the coordinator spools the result
     * through Spoolex, a failed request fails the query attempt and the whole query runs again.
     */
    @ParameterizedTest
    @MethodSource("resultsRequestFailures")
    @Timeout(value = 3, unit = MINUTES)
    public void testQueryRetryOfResultsRequestFailure(InjectedFailureType failureType, StageKind stageKind)
            throws Exception
    {
        int stageId = stageId(stageKind);
        String description = "QUERY: %s at %s stage %s".formatted(failureType, stageKind, stageId);
        MaterializedResultWithPlan result = executeWithFailure("QUERY", failureType, stageId, description);
        QueryTasks tasks = QueryTasks.of(queryRunner, result.queryId());
        // the request fails on the producing task, the failure shows on the task that asked: the consumer stage's
        // (or, for the boundary stage, which the coordinator reads, the stage itself)
        assertThat(tasks.failed()).as("%s: failed attempts (did the injection fire?)", description).isNotEmpty();
        assertThat(tasks.attempts().stream().anyMatch(attempt -> attempt.stageId() == stageId && attempt.attempt() > 0))
                .as("%s: the stage ran again in the query's next attempt: %s", description, tasks.summary())
                .isTrue();
    }

    /**
     * Runs the query with the failure aimed at the first attempt of the stage's first task; checks rows and cleanup.
     */
    private MaterializedResultWithPlan executeWithFailure(String retryPolicy, InjectedFailureType failureType, int stageId, String description)
            throws InterruptedException
    {
        String traceToken = UUID.randomUUID().toString();
        Optional<ErrorType> errorType = failureType == InjectedFailureType.TASK_FAILURE ? Optional.of(ErrorType.INTERNAL_ERROR) : Optional.empty();
        queryRunner.injectTaskFailure(traceToken, stageId, 0, 0, failureType, errorType);

        long start = System.nanoTime();
        MaterializedResultWithPlan result = queryRunner.executeWithPlan(
                Session.builder(session(retryPolicy)).setTraceToken(Optional.of(traceToken)).build(),
                QUERY);
        Duration elapsed = Duration.nanosSince(start);
        QueryTasks tasks = QueryTasks.of(queryRunner, result.queryId());
        log.info("%s: finished in %s; %s; failed attempts %s", description, elapsed.convertToMostSuccinctTimeUnit(), tasks.summary(), tasks.failed());

        assertSameRows(result.result(), expected, description);
        spoolDirectory.awaitNothingOf(result.queryId().id(), CLEANUP_TIMEOUT);
        return result;
    }

    private int stageId(StageKind kind)
    {
        StageStats root = undisturbedRootStage;
        StageStats boundary = root.isCoordinatorOnly() ? findStage(root, stage -> !stage.isCoordinatorOnly()) : root;
        return switch (kind) {
            case BOUNDARY -> parseInt(boundary.getStageId());
            case LEAF -> parseInt(findStage(root, stage -> stage.getSubStages().isEmpty()).getStageId());
            case INTERMEDIATE -> parseInt(findStage(root, stage -> !stage.isCoordinatorOnly()
                    && !stage.getSubStages().isEmpty()
                    && stage != boundary).getStageId());
        };
    }

    /**
     * The first matching stage, breadth first, so that every run aims at the same stage.
     */
    private static StageStats findStage(StageStats root, Predicate<StageStats> predicate)
    {
        return stream(Traverser.<StageStats>forTree(StageStats::getSubStages).breadthFirst(root))
                .filter(predicate)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no such stage in " + root));
    }

    private static StageStats stageStats(StageStats root, int stageId)
    {
        return findStage(root, stage -> parseInt(stage.getStageId()) == stageId);
    }

    private Session session(String retryPolicy)
    {
        return Session.builder(queryRunner.getDefaultSession())
                .setSystemProperty("retry_policy", retryPolicy)
                .setSystemProperty("join_distribution_type", "PARTITIONED")
                .build();
    }
}
