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
import io.spoolex.exchange.BaseDirectoryHealth;
import io.spoolex.exchange.SpoolexExchangeManager;
import io.spoolex.storage.s3.S3ProxyServer;
import io.trino.Session;
import io.trino.testing.DistributedQueryRunner;
import io.trino.testing.MaterializedResult;
import io.trino.testing.QueryRunner.MaterializedResultWithPlan;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS;

/**
 * One of two S3 buckets (S3Proxy) removed under a real Trino cluster running FTE TASK queries: the query finishes with
 * the rows of the same query without retries. The task attempts placed on the removed bucket before anyone knew
 * fail, their workers report the bucket unhealthy, their retries go to the other bucket, and the probe the retries
 * ask for tells the coordinator, which then places nothing there: the next query has no failed task. Once the
 * bucket is back, every node finds it healthy again after the recovery time and attempts go to both buckets again.
 */
@TestInstance(PER_CLASS)
public class TestSpoolexUnhealthyBaseDirectory
{
    private static final String KEPT = "spoolex-health-kept";
    private static final String REMOVED = "spoolex-health-removed";
    private static final String QUERY = "SELECT c.mktsegment, o.orderpriority, count(*), sum(o.totalprice) FROM \"sf0.1\".orders o JOIN \"sf0.1\".customer c ON o.custkey = c.custkey GROUP BY c.mktsegment, o.orderpriority";

    private S3Client client;
    private DistributedQueryRunner queryRunner;

