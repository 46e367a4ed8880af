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
package io.spoolex.storage.gcs;

import com.google.cloud.NoCredentials;
import com.google.cloud.storage.StorageException;
import com.google.common.util.concurrent.ListenableFuture;
import io.airlift.bootstrap.Bootstrap;
import io.airlift.bootstrap.LifeCycleManager;
import io.airlift.slice.Slices;
import io.spoolex.SpoolexErrorCode;
import io.spoolex.config.BaseDirectories;
import io.spoolex.faults.FaultInjectingHttpProxy;
import io.spoolex.faults.FaultPlan;
import io.spoolex.faults.HttpFault;
import io.spoolex.metrics.SpoolexJmxModule;
import io.spoolex.storage.RequestFailure;
import io.spoolex.storage.SpoolFileReader;
import io.spoolex.storage.SpoolFileWriter;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.SpoolStorageModule;
import io.spoolex.storage.gcs.GcsHttpDialect.GcsOperation;
import io.trino.spi.TrinoException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the native mode sends to the GCS JSON API, recorded by a local stand-in ({@link GcsJsonApiServer}) that the
 * client's host points at (through the backend's test hook; no credentials): resumable uploads in 256 KiB-aligned
 * chunks that make the object only with the last one, nothing made by an aborted writer, one request for a small
 * file, 429 retried, batch deletes of at most 100 with a failed delete sent again alone, a missing object as
 * SPOOL_FILE_NOT_FOUND.
 */
public class TestGcsRequests
{
    private static final String BUCKET = "spoolex-requests";

    private GcsJsonApiServer server;
    private SpoolStorage storage;
    private LifeCycleManager lifeCycle;

    @BeforeEach
    public void start()
    {
        server = new GcsJsonApiServer();
        Started started = start(server.host(), "gcs-requests-test");
        storage = started.storage();
        lifeCycle = started.lifeCycle();
    }

    private record Started(SpoolStorage storage, LifeCycleManager lifeCycle)
            implements AutoCloseable
    {
        @Override
        public void close()
        {
            storage.close();
            lifeCycle.stop();
        }
    }

    /**
     * A native-mode storage whose client talks to {@code host} (the server, or a fault proxy in front of it).
     */
    private static Started start(String host, String name)
    {
        GcsStorageBackend backend = GcsStorageBackend.withServiceFactory(options -> options
                .setHost(host)
                .setCredentials(NoCredentials.getInstance())
                .setProjectId("spoolex-test")
                .build()
                .getService());
        SpoolStorageModule module = backend.module(BaseDirectories.parse(List.of("gs://" + BUCKET + "/spool"), backend.schemes(), "filesystem"));
        var injector = new Bootstrap("io.spoolex.storage.test", module, new SpoolexJmxModule(name))
                .doNotInitializeLogging()
                .disableSystemProperties()
                .setRequiredConfigurationProperties(Map.of("exchange.s3.max-error-retries", "3", "exchange.s3.retry-time", "2s"))
                .initialize();
        return new Started(injector.getInstance(SpoolStorage.class), injector.getInstance(LifeCycleManager.class));
    }

    @AfterEach
    public void stop()
    {
        storage.close();
        lifeCycle.stop();
        server.close();
    }

    @Test
    public void testResumableUploadSendsChunksAndMakesTheObjectLast()
            throws Exception
    {
        int chunk = GcsResumableWriter.CHUNK_BYTES;
        assertThat(chunk % (256 * 1024)).isZero();
        URI file = URI.create("gs://" + BUCKET + "/spool/streamed.spool");
        byte[] content = bytes(2 * chunk + 1000);
        SpoolFileWriter writer = storage.createFile(file);
        // as a sink writes: a list of small buffers per write
        await(writer.write(List.of(Slices.wrappedBuffer(content, 0, 300_000), Slices.wrappedBuffer(content, 300_000, chunk + 200 - 300_000))));
        await(writer.write(List.of(Slices.wrappedBuffer(content, chunk + 200, chunk + 800))));
        assertThat(server.objects()).as("nothing visible before finish").isEmpty();
        List<GcsJsonApiServer.Request> beforeFinish = server.requests();
        assertThat(beforeFinish.getFirst().describe()).startsWith("POST /upload/storage/v1/b/" + BUCKET + "/o?").contains("uploadType=resumable");
        assertThat(beforeFinish.stream().filter(request -> request.method().equals("PUT")).map(request -> request.contentRange().orElseThrow()))
                .containsExactly("bytes 0-%s/*".formatted(chunk - 1), "bytes %s-%s/*".formatted(chunk, 2 * chunk - 1));

        await(writer.finish());
        List<GcsJsonApiServer.Request> puts = server.requests().stream().filter(request -> request.method().equals("PUT")).toList();
        assertThat(puts.getLast().contentRange()).contains("bytes %s-%s/%s".formatted(2 * chunk, 2 * chunk + 999, content.length));
        assertThat(puts).allSatisfy(request -> assertThat(request.bodyBytes()).isLessThanOrEqualTo(chunk));
        assertThat(server.objects().get(BUCKET + "/spool/streamed.spool")).isEqualTo(content);
    }

