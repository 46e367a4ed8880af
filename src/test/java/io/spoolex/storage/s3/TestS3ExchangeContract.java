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
package io.spoolex.storage.s3;

import com.google.common.collect.ImmutableMultiset;
import com.google.common.collect.Multiset;
import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.faults.FaultInjectingHttpProxy;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static com.google.common.collect.MoreCollectors.onlyElement;
import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static io.spoolex.exchange.TestPages.page;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exchange contract on S3Proxy (the real S3 protocol), through a recording relay that counts the requests of
 * each test by operation; the counts are printed at the end (see the test's output file).
 */
public class TestS3ExchangeContract
        extends AbstractS3ExchangeContractTest
{
    private static S3ProxyServer server;
    private static FaultInjectingHttpProxy relay;
    private static S3Client client;
    private static final Map<String, Multiset<String>> requestsByTest = new TreeMap<>();
    private static long startNanos;
    private String currentTest;

    @BeforeAll
    public static void startServer()
            throws IOException
    {
        startNanos = System.nanoTime();
        server = S3ProxyServer.start();
        relay = new FaultInjectingHttpProxy(server.endpoint(), S3HttpDialect.S3);
        client = server.createClient();
        createBuckets(client);
    }

    @AfterAll
    public static void stopServer()
            throws IOException
    {
        try {
            Multiset<String> total = requestsByTest.values().stream().collect(ImmutableMultiset::<String>builder, ImmutableMultiset.Builder::addAll, (a, b) -> a.addAll(b.build())).build();
            StringBuilder report = new StringBuilder("S3 requests of the exchange contract on S3Proxy, by test (%.1f s in all):%n".formatted((System.nanoTime() - startNanos) / 1e9));
            requestsByTest.forEach((test, requests) -> report.append("  %s: %s%n".formatted(test, requests)));
            report.append("  total: %s%n".formatted(total));
            System.out.print(report);
        }
        finally {
            if (client != null) {
                client.close();
            }
            if (relay != null) {
                relay.close();
            }
            if (server != null) {
                server.close();
            }
        }
    }

    @BeforeEach
    public void startCounting(TestInfo testInfo)
    {
        currentTest = testInfo.getTestMethod().map(method -> method.getName()).orElse(testInfo.getDisplayName());
        relay.clear();
    }

    @Override
    protected void cleanUpStorage()
    {
        // the managers are shut down by now: everything the test made Spoolex send has been sent
        Multiset<String> operations = relay.requests().stream().map(FaultInjectingHttpProxy.Request::operation).collect(ImmutableMultiset.toImmutableMultiset());
        synchronized (requestsByTest) {
            requestsByTest.put(currentTest, operations);
        }
        super.cleanUpStorage();
    }

    @Override
    protected URI exchangeEndpoint()
    {
        return relay.endpoint();
    }

    @Override
    protected S3Client testClient()
    {
        return client;
    }

    @Override
    protected String accessKey()
    {
        return S3ProxyServer.ACCESS_KEY;
    }

    @Override
    protected String secretKey()
    {
        return S3ProxyServer.SECRET_KEY;
    }

    @Test
    public void testLargeFilesAreMultipartUploads()
    {
        // the contract's large pages must really have gone through multipart uploads, or the suite proves less than it seems
        testPageSizesAcrossBlockBufferAndFileBoundaries();
        Multiset<String> operations = relay.requests().stream().map(FaultInjectingHttpProxy.Request::operation).collect(ImmutableMultiset.toImmutableMultiset());
        assertThat(operations.count("CreateMultipartUpload")).isPositive();
        assertThat(operations.count("UploadPart")).isGreaterThan(operations.count("CreateMultipartUpload"));
        assertThat(operations.count("CompleteMultipartUpload")).isEqualTo(operations.count("CreateMultipartUpload"));
        assertThat(operations.count("PutObject")).isPositive();
        assertThat(operations.count("GetObject")).isPositive();
    }

    @Test
    public void testCleanupOfCommittedAttemptsSendsNoListing()
            throws InterruptedException
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 3, false);
        List<ExchangeSinkHandle> tasks = List.of(exchange.addSink(0), exchange.addSink(1), exchange.addSink(2), exchange.addSink(3));
        exchange.noMoreSinks();
        for (int task = 0; task < tasks.size(); task++) {
            writeAttempt(manager, exchange, tasks.get(task), task, 0, 3, 2, 10_000);
            exchange.sinkFinished(tasks.get(task), 0);
        }
        assertThat(ExchangeTestKit.sourceHandles(exchange)).isNotEmpty();
        // 4 tasks x 3 partitions, and a manifest each
        assertThat(listStoredFiles()).hasSize(16);
        relay.clear();
        exchange.close();
        awaitNoStoredFiles();
        Multiset<String> operations = operations();
        assertThat(operations.count("ListObjectsV2")).isZero();
        assertThat(operations.count("ListMultipartUploads")).isZero();
        // the 16 keys in one DeleteObjects per bucket the exchange's task partitions used (two)
        assertThat(operations.count("DeleteObjects")).isBetween(1, 2);
        assertThat(operations.elementSet()).containsOnly("DeleteObjects");
        manager.shutdown();
    }

    @Test
    public void testCleanupListsOnlyTheAttemptThatNeverCommitted()
            throws InterruptedException
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
        ExchangeSinkHandle task0 = exchange.addSink(0);
        ExchangeSinkHandle task1 = exchange.addSink(1);
        exchange.noMoreSinks();
        writeAttempt(manager, exchange, task0, 0, 0, 2, 2, 10_000);
        exchange.sinkFinished(task0, 0);
        // attempt 0 of task 1 dies after writing (its worker is killed: no finish, no abort); attempt 1 commits
        ExchangeSink killed = createSink(manager, exchange, task1, 0);
        write(killed, 0, List.of(page(1, 0, 0, 0, 6 * 1024 * 1024), page(1, 0, 0, 1, 6 * 1024 * 1024)));
        writeAttempt(manager, exchange, task1, 1, 1, 2, 2, 10_000);
        exchange.sinkFinished(task1, 1);
        assertThat(ExchangeTestKit.sourceHandles(exchange)).isNotEmpty();
        // the killed attempt's upload is open with its first part uploaded, the rest of its 12 MB in memory (a sink keeps
        // a buffer back until it knows whether more comes): it sends nothing more, as a killed worker would not (a part
        // landing after the cleanup would stay, as docs/cleanup.md says of writers that outlive their exchange)
        long deadline = System.nanoTime() + SECONDS.toNanos(30);
        while (uploadedParts() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(uploadedParts()).isEqualTo(1);
        // the killed attempt's directory, from its open upload: attempts are placed one by one, so a retry may sit in
        // another base directory than the attempt before it
        String killedPrefix = pendingUploads().stream()
                .map(upload -> upload.key().substring(0, upload.key().indexOf(".1/0/") + ".1/0/".length()))
                .collect(onlyElement());
        relay.clear();
        exchange.close();
        awaitNoStoredFiles();
        // the upload is aborted after its listing, which may end after the other bucket's objects are gone
        long uploadsDeadline = System.nanoTime() + SECONDS.toNanos(30);
        while (!pendingUploads().isEmpty() && System.nanoTime() < uploadsDeadline) {
            Thread.sleep(50);
        }
        assertThat(pendingUploads()).isEmpty();
        List<String> listings = relay.requests().stream()
                .filter(request -> request.operation().equals("ListObjectsV2") || request.operation().equals("ListMultipartUploads"))
                .map(request -> URLDecoder.decode(request.target(), UTF_8))
                .toList();
        // the killed attempt's directory, once for its objects and once for its open upload; nothing else
        assertThat(listings).hasSize(2).allSatisfy(target -> assertThat(target).contains("prefix=" + killedPrefix));
        assertThat(killed.abort()).succeedsWithin(30, SECONDS);
        manager.shutdown();
    }

    private int uploadedParts()
    {
        return pendingUploads().stream()
                .mapToInt(upload -> client.listParts(request -> request.bucket(bucketOf(upload.key())).key(upload.key()).uploadId(upload.uploadId())).parts().size())
                .sum();
    }

    private String bucketOf(String key)
    {
        return BUCKETS.stream()
                .filter(bucket -> client.listMultipartUploads(request -> request.bucket(bucket)).uploads().stream().anyMatch(upload -> upload.key().equals(key)))
                .findFirst()
                .orElseThrow();
    }

    private static Multiset<String> operations()
    {
        return relay.requests().stream().map(FaultInjectingHttpProxy.Request::operation).collect(ImmutableMultiset.toImmutableMultiset());
    }
}