    @BeforeAll
    public void start()
            throws Exception
    {
        S3ProxyServer server = S3ProxyServer.shared();
        client = server.createClient();
        S3ProxyServer.createBuckets(client, List.of(KEPT, REMOVED));
        queryRunner = SpoolexQueryRunner.builder("s3://" + KEPT + "/spool,s3://" + REMOVED + "/spool")
                .withExchangeProperty("exchange.s3.endpoint", server.endpoint().toString())
                .withExchangeProperty("exchange.s3.region", S3ProxyServer.REGION)
                .withExchangeProperty("exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY)
                .withExchangeProperty("exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY)
                .withExchangeProperty("exchange.s3.path-style-access", "true")
                // no periodic probe within the test: the coordinator learns of the bucket only from the probe that a
                // retry asks for, so the first query really places attempts there and retries them elsewhere
                .withExchangeProperty("exchange.base-directory-probe-interval", "1h")
                .withExchangeProperty("exchange.base-directory-recovery-time", "3s")
                .build();
    }

    @AfterAll
    public void stop()
            throws Exception
    {
        try (S3Client _ = client; DistributedQueryRunner _ = queryRunner) {
            // Trino first, the client last (the S3Proxy is shared by the JVM's tests)
        }
    }

    @Test
    @Timeout(300)
    public void testQueriesFinishWithOneBucketRemovedAndTheBucketRecovers()
            throws Exception
    {
        Session noRetries = Session.builder(queryRunner.getDefaultSession()).setSystemProperty("retry_policy", "NONE").build();
        Session taskRetries = Session.builder(queryRunner.getDefaultSession()).setSystemProperty("retry_policy", "TASK").build();
        MaterializedResult expected = queryRunner.execute(noRetries, QUERY);
        List<SpoolexExchangeManager> managers = SpoolexQueryRunner.exchangeManagers(queryRunner);
        URI removed = URI.create("s3://" + REMOVED + "/spool/");
        BaseDirectoryHealth onCoordinator = health(managers.getFirst(), removed);
        assertThat(onCoordinator.state()).as("the startup check passed").isEqualTo(BaseDirectoryHealth.State.HEALTHY);

        removeBucket();
        try {
            // 1. nobody knows yet: the attempts placed on the removed bucket fail and are retried on the other one
            MaterializedResultWithPlan first = queryRunner.executeWithPlan(taskRetries, QUERY);
            assertSameRows(first.result(), expected);
            QueryTasks tasks = QueryTasks.of(queryRunner, first.queryId());
            System.out.printf("FTE query with bucket %s removed: %s%n", REMOVED, tasks.summary());
            assertThat(tasks.failed()).as("attempts placed on the removed bucket failed").isNotEmpty();
            assertThat(tasks.failed()).allSatisfy(failed -> {
                assertThat(failed.failure()).contains(REMOVED);
                assertThat(tasks.retriedSuccessfully(failed)).as("%s was retried successfully", failed).isTrue();
            });
            assertThat(onCoordinator.state()).as("the coordinator's probe found the bucket failing").isEqualTo(BaseDirectoryHealth.State.UNHEALTHY);
            assertThat(onCoordinator.getLastFailure()).contains("NoSuchBucket");
            assertThat(managers.subList(1, managers.size()).stream().map(manager -> health(manager, removed)))
                    .as("a worker whose sink failed there")
                    .anySatisfy(onWorker -> {
                        assertThat(onWorker.state()).isEqualTo(BaseDirectoryHealth.State.UNHEALTHY);
                        // the sink's failure, or its own probe's when the recovery time was up within the query
                        assertThat(onWorker.getLastFailure()).contains("s3://" + REMOVED + "/spool/").contains("NoSuchBucket");
                        assertThat(onWorker.getFailures().getTotalCount()).isPositive();
                    });

            // 2. the coordinator knows: nothing goes there, nothing fails
            long placed = onCoordinator.getAttemptsPlaced().getTotalCount();
            MaterializedResultWithPlan second = queryRunner.executeWithPlan(taskRetries, QUERY);
            assertSameRows(second.result(), expected);
            assertThat(QueryTasks.of(queryRunner, second.queryId()).failed()).as("no attempt failed").isEmpty();
            assertThat(onCoordinator.getAttemptsPlaced().getTotalCount()).as("attempts placed on the removed bucket").isEqualTo(placed);
            assertThat(onCoordinator.state()).as("still failing: still unhealthy").isEqualTo(BaseDirectoryHealth.State.UNHEALTHY);
        }
        finally {
            S3ProxyServer.createBuckets(client, List.of(REMOVED));
        }

        // 3. the bucket is back: every node that saw it fail probes it after the recovery time and finds it healthy
        await(() -> managers.stream().allMatch(manager -> health(manager, removed).state() != BaseDirectoryHealth.State.UNHEALTHY), "every node finds the bucket healthy again");
        assertThat(onCoordinator.state()).isEqualTo(BaseDirectoryHealth.State.HEALTHY);
        long placed = onCoordinator.getAttemptsPlaced().getTotalCount();
        MaterializedResultWithPlan third = queryRunner.executeWithPlan(taskRetries, QUERY);
        assertSameRows(third.result(), expected);
        assertThat(QueryTasks.of(queryRunner, third.queryId()).failed()).isEmpty();
        assertThat(onCoordinator.getAttemptsPlaced().getTotalCount()).as("attempts placed on the bucket again").isGreaterThan(placed);
    }

    private static BaseDirectoryHealth health(SpoolexExchangeManager manager, URI directory)
    {
        return manager.getStorageHealth().directories().stream()
                .filter(health -> health.directory().getAuthority().equals(directory.getAuthority()))
                .findFirst()
                .orElseThrow();
    }

    /**
     * Deletes the bucket once the exchanges before have deleted their data (S3 deletes only empty buckets).
     */
    private void removeBucket()
            throws InterruptedException
    {
        await(() -> client.listObjectsV2(request -> request.bucket(REMOVED)).contents().isEmpty(), "the bucket is empty");
        client.deleteBucket(request -> request.bucket(REMOVED));
    }

    private static void assertSameRows(MaterializedResult actual, MaterializedResult expected)
    {
        assertThat(ImmutableMultiset.copyOf(actual.getMaterializedRows())).isEqualTo(ImmutableMultiset.copyOf(expected.getMaterializedRows()));
    }

    private static void await(BooleanSupplier condition, String what)
            throws InterruptedException
    {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(100);
        }
    }
}
