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
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.airlift.units.Duration;
import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.faults.FaultInjectingHttpProxy;
import io.spoolex.storage.SpoolFileReader;
import io.spoolex.storage.SpoolFileWriter;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSourceHandle;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import static io.spoolex.exchange.ExchangeTestKit.await;
import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.readAll;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static io.spoolex.storage.s3.TestS3StorageConfig.withSystemProperties;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the exchange contract cannot see: requests as they go over the wire (through {@link FaultInjectingHttpProxy}),
 * multipart uploads left pending, throttling, and where credentials end up. Against S3Proxy, a real S3 server.
 */
public class TestS3Storage
{
    private static final String BUCKET = "spoolex-storage";
    private static final String OTHER_BUCKET = "trino-exchange";

    private static S3ProxyServer server;
    private static FaultInjectingHttpProxy relay;
    private static S3Client client;

    private final List<ExchangeManager> managers = new ArrayList<>();
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeAll
    public static void startServer()
            throws IOException
    {
        server = S3ProxyServer.start();
        relay = new FaultInjectingHttpProxy(server.endpoint(), S3HttpDialect.S3);
        client = server.createClient();
        for (String bucket : List.of(BUCKET, OTHER_BUCKET, "trino-exchange-1", "trino-exchange-2", "exchange-spooling-bucket")) {
            client.createBucket(request -> request.bucket(bucket));
        }
    }

    @AfterAll
    public static void stopServer()
            throws IOException
    {
        try {
            if (client != null) {
                client.close();
            }
            if (relay != null) {
                relay.close();
            }
        }
        finally {
            if (server != null) {
                server.close();
            }
        }
    }

    @BeforeEach
    public void resetRelay()
    {
        relay.clear();
        relay.throttle(_ -> false, 0);
    }

    @AfterEach
    public void cleanUp()
            throws Exception
    {
        managers.forEach(ExchangeManager::shutdown);
        managers.clear();
        for (AutoCloseable closeable : closeables) {
            closeable.close();
        }
        closeables.clear();
        for (String bucket : List.of(BUCKET, OTHER_BUCKET, "trino-exchange-1", "trino-exchange-2", "exchange-spooling-bucket")) {
            for (MultipartUpload upload : client.listMultipartUploads(request -> request.bucket(bucket)).uploads()) {
                client.abortMultipartUpload(request -> request.bucket(bucket).key(upload.key()).uploadId(upload.uploadId()));
            }
            for (S3Object object : client.listObjectsV2Paginator(request -> request.bucket(bucket)).contents()) {
                client.deleteObject(request -> request.bucket(bucket).key(object.key()));
            }
        }
    }

    @Test
    public void testMissingObjectFailsNamingIt()
            throws Exception
    {
        S3SpoolStorage storage = storage();
        URI missing = URI.create("s3://" + BUCKET + "/spool/no-such/0_0.spool");
        assertThatThrownBy(() -> storage.getFile(missing).get(30, SECONDS))
                .cause()
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_FILE_NOT_FOUND"))
                .hasMessageContaining("s3://" + BUCKET + "/spool/no-such/0_0.spool");
        try (SpoolFileReader reader = storage.openFile(missing, 1000)) {
            assertThatThrownBy(() -> read(reader, 0, 100))
                    .cause()
                    .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_FILE_NOT_FOUND"))
                    .hasMessageContaining("s3://" + BUCKET + "/spool/no-such/0_0.spool");
        }
        // a missing bucket is a storage error naming the object, not a missing file
        URI noBucket = URI.create("s3://spoolex-no-such-bucket/spool/x.spool");
        assertThatThrownBy(() -> storage.getFile(noBucket).get(30, SECONDS))
                .cause()
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_STORAGE_ERROR"))
                .hasMessageContaining("s3://spoolex-no-such-bucket/spool/x.spool");
    }

