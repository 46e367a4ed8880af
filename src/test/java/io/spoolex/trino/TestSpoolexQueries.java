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

import com.google.common.collect.ImmutableMap;
import io.airlift.log.Logger;
import io.airlift.units.Duration;
import io.spoolex.trino.SpoolexQueryRunner.SpoolexCounters;
import io.trino.Session;
import io.trino.execution.QueryInfo;
import io.trino.execution.StageInfo;
import io.trino.execution.StagesInfo;
import io.trino.operator.OperatorStats;
import io.trino.spi.metrics.Count;
import io.trino.spi.metrics.Metrics;
import io.trino.testing.DistributedQueryRunner;
import io.trino.testing.MaterializedResult;
import io.trino.testing.QueryRunner.MaterializedResultWithPlan;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static com.google.common.io.MoreFiles.deleteRecursively;
import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static io.spoolex.trino.ResultAssertions.assertSameRows;
import static io.spoolex.trino.ResultAssertions.assertSameRowsInOrder;
import static java.util.concurrent.TimeUnit.MINUTES;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS;

/**
 * Every shape of exchange fault-tolerant execution has, through Spoolex in a real Trino cluster: each query runs with
 * {@code retry_policy} TASK and QUERY and must return exactly the rows of the same query without retries (NONE),
 * leaving nothing of itself in the spool directory.
 */
@TestInstance(PER_CLASS)
public class TestSpoolexQueries
{
    private static final Logger log = Logger.get(TestSpoolexQueries.class);
    private static final Duration CLEANUP_TIMEOUT = new Duration(30, SECONDS);

    /**
     * The exchange shapes. sf0.1 is TPC-H at scale 0.1 (600k line items), tiny at 0.01.
     */
    enum Shape
    {
        AGGREGATION(false, Map.of(), """
                                     SELECT returnflag, linestatus, count(*), sum(quantity), sum(CAST(extendedprice AS decimal(15, 2))),
                                            avg(discount), sum(extendedprice * (1 - discount))
                                     FROM "sf0.1".lineitem
                                     GROUP BY returnflag, linestatus
                                     """),
        PARTITIONED_JOIN(false, Map.of("join_distribution_type", "PARTITIONED"), """
                                                                                 SELECT c.mktsegment, o.orderpriority, count(*), sum(CAST(o.totalprice AS decimal(15, 2)))
                                                                                 FROM "sf0.1".orders o
                                                                                 JOIN "sf0.1".customer c ON o.custkey = c.custkey
                                                                                 GROUP BY c.mktsegment, o.orderpriority
                                                                                 """),
        BROADCAST_JOIN(false, Map.of("join_distribution_type", "BROADCAST"), """
                                                                             SELECT p.brand, count(*), sum(l.quantity), sum(l.extendedprice)
                                                                             FROM "sf0.1".lineitem l
                                                                             JOIN "sf0.1".part p ON l.partkey = p.partkey
                                                                             WHERE p.size <= 5
                                                                             GROUP BY p.brand
                                                                             """),
        WINDOW(false, Map.of(), """
                                SELECT custkey, orderkey, totalprice,
                                       rank() OVER (PARTITION BY custkey ORDER BY totalprice DESC, orderkey),
                                       sum(totalprice) OVER (PARTITION BY custkey),
                                       lag(orderkey) OVER (PARTITION BY custkey ORDER BY orderdate, orderkey)
                                FROM orders
                                """),
        // a distributed sort: partial sorts feed an order-preserving exchange that the root merges
        ORDER_BY(true, Map.of(), """
                                 SELECT orderkey, linenumber, partkey, quantity, extendedprice, shipdate
                                 FROM lineitem
                                 ORDER BY orderkey DESC, linenumber
                                 """),
        UNION_ALL(false, Map.of(), """
                                   SELECT 'customer' AS source, custkey AS key, name, nationkey FROM "sf0.1".customer
                                   UNION ALL
                                   SELECT 'supplier', suppkey, name, nationkey FROM "sf0.1".supplier
                                   UNION ALL
                                   SELECT 'nation', nationkey, name, regionkey FROM nation
                                   """),
        LARGE_RESULT(false, Map.of(), """
                                      SELECT orderkey, custkey, orderstatus, totalprice, orderdate, orderpriority, clerk, shippriority
                                      FROM "sf0.1".orders
                                      """),
        // 120 hash partitions: more than the 50 Spoolex allows by default (the runner raises the limit to 200)
        MANY_OUTPUT_PARTITIONS(false, Map.of("fault_tolerant_execution_min_partition_count", "120", "fault_tolerant_execution_max_partition_count", "120"), """
                                                                                                                                                            SELECT custkey, count(*), sum(CAST(totalprice AS decimal(15, 2)))
                                                                                                                                                            FROM "sf0.1".orders
                                                                                                                                                            GROUP BY custkey
                                                                                                                                                            """);

        private final boolean ordered;
        private final Map<String, String> sessionProperties;
        private final String sql;

        Shape(boolean ordered, Map<String, String> sessionProperties, String sql)
        {
            this.ordered = ordered;
            this.sessionProperties = ImmutableMap.copyOf(sessionProperties);
            this.sql = sql;
        }
    }

    private Path spool;
    private SpoolDirectory spoolDirectory;
    private DistributedQueryRunner queryRunner;