    @Test
    public void testAbortedResumableUploadMakesNoObject()
            throws Exception
    {
        int chunk = GcsResumableWriter.CHUNK_BYTES;
        SpoolFileWriter writer = storage.createFile(URI.create("gs://" + BUCKET + "/spool/aborted.spool"));
        await(writer.write(List.of(Slices.wrappedBuffer(bytes(chunk + 10)))));
        await(writer.abort());
        assertThat(server.objects()).isEmpty();
        assertThat(server.requests()).noneMatch(request -> request.contentRange().map(range -> !range.endsWith("/*")).orElse(false));
    }

    @Test
    public void testSmallFileIsOneRequestAndThrottlingIsRetried()
            throws Exception
    {
        URI file = URI.create("gs://" + BUCKET + "/spool/small.spool");
        byte[] content = bytes(100_000);
        await(storage.putFile(file, List.of(Slices.wrappedBuffer(content, 0, 40_000), Slices.wrappedBuffer(content, 40_000, 60_000))));
        assertThat(server.requests()).extracting(GcsJsonApiServer.Request::method).containsExactly("POST");
        assertThat(server.requests().getFirst().query()).contains("uploadType=multipart");
        assertThat(server.objects().get(BUCKET + "/spool/small.spool")).isEqualTo(content);

        server.clear();
        server.failNext("POST", "/upload/", 429, 2);
        await(storage.putFile(URI.create("gs://" + BUCKET + "/spool/throttled.spool"), List.of(Slices.wrappedBuffer(content))));
        assertThat(server.requests()).hasSize(3);
        assertThat(server.objects().get(BUCKET + "/spool/throttled.spool")).isEqualTo(content);
        assertThat(await(storage.getFile(URI.create("gs://" + BUCKET + "/spool/throttled.spool"))).getBytes()).isEqualTo(content);
    }

