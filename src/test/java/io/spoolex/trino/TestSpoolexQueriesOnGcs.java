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

import com.google.cloud.storage.Blob;
import com.google.common.collect.ImmutableMultiset;
import io.spoolex.exchange.SpoolexExchangeManagerFactory;
import io.spoolex.storage.SpoolStorageBackend;
import io.spoolex.storage.gcs.GcsFake;
import io.trino.Session;
import io.trino.execution.FailureInjector.InjectedFailureType;
import io.trino.execution.TaskState;
import io.trino.spi.ErrorType;
import io.trino.spi.Plugin;
import io.trino.spi.exchange.ExchangeManagerFactory;
import io.trino.testing.DistributedQueryRunner;
import io.trino.testing.MaterializedResult;
import io.trino.testing.QueryRunner.MaterializedResultWithPlan;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS;

/**
 * Fault-tolerant queries in a real Trino cluster (coordinator and two workers in this JVM) spooling to {@code gs://}
 * in native mode, over Google's in-memory fake of the JSON API ({@link GcsFake}, one for the cluster), two buckets
 * as base directories: under TASK and QUERY retries and with a task that fails and is retried from spooled data, the
 * rows equal those without retries, and the buckets are empty once the query is done.
 */
@TestInstance(PER_CLASS)
public class TestSpoolexQueriesOnGcs
{
    private static final List<String> BUCKETS = List.of("fte-gcs-1", "fte-gcs-2");

    private final GcsFake fake = GcsFake.create();
    private DistributedQueryRunner queryRunner;
    private final Map<String, MaterializedResult> expectedRows = new ConcurrentHashMap<>();

    @BeforeAll
    public void start()
            throws Exception
    {
        ExchangeManagerFactory factory = new SpoolexExchangeManagerFactory("filesystem", List.of((SpoolStorageBackend) fake.backend()));
        queryRunner = SpoolexQueryRunner.builder("gs://%s/spool,gs://%s/spool".formatted(BUCKETS.get(0), BUCKETS.get(1)))
                .withExchangePlugin(new Plugin()
                {
                    @Override
                    public Iterable<ExchangeManagerFactory> getExchangeManagerFactories()
                    {
                        return List.of(factory);
                    }
                })
                .build();
    }

    @AfterAll
    public void stop()
    {
        if (queryRunner != null) {
            queryRunner.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TASK", "QUERY"})
    @Timeout(300)
    public void testShuffleAndJoin(String retryPolicy)
            throws InterruptedException
    {
        String sql = "SELECT c.mktsegment, o.orderpriority, count(*), sum(o.totalprice) FROM \"sf0.1\".orders o JOIN \"sf0.1\".customer c ON o.custkey = c.custkey GROUP BY c.mktsegment, o.orderpriority";
        MaterializedResult expected = withoutRetries(sql);
        MaterializedResult actual = queryRunner.execute(session(retryPolicy), sql);
        assertThat(ImmutableMultiset.copyOf(actual.getMaterializedRows())).isEqualTo(ImmutableMultiset.copyOf(expected.getMaterializedRows()));
        awaitBucketsEmpty();
    }

    @Test
    @Timeout(300)
    public void testFailedTaskRetriedFromSpooledData()
            throws InterruptedException
    {
        String sql = "SELECT returnflag, linestatus, count(*), sum(quantity) FROM \"sf0.1\".lineitem GROUP BY returnflag, linestatus";
        MaterializedResult expected = withoutRetries(sql);
        String traceToken = "spoolex-gcs-" + UUID.randomUUID();
        // stage 1 is the final aggregation, whose only input is the spooled output of the scans
        queryRunner.injectTaskFailure(traceToken, 1, 0, 0, InjectedFailureType.TASK_FAILURE, Optional.of(ErrorType.INTERNAL_ERROR));
        Session failing = Session.builder(session("TASK")).setTraceToken(Optional.of(traceToken)).build();
        MaterializedResultWithPlan result = queryRunner.executeWithPlan(failing, sql);
        assertThat(ImmutableMultiset.copyOf(result.result().getMaterializedRows())).isEqualTo(ImmutableMultiset.copyOf(expected.getMaterializedRows()));
        QueryTasks tasks = QueryTasks.of(queryRunner, result.queryId());
        assertThat(tasks.ofStage(1)).as("attempts of stage 1: %s", tasks).anyMatch(attempt -> attempt.partition() == 0 && attempt.attempt() == 0 && attempt.state() == TaskState.FAILED);
        assertThat(tasks.ofStage(1)).anyMatch(attempt -> attempt.partition() == 0 && attempt.attempt() > 0 && attempt.state() == TaskState.FINISHED);
        awaitBucketsEmpty();
    }

    private MaterializedResult withoutRetries(String sql)
    {
        return expectedRows.computeIfAbsent(sql, _ -> queryRunner.execute(session("NONE"), sql));
    }

    private Session session(String retryPolicy)
    {
        return Session.builder(queryRunner.getDefaultSession()).setSystemProperty("retry_policy", retryPolicy).build();
    }

    private void awaitBucketsEmpty()
            throws InterruptedException
    {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!storedObjects().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(storedObjects()).isEmpty();
    }

    private List<String> storedObjects()
    {
        List<String> objects = new ArrayList<>();
        for (String bucket : BUCKETS) {
            for (Blob blob : fake.testStorage().list(bucket).iterateAll()) {
                objects.add(bucket + "/" + blob.getName());
            }
        }
        return objects;
    }
}