    @Test
    public void testRangedReadsCheckTheObjectSize()
            throws Exception
    {
        S3SpoolStorage storage = storage();
        URI file = URI.create("s3://" + BUCKET + "/spool/sized/0_0.spool");
        byte[] content = randomBytes(10_000, 1);
        awaitStorage(storage.putFile(file, List.of(Slices.wrappedBuffer(content, 0, 4000), Slices.wrappedBuffer(content, 4000, 6000))));
        try (SpoolFileReader reader = storage.openFile(file, content.length)) {
            assertThat(read(reader, 0, 100)).isEqualTo(Slices.wrappedBuffer(content, 0, 100));
            assertThat(read(reader, 9_900, 100)).isEqualTo(Slices.wrappedBuffer(content, 9_900, 100));
            assertThat(read(reader, 1234, 5000)).isEqualTo(Slices.wrappedBuffer(content, 1234, 5000));
        }
        try (SpoolFileReader reader = storage.openFile(file, content.length + 1)) {
            assertThatThrownBy(() -> read(reader, 0, 100))
                    .cause()
                    .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_FILE_CORRUPTED"))
                    .hasMessageContaining(file.toString())
                    .hasMessageContaining("10000 bytes");
        }
    }

    /**
     * Reads into the middle of a larger array, as a reused read buffer may be lent, and checks nothing else moved.
     */
    private static Slice read(SpoolFileReader reader, long position, int length)
            throws Exception
    {
        byte[] buffer = new byte[length + 16];
        Arrays.fill(buffer, (byte) 0x5A);
        reader.read(position, Slices.wrappedBuffer(buffer, 8, length)).get(30, SECONDS);
        for (int i : new int[] {0, 7, length + 8, length + 15}) {
            assertThat(buffer[i]).as("byte %s outside the target", i).isEqualTo((byte) 0x5A);
        }
        return Slices.wrappedBuffer(buffer, 8, length);
    }

