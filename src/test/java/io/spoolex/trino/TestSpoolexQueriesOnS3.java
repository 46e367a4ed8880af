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
import com.google.common.collect.Multiset;
import io.spoolex.faults.FaultInjectingHttpProxy;
import io.spoolex.storage.s3.S3HttpDialect;
import io.spoolex.storage.s3.S3ProxyServer;
import io.trino.Session;
import io.trino.testing.DistributedQueryRunner;
import io.trino.testing.MaterializedResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS;

/**
 * Fault-tolerant queries in a real Trino cluster spooling to S3 (S3Proxy, through a relay that counts the requests
 * of each query), with two buckets as base directories: the rows must equal those of the same query without retries,
 * and the buckets must be empty once the query is done.
 */
@TestInstance(PER_CLASS)
public class TestSpoolexQueriesOnS3
{
    private static final List<String> BUCKETS = List.of("fte-spool-1", "fte-spool-2");

    private S3ProxyServer server;
    private FaultInjectingHttpProxy relay;
    private S3Client client;
    private DistributedQueryRunner queryRunner;

    @BeforeAll
    public void start()
            throws Exception
    {
        server = S3ProxyServer.start();
        relay = new FaultInjectingHttpProxy(server.endpoint(), S3HttpDialect.S3);
        client = server.createClient();
        BUCKETS.forEach(bucket -> client.createBucket(request -> request.bucket(bucket)));
        queryRunner = SpoolexQueryRunner.builder("s3://" + BUCKETS.get(0) + "/spool,s3://" + BUCKETS.get(1) + "/spool")
                .withExchangeProperty("exchange.s3.endpoint", relay.endpoint().toString())
                .withExchangeProperty("exchange.s3.region", S3ProxyServer.REGION)
                .withExchangeProperty("exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY)
                .withExchangeProperty("exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY)
                .withExchangeProperty("exchange.s3.path-style-access", "true")
                .build();
    }

    @AfterAll
    public void stop()
            throws Exception
    {
        try (S3ProxyServer _ = server; FaultInjectingHttpProxy _ = relay; S3Client _ = client; DistributedQueryRunner _ = queryRunner) {
            // closed in reverse order: Trino first, the S3 server last
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT returnflag, linestatus, count(*), sum(quantity), sum(extendedprice * (1 - discount)) FROM \"sf0.1\".lineitem GROUP BY returnflag, linestatus",
            "SELECT c.mktsegment, o.orderpriority, count(*), sum(o.totalprice) FROM \"sf0.1\".orders o JOIN \"sf0.1\".customer c ON o.custkey = c.custkey GROUP BY c.mktsegment, o.orderpriority",
            "SELECT orderkey, custkey, orderstatus, totalprice, orderdate FROM \"sf0.1\".orders",
    })
    @Timeout(300)
    public void testQueryOnS3(String sql)
            throws InterruptedException
    {
        Session noRetries = Session.builder(queryRunner.getDefaultSession()).setSystemProperty("retry_policy", "NONE").build();
        Session taskRetries = Session.builder(queryRunner.getDefaultSession()).setSystemProperty("retry_policy", "TASK").build();
        MaterializedResult expected = queryRunner.execute(noRetries, sql);
        relay.clear();
        long start = System.nanoTime();
        MaterializedResult actual = queryRunner.execute(taskRetries, sql);
        long millis = (System.nanoTime() - start) / 1_000_000;
        // as multisets: assertj's any-order comparison is quadratic, too slow for 150,000 rows
        assertThat(ImmutableMultiset.copyOf(actual.getMaterializedRows())).isEqualTo(ImmutableMultiset.copyOf(expected.getMaterializedRows()));
        // the exchanges close when the query ends: their spool data goes
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!storedObjects().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(storedObjects()).isEmpty();
        Multiset<String> operations = relay.requests().stream().map(FaultInjectingHttpProxy.Request::operation).collect(ImmutableMultiset.toImmutableMultiset());
        assertThat(operations.count("PutObject")).isPositive();
        assertThat(operations.count("GetObject")).isPositive();
        System.out.printf("FTE query on S3 (%s ms, %s rows): %s%n  %s%n", millis, actual.getRowCount(), operations, sql);
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
