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

import com.google.common.util.concurrent.ListenableFuture;
import io.airlift.slice.Slices;
import io.spoolex.faults.FaultInjectingHttpProxy;
import io.spoolex.faults.FaultPlan.Rule;
import io.spoolex.faults.HttpFault;
import io.spoolex.storage.SpoolFileWriter;
import io.trino.spi.TrinoException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Closing the S3 storage with requests in flight, each one slowed down on the wire so that the close lands while
 * they are on their way (and parts chained on a CreateMultipartUpload start only after the clients are closed):
 * every future the storage handed out completes, succeeding or failing with a storage error, and nothing it
 * started stays in the bucket once a later storage deletes the directory.
 */
public class TestS3StorageClose
{
    private static final String BUCKET = "spoolex-close";
    private static final int PART_BYTES = 5 * 1024 * 1024;
    private static final long TIMEOUT_SECONDS = 60;

    private static S3Client client;
    private static FaultInjectingHttpProxy proxy;

    @BeforeAll
    public static void startProxy()
            throws IOException
    {
        S3ProxyServer server = S3ProxyServer.shared();
        client = server.createClient();
        S3ProxyServer.createBuckets(client, List.of(BUCKET));
        proxy = new FaultInjectingHttpProxy(server.endpoint(), S3HttpDialect.S3);
    }

    @AfterAll
    public static void stopProxy()
            throws IOException
    {
        if (proxy != null) {
            proxy.close();
        }
        if (client != null) {
            client.close();
        }
    }

    @RepeatedTest(3)
    public void testEveryFutureCompletesOnceClosed()
    {
        URI directory = URI.create("s3://%s/closing-%s/".formatted(BUCKET, System.nanoTime()));
        List<ListenableFuture<?>> pending = new ArrayList<>();
        proxy.injectFaults(List.of(Rule.any(1.0, new HttpFault.Delay(Duration.ofMillis(400)))), 14);
        S3SpoolStorage storage = storage();
        try {
            pending.add(storage.putFile(directory.resolve("put.spool"), List.of(Slices.allocate(1000))));
            SpoolFileWriter writer = storage.createFile(directory.resolve("streamed.spool"));
            // parts wait for the upload id, which arrives after the close began
            pending.add(writer.write(List.of(Slices.allocate(PART_BYTES))));
            pending.add(writer.write(List.of(Slices.allocate(PART_BYTES))));
            pending.add(storage.getFile(directory.resolve("put.spool")));
            pending.add(storage.listFiles(directory));
        }
        finally {
            storage.close();
            proxy.stopFaults();
        }
        for (ListenableFuture<?> future : pending) {
            try {
                future.get(TIMEOUT_SECONDS, SECONDS);
            }
            catch (ExecutionException e) {
                assertThat(e.getCause())
                        .isInstanceOfSatisfying(TrinoException.class, failure -> assertThat(failure.getErrorCode()).isEqualTo(SPOOL_STORAGE_ERROR.toErrorCode()));
            }
            catch (TimeoutException e) {
                fail("a future the storage handed out never completed after its close");
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeException(e);
            }
        }
        // a request sent before the close may still be held by the proxy's delay and reach S3 after this delete:
        // delete until nothing comes back
        long deadline = System.nanoTime() + SECONDS.toNanos(TIMEOUT_SECONDS);
        try (S3SpoolStorage later = storage()) {
            do {
                assertThat(later.deleteRecursively(List.of(directory))).succeedsWithin(TIMEOUT_SECONDS, SECONDS);
            }
            while (!stored(directory).isEmpty() && System.nanoTime() < deadline && pause());
        }
        assertThat(stored(directory)).isEmpty();
    }

    private static boolean pause()
    {
        try {
            Thread.sleep(200);
            return true;
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }

    @Test
    public void testRequestsAfterCloseFailAtOnce()
    {
        URI directory = URI.create("s3://%s/closed/".formatted(BUCKET));
        S3SpoolStorage storage = storage();
        storage.close();
        for (ListenableFuture<?> future : List.of(
                storage.putFile(directory.resolve("put.spool"), List.of(Slices.allocate(10))),
                storage.getFile(directory.resolve("put.spool")),
                storage.listFiles(directory),
                storage.deleteRecursively(List.of(directory)))) {
            assertThat(future.isDone()).isTrue();
            assertThatThrownBy(future::get)
                    .cause()
                    .isInstanceOf(TrinoException.class)
                    .hasMessageContaining("closed");
        }
        assertThatThrownBy(() -> storage.createFile(directory.resolve("streamed.spool")))
                .isInstanceOf(TrinoException.class)
                .hasMessageContaining("The S3 spool storage is closed");
    }

    private static S3SpoolStorage storage()
    {
        S3StorageConfig config = new S3StorageConfig()
                .setEndpoint(proxy.endpoint().toString())
                .setRegion(S3ProxyServer.REGION)
                .setAwsAccessKey(S3ProxyServer.ACCESS_KEY)
                .setAwsSecretKey(S3ProxyServer.SECRET_KEY)
                .setPathStyleAccess(true);
        return new S3SpoolStorage(config, S3Dialect.S3, new S3StorageStats(), S3BulkDeletes.none());
    }

    private static List<String> stored(URI directory)
    {
        S3Location location = S3Location.of(directory);
        List<String> items = new ArrayList<>();
        for (S3Object object : client.listObjectsV2Paginator(request -> request.bucket(BUCKET).prefix(location.directoryPrefix())).contents()) {
            items.add(object.key());
        }
        for (MultipartUpload upload : client.listMultipartUploads(request -> request.bucket(BUCKET).prefix(location.directoryPrefix())).uploads()) {
            items.add("upload " + upload.key());
        }
        return items;
    }
}