    @Test
    public void testMissingObjectIsNotFoundNamingIt()
    {
        URI file = URI.create("gs://" + BUCKET + "/spool/missing.spool");
        assertThatThrownBy(() -> await(storage.getFile(file)))
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode()).isEqualTo(SpoolexErrorCode.SPOOL_FILE_NOT_FOUND.toErrorCode()))
                .hasMessageContaining(file.toString());
        try (SpoolFileReader reader = storage.openFile(file, 10)) {
            assertThatThrownBy(() -> await(reader.read(0, Slices.allocate(10))))
                    .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode()).isEqualTo(SpoolexErrorCode.SPOOL_FILE_NOT_FOUND.toErrorCode()))
                    .hasMessageContaining(file.toString());
        }
    }

    @Test
    public void testDeletesGoInBatchesOfAtMost100AndAFailedOneAlone()
            throws Exception
    {
        for (int i = 0; i < 250; i++) {
            server.putObject(BUCKET, "spool/task/%03d.spool".formatted(i), new byte[10]);
        }
        server.putObject(BUCKET, "spool/task-2/kept.spool", new byte[10]);
        // one delete answered 503 once: sent again, alone
        server.failNext("DELETE", "%2F007.spool", 503, 1);
        await(storage.deleteRecursively(List.of(URI.create("gs://" + BUCKET + "/spool/task/"))));
        assertThat(server.objects().keySet()).containsExactly(BUCKET + "/spool/task-2/kept.spool");
        List<GcsJsonApiServer.Request> requests = server.requests();
        List<GcsJsonApiServer.Request> batches = requests.stream().filter(request -> request.path().startsWith("/batch/")).toList();
        assertThat(batches).hasSize(4);
        List<GcsJsonApiServer.Request> deletes = requests.stream().filter(GcsJsonApiServer.Request::inBatch).toList();
        assertThat(deletes).hasSize(251).allSatisfy(request -> assertThat(request.method()).isEqualTo("DELETE"));
        assertThat(deletes.stream().filter(request -> request.path().endsWith("%2F007.spool"))).hasSize(2);
        assertThat(requests.stream().filter(request -> !request.inBatch() && request.method().equals("DELETE"))).as("no single deletes").isEmpty();
        // at most 100 deletes per batch request
        assertThat(deletes.stream().collect(Collectors.groupingBy(GcsJsonApiServer.Request::batch, Collectors.counting())).values())
                .hasSize(4)
                .allSatisfy(count -> assertThat(count).isLessThanOrEqualTo(GcsBatchDeleter.MAX_OPERATIONS));
    }

    @Test
    public void testRangedReadsOfTheCheckedGeneration()
            throws Exception
    {
        byte[] content = bytes(50_000);
        server.putObject(BUCKET, "spool/read.spool", content);
        try (SpoolFileReader reader = storage.openFile(URI.create("gs://" + BUCKET + "/spool/read.spool"), content.length)) {
            byte[] target = new byte[1000];
            await(reader.read(12_345, Slices.wrappedBuffer(target)));
            assertThat(target).isEqualTo(Arrays.copyOfRange(content, 12_345, 13_345));
        }
        List<GcsJsonApiServer.Request> requests = server.requests();
        assertThat(requests.getFirst().method()).isEqualTo("GET");
        assertThat(requests.getLast().query()).contains("alt=media").contains("generation=1");
        assertThat(requests.getLast().contentRange()).contains("bytes=12345-13344");
    }

    /**
     * A ranged answer that ends early but is well-framed (its Content-Length says so) is no short file: the object's
     * size was checked, so the read is sent again, not failed as a corrupt file.
     */
    @Test
    public void testShortRangedAnswerIsReadAgain()
            throws Exception
    {
        byte[] content = bytes(50_000);
        server.putObject(BUCKET, "spool/short.spool", content);
        try (FaultInjectingHttpProxy proxy = new FaultInjectingHttpProxy(URI.create(server.host()), GcsHttpDialect.GCS);
                Started throughProxy = start(proxy.endpoint().toString(), "gcs-requests-proxied-test")) {
            proxy.injectFaults(List.of(new FaultPlan.Rule(request -> GcsHttpDialect.operation(request) == GcsOperation.GET_MEDIA, 1.0, new HttpFault.ShortBody(0.5), 1)), 0);
            try (SpoolFileReader reader = throughProxy.storage().openFile(URI.create("gs://" + BUCKET + "/spool/short.spool"), content.length)) {
                byte[] target = new byte[10_000];
                await(reader.read(20_000, Slices.wrappedBuffer(target)));
                assertThat(target).isEqualTo(Arrays.copyOfRange(content, 20_000, 30_000));
            }
            assertThat(proxy.injectedFaults()).containsEntry("ShortBody", 1L);
            assertThat(proxy.requests().stream().filter(request -> GcsHttpDialect.operation(request) == GcsOperation.GET_MEDIA)).hasSize(2);
        }
    }

    /**
     * The library's own retries (a resumable upload's) take any failure without an answer as retryable, as Spoolex's
     * do: the JDK's "Error writing to server" during a short outage failed the session's start at once.
     */
    @Test
    public void testLibraryRetriesRequestsWithoutAnswer()
    {
        StorageException noAnswer = new StorageException(0, "Error writing to server", new IOException("Error writing to server"));
        assertThat(new GcsClients.AnswerlessRetried().getIdempotentHandler().shouldRetry(noAnswer, null)).isTrue();
        assertThat(new GcsClients.AnswerlessRetried().getNonidempotentHandler().shouldRetry(noAnswer, null)).isTrue();
        assertThat(GcsFailures.isAnswerless(new StorageException(0, "timeout", new SocketTimeoutException("Read timed out")))).isTrue();
        assertThat(GcsFailures.isAnswerless(new StorageException(403, "Forbidden"))).isFalse();
        assertThat(GcsFailures.isAnswerless(new StorageException(0, "interrupted", new InterruptedIOException()))).isFalse();
        assertThat(new GcsClients.AnswerlessRetried().getIdempotentHandler().shouldRetry(new StorageException(403, "Forbidden"), null)).isFalse();
    }

    /**
     * A read timeout is retried whether or not the library wrapped it: {@link SocketTimeoutException} is an
     * {@link InterruptedIOException}, and was once taken for an interruption (permanent) when it came unwrapped.
     */
    @Test
    public void testTimeoutWithoutStatusIsTransient()
    {
        assertThat(GcsFailures.classify(new SocketTimeoutException("Read timed out")).kind()).isEqualTo(RequestFailure.Kind.TRANSIENT);
        assertThat(GcsFailures.classify(new ExecutionException(new SocketTimeoutException("Read timed out"))).kind()).isEqualTo(RequestFailure.Kind.TRANSIENT);
        assertThat(GcsFailures.classify(new StorageException(0, "timeout", new SocketTimeoutException("Read timed out"))).kind()).isEqualTo(RequestFailure.Kind.TRANSIENT);
        assertThat(GcsFailures.classify(new IOException("Connection reset")).kind()).isEqualTo(RequestFailure.Kind.TRANSIENT);
        assertThat(GcsFailures.classify(new InterruptedIOException()).kind()).isEqualTo(RequestFailure.Kind.PERMANENT);
        assertThat(GcsFailures.classify(new StorageException(403, "Forbidden")).kind()).isEqualTo(RequestFailure.Kind.PERMANENT);
        assertThat(GcsFailures.classify(new StorageException(503, "Unavailable")).kind()).isEqualTo(RequestFailure.Kind.TRANSIENT);
    }

    private static byte[] bytes(int length)
    {
        byte[] bytes = new byte[length];
        new Random(length).nextBytes(bytes);
        return bytes;
    }

    private static <T> T await(ListenableFuture<T> future)
    {
        try {
            return future.get(60, TimeUnit.SECONDS);
        }
        catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new RuntimeException(e.getCause());
        }
        catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