    @Test
    public void testAbortedSinkLeavesNoObjectsAndNoPendingUploads()
    {
        ExchangeManager manager = manager(Map.of("exchange.spool-compression-codec", "NONE", "exchange.encryption-enabled", "false"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        // 12 MB of incompressible pages: two 5 MB parts uploaded or in flight when the sink aborts, and a small file
        write(sink, 0, randomPages(120, 100_000, 2));
        write(sink, 1, randomPages(3, 1000, 3));
        await(sink.abort());
        Multiset<String> operations = operations();
        assertThat(operations.count("CreateMultipartUpload")).as("a multipart upload was started").isEqualTo(1);
        assertThat(operations.count("UploadPart")).isGreaterThanOrEqualTo(2);
        assertThat(operations.count("CompleteMultipartUpload")).isZero();
        assertThat(operations.count("AbortMultipartUpload")).isEqualTo(1);
        assertThat(pendingUploads()).isEmpty();
        assertThat(storedObjects()).isEmpty();
        exchange.close();
    }

    @Test
    public void testFailedCompletionAbortsTheUpload()
    {
        // one attempt and no retry time: the one 503 fails the completion
        S3SpoolStorage storage = storage(config -> config.setMaxErrorRetries(1).setRetryTime(new Duration(0, SECONDS)));
        URI file = URI.create("s3://" + BUCKET + "/spool/failing/0_0.spool");
        SpoolFileWriter writer = storage.createFile(file);
        awaitStorage(writer.write(List.of(Slices.wrappedBuffer(randomBytes(5 * 1024 * 1024, 3)))));
        awaitStorage(writer.write(List.of(Slices.wrappedBuffer(randomBytes(1000, 4)))));
        assertThat(pendingUploads()).hasSize(1);
        relay.throttle(request -> request.operation().equals("CompleteMultipartUpload"), 1);
        assertThatThrownBy(() -> writer.finish().get(60, SECONDS))
                .cause()
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_STORAGE_ERROR"))
                .hasMessageContaining(file.toString())
                .hasMessageContaining("503");
        // the writer aborted its upload by itself: no part stays stored
        assertThat(operations().count("AbortMultipartUpload")).isEqualTo(1);
        assertThat(pendingUploads()).isEmpty();
        assertThat(storedObjects()).isEmpty();
    }

    @Test
    public void testUploadsOfDeadWritersAreAbortedWhenTheExchangeCloses()
            throws InterruptedException
    {
        ExchangeManager manager = manager(Map.of("exchange.spool-compression-codec", "NONE", "exchange.encryption-enabled", "false"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        // a sink whose worker died: it started a multipart upload and never finished or aborted it
        ExchangeSink dead = createSink(manager, exchange, task, 0);
        write(dead, 0, randomPages(120, 100_000, 4));
        awaitCondition(() -> operations().count("UploadPart") >= 2 && !pendingUploads().isEmpty());
        // let the parts in flight land
        Thread.sleep(500);
        assertThat(pendingUploads()).hasSize(1);
        exchange.close();
        awaitCondition(() -> pendingUploads().isEmpty() && storedObjects().isEmpty());
        assertThat(operations().count("ListMultipartUploads")).isPositive();
        assertThat(operations().count("AbortMultipartUpload")).isEqualTo(1);
        assertThat(stat("AbortedUploadsFoundByCleanup.TotalCount")).isEqualTo(1);
    }

    @Test
    public void testServerSideEncryptionHeaders()
    {
        assertSseHeaders(S3SseType.NONE, null, null, null);
        assertSseHeaders(S3SseType.S3, null, "AES256", null);
        assertSseHeaders(S3SseType.KMS, null, "aws:kms", null);
        assertSseHeaders(S3SseType.KMS, "arn:aws:kms:us-east-1:123456789012:key/spoolex-test", "aws:kms", "arn:aws:kms:us-east-1:123456789012:key/spoolex-test");
    }

    private void assertSseHeaders(S3SseType sseType, String kmsKeyId, String expectedSse, String expectedKeyId)
    {
        relay.clear();
        S3SpoolStorage storage = storage(config -> config.setSseType(sseType).setSseKmsKeyId(kmsKeyId));
        URI small = URI.create("s3://" + BUCKET + "/spool/sse/small");
        URI large = URI.create("s3://" + BUCKET + "/spool/sse/large");
        ListenableFuture<Void> put = storage.putFile(small, List.of(Slices.wrappedBuffer(randomBytes(1000, 1))));
        SpoolFileWriter writer = storage.createFile(large);
        ListenableFuture<Void> part = writer.write(List.of(Slices.wrappedBuffer(randomBytes(5 * 1024 * 1024, 2))));
        awaitSettled(put, part);
        if (sseType == S3SseType.NONE) {
            awaitStorage(put);
            awaitStorage(writer.finish());
        }
        else {
            // S3Proxy implements no server-side encryption and says so (the MinIO test stores encrypted objects for
            // real); what this test checks is what was sent, and that the refusal fails the write naming the object
            for (Map.Entry<ListenableFuture<Void>, URI> write : Map.of(put, small, part, large).entrySet()) {
                assertThatThrownBy(() -> write.getKey().get())
                        .cause()
                        .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_STORAGE_ERROR"))
                        .hasMessageContaining(write.getValue().toString())
                        .hasMessageContaining("501");
            }
            awaitStorage(writer.abort());
        }
        List<FaultInjectingHttpProxy.Request> creates = relay.requests().stream()
                .filter(request -> request.operation().equals("PutObject") || request.operation().equals("CreateMultipartUpload"))
                .toList();
        assertThat(creates).extracting(FaultInjectingHttpProxy.Request::operation).containsExactlyInAnyOrder("PutObject", "CreateMultipartUpload");
        for (FaultInjectingHttpProxy.Request request : creates) {
            assertThat(request.header("x-amz-server-side-encryption")).as("%s %s", request.operation(), request.target()).isEqualTo(expectedSse);
            assertThat(request.header("x-amz-server-side-encryption-aws-kms-key-id")).as("%s %s", request.operation(), request.target()).isEqualTo(expectedKeyId);
            assertThat(request.header("x-amz-storage-class")).isEqualTo("STANDARD");
        }
        // parts carry no SSE headers (S3 rejects them there unless the key is customer-provided)
        assertThat(relay.requests().stream().filter(request -> request.operation().equals("UploadPart")))
                .allSatisfy(request -> assertThat(request.header("x-amz-server-side-encryption")).isNull());
    }

    @Test
    public void testChecksumModes()
    {
        // WHEN_REQUIRED (default): no checksum on uploads, Content-MD5 only on DeleteObjects, which requires one
        roundTrip(manager(Map.of("exchange.spool-compression-codec", "NONE")), 7);
        List<FaultInjectingHttpProxy.Request> requests = relay.requests();
        assertThat(requests.stream().filter(request -> List.of("PutObject", "UploadPart").contains(request.operation())))
                .isNotEmpty()
                .allSatisfy(request -> {
                    assertThat(request.headers().keySet()).noneMatch(name -> name.startsWith("x-amz-checksum-"));
                    assertThat(request.header("x-amz-trailer")).isNull();
                    assertThat(request.header("x-amz-sdk-checksum-algorithm")).isNull();
                });
        assertThat(requests.stream().filter(request -> request.operation().equals("DeleteObjects")))
                .isNotEmpty()
                .allSatisfy(request -> assertThat(request.header("content-md5")).isNotNull());

        // WHEN_SUPPORTED: the SDK's default, a CRC32 with every upload
        relay.clear();
        roundTrip(manager(Map.of("exchange.spool-compression-codec", "NONE", "exchange.s3.checksum-mode", "WHEN_SUPPORTED")), 8);
        assertThat(relay.requests().stream().filter(request -> List.of("PutObject", "UploadPart").contains(request.operation())))
                .isNotEmpty()
                .allSatisfy(request -> assertThat(request.header("x-amz-sdk-checksum-algorithm") != null
                        || request.header("x-amz-trailer") != null
                        || request.headers().keySet().stream().anyMatch(name -> name.startsWith("x-amz-checksum-")))
                        .as("checksum header on %s %s: %s", request.operation(), request.target(), request.headers())
                        .isTrue());
    }

    @Test
    public void testThrottledReadsAreRetriedAndCounted()
    {
        ExchangeManager manager = manager(Map.of());
        Predicate<FaultInjectingHttpProxy.Request> spoolReads = request -> (request.operation().equals("GetObject") && request.target().endsWith(".spool")) || (request.operation().equals("GetObject") && request.target().contains(".spool?"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        List<Slice> pages = randomPages(20, 10_000, 9);
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        write(sink, 0, pages);
        finish(sink);
        exchange.sinkFinished(task, 0);
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        long throttledBefore = stat("Throttled.TotalCount");
        long retriesBefore = stat("Retries.TotalCount");
        long getObjectsBefore = stat("GetObject.TotalCount");
        relay.clear();
        relay.throttle(spoolReads, 2);
        assertThat(readAll(manager, handles, finalSelector(exchange.getId(), Map.of(0, 0), 1))).containsExactlyElementsOf(pages);
        // the same read was answered 503 SlowDown twice (the SDK backs off before each retry), then served
        assertThat(relay.requests().stream().filter(spoolReads).count()).isEqualTo(3);
        assertThat(stat("Throttled.TotalCount") - throttledBefore).isEqualTo(2);
        assertThat(stat("Retries.TotalCount") - retriesBefore).isEqualTo(2);
        assertThat(stat("GetObject.TotalCount")).as("calls, not attempts").isEqualTo(relay.requests().stream().filter(request -> request.operation().equals("GetObject")).count() - 2 + getObjectsBefore);
        exchange.close();
    }

    @Test
    public void testThrottlingBeyondRetriesFailsTheRead()
    {
        // only the attempts count: no retry time on top
        ExchangeManager manager = manager(Map.of("exchange.s3.max-error-retries", "2", "exchange.s3.retry-mode", "STANDARD", "exchange.s3.retry-time", "0s"));
        Predicate<FaultInjectingHttpProxy.Request> spoolReads = request -> request.operation().equals("GetObject") && request.target().contains(".spool");
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        write(sink, 0, randomPages(5, 1000, 10));
        finish(sink);
        exchange.sinkFinished(task, 0);
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        relay.throttle(spoolReads, 100);
        assertThatThrownBy(() -> readAll(manager, handles, finalSelector(exchange.getId(), Map.of(0, 0), 1)))
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_STORAGE_ERROR"))
                .hasMessageContaining(".spool")
                .hasMessageContaining("503");
        // two attempts, as configured
        assertThat(relay.requests().stream().filter(spoolReads).count()).isEqualTo(2);
        relay.throttle(_ -> false, 0);
        exchange.close();
    }

    @Test
    public void testSecretKeyNeverLoggedNorInToString()
    {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
        Handler handler = new Handler()
        {
            private final SimpleFormatter formatter = new SimpleFormatter();

            @Override
            public void publish(LogRecord record)
            {
                capture.print(formatter.format(record));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        handler.setLevel(Level.ALL);
        Logger root = Logger.getLogger("");
        Level rootLevel = root.getLevel();
        root.addHandler(handler);
        // everything, debug output of the SDK and Netty included
        root.setLevel(Level.ALL);
        String managerText;
        String failure;
        try {
            ExchangeManager manager = manager(Map.of());
            roundTrip(manager, 11);
            managerText = manager.toString();
            // a configuration that fails to start, with the secret in it
            Map<String, String> bad = new HashMap<>(properties(Map.of()));
            bad.put("exchange.s3.upload.part-size", "1MB");
            failure = Assertions.catchThrowable(() -> ExchangeTestKit.filesystemFactory().create(bad, new ExchangeManagerContext() {})).toString();
        }
        finally {
            root.setLevel(rootLevel);
            root.removeHandler(handler);
        }
        String logs = captured.toString(StandardCharsets.UTF_8);
        // the capture works: the bootstrap's property table went through it, with the secret's row redacted
        assertThat(logs).contains("exchange.s3.aws-secret-key").contains("[REDACTED]").contains(S3ProxyServer.ACCESS_KEY);
        assertThat(logs).doesNotContain(S3ProxyServer.SECRET_KEY);
        assertThat(failure).contains("exchange.s3.upload.part-size").doesNotContain(S3ProxyServer.SECRET_KEY);
        assertThat(managerText).doesNotContain(S3ProxyServer.SECRET_KEY);
        S3SpoolStorage storage = storage();
        assertThat(storage.toString()).contains("StaticCredentialsProvider").doesNotContain(S3ProxyServer.SECRET_KEY);
        S3StorageConfig config = new S3StorageConfig().setAwsAccessKey(S3ProxyServer.ACCESS_KEY).setAwsSecretKey(S3ProxyServer.SECRET_KEY);
        assertThat(config.toString()).contains(S3ProxyServer.ACCESS_KEY).doesNotContain(S3ProxyServer.SECRET_KEY);
    }

    @Test
    public void testOperatorConfigurationsWorkUnchanged()
    {
        // Trino's documented AWS configuration, only pointed at the test server; credentials from the default chain
        withSystemProperties(Map.of("aws.accessKeyId", S3ProxyServer.ACCESS_KEY, "aws.secretAccessKey", S3ProxyServer.SECRET_KEY), () -> {
            roundTrip(operatorManager(Map.of(
                    "exchange-manager.name", "filesystem",
                    "exchange.base-directories", "s3://trino-exchange/spool",
                    "exchange.encryption-enabled", "true",
                    "exchange.s3.region", "ap-northeast-2",
                    "exchange.s3.endpoint", relay.endpoint().toString())), 12);
            assertThat(relay.requests()).allSatisfy(request -> assertThat(request.header("authorization")).contains("/ap-northeast-2/s3/aws4_request"));
            // two buckets and the engine's compression switch
            relay.clear();
            roundTrip(operatorManager(Map.of(
                    "exchange-manager.name", "filesystem",
                    "exchange.base-directories", "s3://trino-exchange-1/spool,s3://trino-exchange-2/spool",
                    "exchange.compression-enabled", "true",
                    "exchange.s3.endpoint", relay.endpoint().toString())), 13);
            assertThat(relay.requests().stream().map(request -> request.target().split("/")[1]).distinct())
                    .as("both buckets are used")
                    .contains("trino-exchange-1", "trino-exchange-2");
        });
        // GCS through its S3 interoperability API with an HMAC key, as in Trino's documentation, here without the
        // service-account key file (its JSON-API batch deletes: TestGcsConfiguration) and no application-default
        // credentials on this machine: deletes fall back to one S3 request per object
        relay.clear();
        roundTrip(operatorManager(Map.of(
                "exchange-manager.name", "filesystem",
                "exchange.base-directories", "gs://exchange-spooling-bucket",
                "exchange.s3.region", "us-west-1",
                "exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY,
                "exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY,
                "exchange.s3.endpoint", relay.endpoint().toString())), 14);
        Multiset<String> operations = operations();
        assertThat(operations.count("DeleteObject")).as("gs:// without GCS credentials deletes one object per request").isPositive();
        assertThat(operations.count("DeleteObjects")).as("GCS has no multi-object delete").isZero();
        assertThat(storedObjects()).isEmpty();
    }

    /**
     * Writes an exchange of two tasks, reads it back, closes it and waits until its objects are gone.
     */
    private void roundTrip(ExchangeManager manager, int seed)
    {
        Exchange exchange = ExchangeTestKit.createExchange(manager, 3, false);
        ExchangeSinkHandle task0 = exchange.addSink(0);
        ExchangeSinkHandle task1 = exchange.addSink(1);
        exchange.noMoreSinks();
        Map<Integer, List<Slice>> written = new HashMap<>();
        for (ExchangeSinkHandle task : List.of(task0, task1)) {
            ExchangeSink sink = createSink(manager, exchange, task, 0);
            for (int partition = 0; partition < 3; partition++) {
                // partition 0 of task 0 is large enough for a multipart upload
                List<Slice> pages = randomPages(task == task0 && partition == 0 ? 70 : 5, 100_000, seed * 100 + partition * 10 + (task == task0 ? 0 : 1));
                write(sink, partition, pages);
                written.computeIfAbsent(partition, _ -> new ArrayList<>()).addAll(pages);
            }
            finish(sink);
            exchange.sinkFinished(task, 0);
        }
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        for (int partition = 0; partition < 3; partition++) {
            int outputPartition = partition;
            assertThat(multiset(readAll(manager, handles.stream().filter(handle -> handle.getPartitionId() == outputPartition).toList(), finalSelector(exchange.getId(), Map.of(0, 0, 1, 0), 2))))
                    .isEqualTo(multiset(written.get(partition)));
        }
        exchange.close();
        awaitCondition(() -> storedObjects().isEmpty() && pendingUploads().isEmpty());
    }

    private static Multiset<Slice> multiset(List<Slice> slices)
    {
        return ImmutableMultiset.copyOf(slices);
    }

    private ExchangeManager manager(Map<String, String> extraProperties)
    {
        return operatorManager(properties(extraProperties));
    }

    private ExchangeManager operatorManager(Map<String, String> properties)
    {
        Map<String, String> withoutName = new HashMap<>(properties);
        // etc/exchange-manager.properties names the factory; Trino strips that line before handing the rest over
        withoutName.remove("exchange-manager.name");
        // the startup check's requests would mix with the requests the tests count (TestStartupCheck covers it)
        withoutName.putIfAbsent("exchange.startup-check", "OFF");
        withoutName.putIfAbsent("exchange.base-directory-probe-interval", "0s");
        ExchangeManager manager = ExchangeTestKit.filesystemFactory().create(withoutName, new ExchangeManagerContext() {});
        managers.add(manager);
        return manager;
    }

    private static Map<String, String> properties(Map<String, String> extraProperties)
    {
        Map<String, String> properties = new HashMap<>();
        properties.put("exchange.base-directories", "s3://" + BUCKET + "/spool");
        properties.put("exchange.s3.endpoint", relay.endpoint().toString());
        properties.put("exchange.s3.region", S3ProxyServer.REGION);
        properties.put("exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY);
        properties.put("exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY);
        properties.put("exchange.s3.path-style-access", "true");
        properties.putAll(extraProperties);
        return properties;
    }

    private S3SpoolStorage storage()
    {
        return storage(_ -> {});
    }

    private S3SpoolStorage storage(Consumer<S3StorageConfig> customization)
    {
        S3StorageConfig config = new S3StorageConfig()
                .setEndpoint(relay.endpoint().toString())
                .setRegion(S3ProxyServer.REGION)
                .setAwsAccessKey(S3ProxyServer.ACCESS_KEY)
                .setAwsSecretKey(S3ProxyServer.SECRET_KEY)
                .setPathStyleAccess(true);
        customization.accept(config);
        S3SpoolStorage storage = new S3SpoolStorage(config, S3Dialect.S3, new S3StorageStats(), S3BulkDeletes.none());
        closeables.add(storage);
        return storage;
    }

    private static Multiset<String> operations()
    {
        return relay.requests().stream().map(FaultInjectingHttpProxy.Request::operation).collect(ImmutableMultiset.toImmutableMultiset());
    }

    private static List<MultipartUpload> pendingUploads()
    {
        List<MultipartUpload> uploads = new ArrayList<>();
        for (String bucket : List.of(BUCKET, OTHER_BUCKET, "trino-exchange-1", "trino-exchange-2", "exchange-spooling-bucket")) {
            uploads.addAll(client.listMultipartUploads(request -> request.bucket(bucket)).uploads());
        }
        return uploads;
    }

    private static List<String> storedObjects()
    {
        List<String> objects = new ArrayList<>();
        for (String bucket : List.of(BUCKET, OTHER_BUCKET, "trino-exchange-1", "trino-exchange-2", "exchange-spooling-bucket")) {
            client.listObjectsV2Paginator(request -> request.bucket(bucket)).contents().forEach(object -> objects.add(bucket + "/" + object.key()));
        }
        return objects;
    }

    private static long stat(String attribute)
    {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            return ((Number) server.getAttribute(new ObjectName("io.spoolex:type=S3StorageStats,name=filesystem"), attribute)).longValue();
        }
        catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static List<Slice> randomPages(int count, int size, long seed)
    {
        Random random = new Random(seed);
        List<Slice> pages = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            pages.add(Slices.wrappedBuffer(bytes));
        }
        return pages;
    }

    private static byte[] randomBytes(int size, long seed)
    {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static <T> T awaitStorage(ListenableFuture<T> future)
    {
        try {
            return future.get(60, SECONDS);
        }
        catch (ExecutionException e) {
            throw new RuntimeException(e.getCause());
        }
        catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static void awaitSettled(ListenableFuture<?>... futures)
    {
        try {
            Futures.whenAllComplete(futures).call(() -> null, MoreExecutors.directExecutor()).get(60, SECONDS);
        }
        catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static void awaitCondition(BooleanSupplier condition)
    {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 30 s");
            }
            try {
                Thread.sleep(50);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeException(e);
            }
        }
    }
}
