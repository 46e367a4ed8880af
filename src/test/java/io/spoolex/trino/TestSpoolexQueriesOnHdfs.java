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

import com.google.common.collect.ImmutableMultiset;
import com.google.common.graph.Traverser;
import io.spoolex.SpoolexHdfsPlugin;
import io.spoolex.storage.hdfs.HdfsMiniCluster;
import io.spoolex.trino.SpoolexQueryRunner.SpoolexCounters;
import io.trino.Session;
import io.trino.client.StageStats;
import io.trino.execution.FailureInjector.InjectedFailureType;
import io.trino.spi.ErrorType;
import io.trino.testing.DistributedQueryRunner;
import io.trino.testing.MaterializedResult;
import io.trino.testing.QueryRunner.MaterializedResultWithPlan;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.Optional;
import java.util.UUID;

import static com.google.common.collect.Streams.stream;
import static java.lang.Integer.parseInt;
import static java.util.concurrent.TimeUnit.MINUTES;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS;

/**
 * Fault-tolerant queries in a real Trino cluster with Spoolex's {@code hdfs} plugin installed and
 * {@code exchange-manager.name=hdfs}, spooling to a real HDFS (the MiniDFSCluster shared by this JVM's tests) in two
 * base directories: under TASK and QUERY retries, and under TASK with a task of a stage fed by spooled data failing
 * once, the rows must equal those of the same query without retries, and HDFS must hold nothing of the query after.
 */
@TestInstance(PER_CLASS)
public class TestSpoolexQueriesOnHdfs
{
    // a partitioned join under an aggregation: every edge between stages is an exchange through HDFS
    private static final String JOIN =
            """
            SELECT p.brand, l.returnflag, count(*), sum(l.quantity), sum(CAST(l.extendedprice AS decimal(15, 2)))
            FROM lineitem l
            JOIN part p ON l.partkey = p.partkey
            GROUP BY p.brand, l.returnflag
            """;

    private HdfsMiniCluster hdfs;
    private FileSystem client;
    private DistributedQueryRunner queryRunner;

    @BeforeAll
    public void start()
            throws Exception
    {
        hdfs = HdfsMiniCluster.shared();
        client = hdfs.newClient();
        queryRunner = SpoolexQueryRunner.builder(hdfs.uri() + "/fte-spool/one," + hdfs.uri() + "/fte-spool/two")
                .withExchangePlugin(new SpoolexHdfsPlugin())
                .withExchangeManagerName("hdfs")
                .withExchangeProperty("hdfs.config.resources", hdfs.coreSite().toString())
                .build();
    }

    @AfterAll
    public void stop()
            throws Exception
    {
        try (FileSystem _ = client; DistributedQueryRunner _ = queryRunner) {
            // Trino first, then the test's HDFS client; the cluster itself is shared and stopped with the JVM
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TASK", "QUERY"})
    @Timeout(value = 5, unit = MINUTES)
    public void testQueryOnHdfs(String retryPolicy)
            throws Exception
    {
        for (String sql : new String[] {
                JOIN,
                "SELECT orderkey, custkey, orderstatus, totalprice, orderdate FROM \"sf0.1\".orders",
        }) {
            MaterializedResult expected = queryRunner.execute(session("NONE"), sql);
            long createdBefore = hdfs.createdFiles("/fte-spool/");
            SpoolexCounters before = SpoolexQueryRunner.clusterCounters(queryRunner);
            MaterializedResult actual = queryRunner.execute(session(retryPolicy), sql);
            SpoolexCounters spooled = SpoolexQueryRunner.clusterCounters(queryRunner).minus(before);
            // as multisets: assertj's any-order comparison is quadratic, too slow for 150,000 rows
            assertThat(ImmutableMultiset.copyOf(actual.getMaterializedRows())).isEqualTo(ImmutableMultiset.copyOf(expected.getMaterializedRows()));
            assertThat(spooled.filesWritten()).as("spool files the hdfs exchange manager wrote under %s", retryPolicy).isPositive();
            assertThat(spooled.filesRead()).as("spool files it read back").isPositive();
            // data files and manifests, by the namenode's account
            assertThat(hdfs.createdFiles("/fte-spool/") - createdBefore).as("files created in HDFS").isGreaterThanOrEqualTo(spooled.filesWritten());
            awaitSpoolEmpty();
        }
    }

    @Test
    @Timeout(value = 5, unit = MINUTES)
    public void testInjectedTaskFailureIsRetriedFromHdfs()
            throws Exception
    {
        MaterializedResult expected = queryRunner.execute(session("NONE"), JOIN);
        MaterializedResult undisturbed = queryRunner.execute(session("TASK"), JOIN);
        // a stage that reads spooled data and writes some: not a scan, not the output
        StageStats root = undisturbed.getStatementStats().orElseThrow().getRootStage();
        StageStats intermediate = stream(Traverser.<StageStats>forTree(StageStats::getSubStages).breadthFirst(root))
                .filter(stage -> !stage.isCoordinatorOnly() && !stage.getSubStages().isEmpty() && stage != root)
                .findFirst()
                .orElseThrow();
        int stageId = parseInt(intermediate.getStageId());
        String traceToken = UUID.randomUUID().toString();
        queryRunner.injectTaskFailure(traceToken, stageId, 0, 0, InjectedFailureType.TASK_FAILURE, Optional.of(ErrorType.INTERNAL_ERROR));
        MaterializedResultWithPlan result = queryRunner.executeWithPlan(Session.builder(session("TASK")).setTraceToken(Optional.of(traceToken)).build(), JOIN);
        assertThat(ImmutableMultiset.copyOf(result.result().getMaterializedRows())).isEqualTo(ImmutableMultiset.copyOf(expected.getMaterializedRows()));
        QueryTasks tasks = QueryTasks.of(queryRunner, result.queryId());
        QueryTasks.Attempt injected = tasks.ofStage(stageId).stream()
                .filter(attempt -> attempt.partition() == 0 && attempt.attempt() == 0)
                .findFirst()
                .orElseThrow();
        assertThat(injected.failure()).as("the injected attempt failed: %s", tasks.summary()).contains("injected");
        assertThat(tasks.retriedSuccessfully(injected)).as("a later attempt of task %s finished, reading its input from HDFS: %s", injected, tasks.ofStage(stageId)).isTrue();
        awaitSpoolEmpty();
    }

    private Session session(String retryPolicy)
    {
        return Session.builder(queryRunner.getDefaultSession())
                .setSystemProperty("retry_policy", retryPolicy)
                .setSystemProperty("join_distribution_type", "PARTITIONED")
                .build();
    }

    private void awaitSpoolEmpty()
            throws IOException, InterruptedException
    {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (spooledFiles() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(spooledFiles()).as("files left in HDFS").isZero();
    }

    private long spooledFiles()
            throws IOException
    {
        Path spool = new Path("/fte-spool");
        return client.exists(spool) ? client.getContentSummary(spool).getFileCount() : 0;
    }
}
