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
import io.spoolex.faults.FaultInjectingHttpProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.net.URI;
import java.util.Map;
import java.util.TreeMap;

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
}