    @BeforeAll
    public void setUp()
            throws Exception
    {
        spool = Files.createTempDirectory("spoolex-queries");
        spoolDirectory = new SpoolDirectory(spool);
        queryRunner = SpoolexQueryRunner.builder(spool.toString()).build();
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

    @ParameterizedTest
    @EnumSource(Shape.class)
    @Timeout(value = 5, unit = MINUTES)
    public void testShape(Shape shape)
            throws Exception
    {
        MaterializedResult expected = queryRunner.execute(session(shape, "NONE"), shape.sql);
        assertThat(expected.getRowCount()).as("rows of %s", shape).isGreaterThan(0);
        if (shape == Shape.LARGE_RESULT) {
            assertThat(expected.getRowCount()).isGreaterThan(100_000);
        }

        for (String retryPolicy : new String[] {"TASK", "QUERY"}) {
            String description = "%s with retry_policy %s".formatted(shape, retryPolicy);
            SpoolexCounters before = SpoolexQueryRunner.clusterCounters(queryRunner);
            MaterializedResultWithPlan result;
            long maxOutputPartition;
            long maxFiles;
            try (SpoolDirectory.Watcher watcher = spoolDirectory.watch()) {
                result = queryRunner.executeWithPlan(session(shape, retryPolicy), shape.sql);
                maxOutputPartition = watcher.maxOutputPartition();
                maxFiles = watcher.maxFiles();
            }
            SpoolexCounters spooled = SpoolexQueryRunner.clusterCounters(queryRunner).minus(before);
            log.info("%s: %s rows, %s; at most %s spool files at once, highest output partition %s",
                    description,
                    result.result().getRowCount(),
                    spooled,
                    maxFiles,
                    maxOutputPartition);

            if (shape.ordered) {
                assertSameRowsInOrder(result.result(), expected, description);
            }
            else {
                assertSameRows(result.result(), expected, description);
            }

            if (retryPolicy.equals("QUERY") && expected.getRowCount() >= 1000) {
                // the coordinator buffers a result up to exchange.deduplication-buffer-size (1kB here) and spools
                // the rest through the exchange manager, so that a retried query does not return rows twice
                assertThat(spooled.filesWritten()).as("%s: result spooled", description).isGreaterThan(0);
                assertThat(spooled.filesRead()).as("%s: result read back", description).isGreaterThan(0);
            }
            if (retryPolicy.equals("TASK")) {
                // every stage's output went through Spoolex: written, committed and read back
                assertThat(spooled.sinksFinished()).as("%s: task outputs committed to Spoolex", description).isGreaterThan(0);
                assertThat(spooled.filesWritten()).as("%s: spool files written", description).isGreaterThan(0);
                assertThat(spooled.filesRead()).as("%s: spool files read", description).isGreaterThan(0);
                assertThat(spooled.sourcePageBytes()).as("%s: page bytes read back", description).isGreaterThan(0);
                assertThat(maxFiles).as("%s: spool files seen in the directory", description).isGreaterThan(0);
                if (shape == Shape.MANY_OUTPUT_PARTITIONS) {
                    assertThat(maxOutputPartition).as("%s: highest output partition written", description).isGreaterThanOrEqualTo(50);
                }
            }
            spoolDirectory.awaitNothingOf(result.queryId().id(), CLEANUP_TIMEOUT);
        }
    }

    /**
     * What each sink and source spooled reaches the query's statistics, as Trino shows them in EXPLAIN ANALYZE VERBOSE
     * and the query's JSON: the sinks' metrics per stage as output buffer metrics, the sources' as the pipeline metrics
     * of the exchange operators.
     */
    @Test
    @Timeout(value = 5, unit = MINUTES)
    public void testQueryStatsCarrySpoolMetrics()
    {
        MaterializedResultWithPlan result = queryRunner.executeWithPlan(session(Shape.AGGREGATION, "TASK"), Shape.AGGREGATION.sql);
        QueryInfo query = queryRunner.getCoordinator().getQueryManager().getFullQueryInfo(result.queryId());
        List<StageInfo> stages = StagesInfo.getAllStages(query.getStages());
        assertThat(stages).hasSizeGreaterThan(1);

        Metrics sinks = stages.stream().map(stage -> stage.stageStats().getOutputBufferMetrics()).reduce(Metrics.EMPTY, Metrics::mergeWith);
        assertThat(count(sinks, "spoolex.sink.page-bytes")).as("page bytes the sinks spooled").isPositive();
        assertThat(count(sinks, "spoolex.sink.stored-bytes")).as("bytes the sinks stored").isPositive();
        assertThat(count(sinks, "spoolex.sink.files")).as("files the sinks wrote").isPositive();
        assertThat(sinks.getMetrics()).containsKey("spoolex.sink.codec-cpu-time").containsKey("spoolex.sink.storage-time");

        Metrics sources = query.getQueryStats().getOperatorSummaries().stream()
                .filter(operator -> operator.getOperatorType().equals("ExchangeOperator"))
                .map(OperatorStats::getPipelineMetrics)
                .reduce(Metrics.EMPTY, Metrics::mergeWith);
        assertThat(count(sources, "spoolex.source.page-bytes")).as("page bytes the sources read back").isPositive();
        assertThat(count(sources, "spoolex.source.files")).as("files the sources read").isPositive();
        assertThat(sources.getMetrics()).containsKey("spoolex.source.codec-cpu-time").containsKey("spoolex.source.storage-time");
    }

    private static long count(Metrics metrics, String name)
    {
        assertThat(metrics.getMetrics()).as("metrics of the query").containsKey(name);
        return ((Count<?>) metrics.getMetrics().get(name)).getTotal();
    }

    private Session session(Shape shape, String retryPolicy)
    {
        Session.SessionBuilder builder = Session.builder(queryRunner.getDefaultSession())
                .setSystemProperty("retry_policy", retryPolicy);
        shape.sessionProperties.forEach(builder::setSystemProperty);
        return builder.build();
    }
}
