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
import io.trino.Session;
import io.trino.execution.FailureInjector.InjectedFailureType;
import io.trino.execution.TaskState;
import io.trino.spi.ErrorType;
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
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS;

/**
 * Fault-tolerant queries in a real Trino cluster spooling to MinIO (in a container, two buckets), under TASK and
 * QUERY retries and with a task that fails and is retried from spooled data: rows equal those without retries, and
 * the buckets are empty once the query is done. Runs where a Docker engine is available (the GitHub workflow, which
 * fails if these are skipped); elsewhere JUnit reports the class as skipped.
 */
@Testcontainers(disabledWithoutDocker = true)
@TestInstance(PER_CLASS)
public class TestSpoolexQueriesOnMinio
{
    private static final List<String> BUCKETS = List.of("fte-minio-1", "fte-minio-2");

    @Container
    private static final MinIOContainer MINIO = new MinIOContainer("minio/minio:RELEASE.2025-04-22T22-12-26Z");

    private S3Client client;
    private DistributedQueryRunner queryRunner;

    @BeforeAll
    public void start()
            throws Exception
    {
        client = S3Client.builder()
                .endpointOverride(URI.create(MINIO.getS3URL()))
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(MINIO.getUserName(), MINIO.getPassword())))
                .build();
        BUCKETS.forEach(bucket -> client.createBucket(request -> request.bucket(bucket)));
        queryRunner = SpoolexQueryRunner.builder("s3://" + BUCKETS.get(0) + "/spool,s3://" + BUCKETS.get(1) + "/spool")
                .withExchangeProperty("exchange.s3.endpoint", MINIO.getS3URL())
                .withExchangeProperty("exchange.s3.region", "us-east-1")
                .withExchangeProperty("exchange.s3.aws-access-key", MINIO.getUserName())
                .withExchangeProperty("exchange.s3.aws-secret-key", MINIO.getPassword())
                .withExchangeProperty("exchange.s3.path-style-access", "true")
                .build();
    }

    @AfterAll
    public void stop()
            throws Exception
    {
        try (S3Client _ = client; DistributedQueryRunner _ = queryRunner) {
            // Trino first, then the client
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TASK", "QUERY"})
    @Timeout(300)
    public void testShuffleAndJoin(String retryPolicy)
            throws InterruptedException
    {
        String sql = "SELECT c.mktsegment, o.orderpriority, count(*), sum(o.totalprice) FROM \"sf0.1\".orders o JOIN \"sf0.1\".customer c ON o.custkey = c.custkey GROUP BY c.mktsegment, o.orderpriority";
        MaterializedResult expected = queryRunner.execute(session("NONE"), sql);
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
        MaterializedResult expected = queryRunner.execute(session("NONE"), sql);
        String traceToken = "spoolex-minio-" + UUID.randomUUID();
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
            for (S3Object object : client.listObjectsV2Paginator(request -> request.bucket(bucket)).contents()) {
                objects.add(bucket + "/" + object.key());
            }
        }
        return objects;
    }
}
