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
package io.spoolex.storage.azure;

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.airlift.units.Duration;
import io.spoolex.SpoolexErrorCode;
import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.faults.FaultInjectingHttpProxy;
import io.spoolex.faults.FaultPlan;
import io.spoolex.faults.HttpFault;
import io.spoolex.storage.SpoolDirectoryContents;
import io.spoolex.storage.SpoolFileReader;
import io.spoolex.storage.SpoolFileStatus;
import io.spoolex.storage.SpoolFileWriter;
import io.spoolex.storage.SpoolStorage.StorageOperation;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.ExchangeManagerContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static com.google.common.collect.ImmutableList.toImmutableList;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.tuple;

/**
 * What the Azure backend sends and how it copes, at the request level: retries with backoff of throttling and server
 * errors and the error that names blob and status when they run out (through the fault proxy in front of Azurite,
 * which answers for it), blob batches of at most 256 on a flat account, the connection limits, and, against a recording
 * stand-in for the DFS endpoint Azurite lacks, the detection of a hierarchical namespace, its recursive delete and
 * listing, and the refusal of a mix.
 */
public class TestAzureStorage
{
    private static final String CONTAINER = "spoolex-requests";

    private static AzuriteServer server;
    private static FaultInjectingHttpProxy relay;
    private final List<AzureSpoolStorage> storages = new ArrayList<>();

    @BeforeAll
    public static void startServer()
            throws IOException
    {
        server = AzuriteServer.shared();
        server.createContainers(List.of(CONTAINER));
        relay = new FaultInjectingHttpProxy(server.blobEndpoint(), AzureHttpDialect.AZURE);
    }

    @AfterAll
    public static void stopRelay()
            throws IOException
    {
        if (relay != null) {
            relay.close();
        }
    }

    @BeforeEach
    public void closeStorages()
    {
        storages.forEach(AzureSpoolStorage::close);
        storages.clear();
        relay.stopFaults();
        relay.clear();
    }

    private AzureSpoolStorage storage(AzureStorageConfig config, AzureStorageStats stats, String... baseDirectories)
    {
        List<AzureLocation> locations = List.of(baseDirectories).stream().map(URI::create).map(AzureLocation::of).toList();
        AzureSpoolStorage storage = new AzureSpoolStorage(config, new AzureBaseDirectories(locations), stats);
        storages.add(storage);
        return storage;
    }

    private static AzureStorageConfig relayConfig(int maxErrorRetries)
    {
        return new AzureStorageConfig()
                .setConnectionString(AzuriteServer.connectionString(URI.create(relay.endpoint() + "/" + AzuriteServer.ACCOUNT)))
                .setMaxErrorRetries(maxErrorRetries)
                // the attempts alone bound the retries here
                .setRetryTime(new Duration(0, MILLISECONDS))
                .setRetryDelay(new Duration(10, MILLISECONDS))
                .setThrottledRetryDelay(new Duration(20, MILLISECONDS))
                .setMaxRetryDelay(new Duration(100, MILLISECONDS));
    }

    private static URI directory()
    {
        return URI.create("abfs://%s@%s.dfs.core.windows.net/requests/%s/".formatted(CONTAINER, AzuriteServer.ACCOUNT, Long.toHexString(new Random().nextLong() & Long.MAX_VALUE)));
    }

    private static String base()
    {
        return "abfs://%s@%s.dfs.core.windows.net/requests/".formatted(CONTAINER, AzuriteServer.ACCOUNT);
    }

    private static long count(AzureOperation operation)
    {
        return relay.requests().stream().filter(request -> AzureHttpDialect.operation(request) == operation).count();
    }

    @Test
    public void testThrottlingIsRetriedWithBackoff()
    {
        AzureStorageStats stats = new AzureStorageStats();
        AzureSpoolStorage storage = storage(relayConfig(4), stats, base());
        URI file = directory().resolve("throttled.spool");
        relay.answer(request -> AzureHttpDialect.operation(request) == AzureOperation.PUT_BLOB, 2, 503, "Server Busy", "ServerBusy");
        await(storage.putFile(file, List.of(Slices.wrappedBuffer(new byte[1000]))));
        assertThat(count(AzureOperation.PUT_BLOB)).isEqualTo(3);
        assertThat(stats.getRetries().getTotalCount()).isEqualTo(2);
        assertThat(stats.getThrottled().getTotalCount()).isEqualTo(2);
        assertThat(await(storage.getFile(file)).length()).isEqualTo(1000);

        // a range read answered 500 once, then served
        relay.answer(request -> AzureHttpDialect.operation(request) == AzureOperation.GET_BLOB, 1, 500, "Internal Server Error", "InternalError");
        try (SpoolFileReader reader = storage.openFile(file, 1000)) {
            await(reader.read(10, Slices.allocate(100)));
        }
        assertThat(stats.getServerErrors().getTotalCount()).isEqualTo(3);
    }

    @ParameterizedTest
    @ValueSource(ints = {429, 500, 503})
    public void testRetriesRunOutWithAnErrorNamingBlobAndStatus(int status)
    {
        AzureSpoolStorage storage = storage(relayConfig(3), new AzureStorageStats(), base());
        URI file = directory().resolve("failing.spool");
        relay.answer(request -> AzureHttpDialect.operation(request) == AzureOperation.PUT_BLOCK, 1000, status, "Failing", status == 429 ? "TooManyRequests" : "ServerBusy");
        SpoolFileWriter writer = storage.createFile(file);
        assertThatThrownBy(() -> await(writer.write(List.of(Slices.wrappedBuffer(new byte[5000])))))
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode()).isEqualTo(SpoolexErrorCode.SPOOL_STORAGE_ERROR.toErrorCode()))
                .hasMessageContaining(file.toString())
                .hasMessageContaining("%s %s, 3 attempts over".formatted(status, status == 429 ? "TooManyRequests" : "ServerBusy"))
                .hasMessageContaining("exchange.azure.max-error-retries=3, exchange.azure.retry-time=0s");
        // three attempts of the one request: max-error-retries counts attempts, as in Trino
        assertThat(count(AzureOperation.PUT_BLOCK)).isEqualTo(3);
        await(writer.abort());
        assertThat(count(AzureOperation.PUT_BLOCK_LIST)).isZero();
    }

    @Test
    public void testShortAnswersAreReadAgain()
    {
        AzureStorageStats stats = new AzureStorageStats();
        AzureSpoolStorage storage = storage(relayConfig(3), stats, base());
        URI directory = directory();
        URI file = directory.resolve("short.spool");
        byte[] content = new byte[10_000];
        new Random(7).nextBytes(content);
        await(storage.putFile(file, List.of(Slices.wrappedBuffer(content))));

        // a ranged read whose answer is well-framed but holds half its range: the blob has the right size, so the
        // answer was cut on the way, and the range is read again
        relay.setPlan(FaultPlan.firstN(request -> AzureHttpDialect.operation(request) == AzureOperation.GET_BLOB, 1, new HttpFault.ShortBody(0.5)));
        Slice target = Slices.allocate(4000);
        try (SpoolFileReader reader = storage.openFile(file, content.length)) {
            await(reader.read(1000, target));
        }
        assertThat(target.getBytes()).isEqualTo(Arrays.copyOfRange(content, 1000, 5000));
        assertThat(count(AzureOperation.GET_BLOB)).isEqualTo(2);

        // a listing cut off mid-document does not parse: listed again
        relay.clear();
        relay.setPlan(FaultPlan.firstN(request -> AzureHttpDialect.operation(request) == AzureOperation.LIST_BLOBS, 1, new HttpFault.ShortBody(0.6)));
        assertThat(names(await(storage.listFiles(directory)))).containsExactly(file.toString());
        assertThat(count(AzureOperation.LIST_BLOBS)).isEqualTo(2);
        assertThat(stats.getRetries().getTotalCount()).isEqualTo(2);
    }

    @Test
    public void testRefusedBatchSubrequestsAreSentAgain()
    {
        AzureStorageStats stats = new AzureStorageStats();
        AzureSpoolStorage storage = storage(relayConfig(5), stats, base());
        URI directory = directory();
        List<URI> files = new ArrayList<>();
        List<ListenableFuture<Void>> puts = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            URI file = directory.resolve(i + ".spool");
            files.add(file);
            puts.add(storage.putFile(file, List.of(Slices.wrappedBuffer(new byte[10]))));
        }
        await(Futures.allAsList(puts));
        relay.clear();
        // the first batch succeeds as a whole, with every sub-request refused as throttled: Azure deleted nothing
        relay.setPlan(FaultPlan.firstN(request -> AzureHttpDialect.operation(request) == AzureOperation.BLOB_BATCH, 1, new HttpFault.FailBatchSubrequests(1.0, HttpFault.ErrorKind.SLOW_DOWN)));
        await(storage.deleteDirectories(List.of(new SpoolDirectoryContents(directory, files, List.of()))));
        assertThat(relay.injectedFaults()).containsEntry("FailBatchSubrequests.refused", 20L);
        assertThat(count(AzureOperation.BLOB_BATCH)).isEqualTo(2);
        assertThat(stats.getDeletedBlobs().getTotalCount()).isEqualTo(20);
        assertThat(await(storage.listFiles(directory))).isEmpty();
    }

    @Test
    public void testClientErrorsAreNotRetried()
    {
        AzureSpoolStorage storage = storage(relayConfig(5), new AzureStorageStats(), base());
        URI file = directory().resolve("forbidden.spool");
        relay.answer(request -> AzureHttpDialect.operation(request) == AzureOperation.PUT_BLOB, 1000, 403, "Forbidden", "AuthorizationPermissionMismatch");
        assertThatThrownBy(() -> await(storage.putFile(file, List.of(Slices.wrappedBuffer(new byte[10])))))
                .isInstanceOf(TrinoException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("answered 403 AuthorizationPermissionMismatch");
        assertThat(count(AzureOperation.PUT_BLOB)).isEqualTo(1);
    }

    @Test
    public void testFlatDeleteUsesBatchesOfAtMost256()
    {
        AzureStorageStats stats = new AzureStorageStats();
        AzureSpoolStorage storage = storage(relayConfig(3), stats, base());
        URI directory = directory();
        List<ListenableFuture<Void>> puts = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            puts.add(storage.putFile(directory.resolve((i % 3) + "/" + i + ".spool"), List.of(Slices.wrappedBuffer(new byte[10]))));
        }
        await(Futures.allAsList(puts));
        relay.clear();
        await(storage.deleteRecursively(List.of(directory)));
        // 300 blobs take at least two batches (how many depends on the listing's pages, each split into batches)
        assertThat(count(AzureOperation.BLOB_BATCH)).isBetween(2L, 4L);
        assertThat(count(AzureOperation.DELETE_BLOB)).isZero();
        assertThat(stats.getDeletedBlobs().getTotalCount()).isEqualTo(300);
        assertThat(await(storage.listFiles(directory))).isEmpty();
    }

    @Test
    public void testConnectionLimit()
    {
        AzureStorageStats stats = new AzureStorageStats();
        AzureSpoolStorage storage = storage(relayConfig(3).setMaxConnections(1).setPendingAcquireMaxCount(100), stats, base());
        URI directory = directory();
        List<ListenableFuture<Void>> puts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            puts.add(storage.putFile(directory.resolve(i + ".spool"), List.of(Slices.wrappedBuffer(new byte[10_000]))));
        }
        await(Futures.allAsList(puts));
        assertThat(stats.getConnectionWaits().getTotalCount()).isPositive();
        assertThat(await(storage.listFiles(directory))).hasSize(10);
        await(storage.deleteRecursively(List.of(directory)));
    }

    @Test
    public void testConnectionSlots()
            throws Exception
    {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try {
            AzureStorageStats stats = new AzureStorageStats();
            ConnectionSlots slots = new ConnectionSlots(1, 1, 200, timer, stats);
            RecordingWaiter first = new RecordingWaiter();
            RecordingWaiter second = new RecordingWaiter();
            RecordingWaiter third = new RecordingWaiter();
            var _ = slots.acquire(first);
            assertThat(first.granted.get()).isEqualTo(1);
            var _ = slots.acquire(second);
            assertThat(second.granted.get()).isZero();
            // more than exchange.azure.pending-acquire-max-count waiting: refused at once, naming the property
            var _ = slots.acquire(third);
            assertThat(third.refused.get()).hasMessageContaining(AzureStorageConfig.PENDING_ACQUIRE_MAX_COUNT);
            slots.release();
            assertThat(second.granted.get()).isEqualTo(1);
            // a wait longer than exchange.azure.connection-acquisition-timeout fails with a timeout the SDK retries
            RecordingWaiter late = new RecordingWaiter();
            var _ = slots.acquire(late);
            long deadline = System.nanoTime() + SECONDS.toNanos(30);
            while (late.refused.get() == null && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(late.refused.get()).isInstanceOf(TimeoutException.class).hasMessageContaining(AzureStorageConfig.CONNECTION_ACQUISITION_TIMEOUT);
            // a withdrawn wait is never granted
            RecordingWaiter withdrawn = new RecordingWaiter();
            slots.acquire(withdrawn).run();
            slots.release();
            assertThat(withdrawn.granted.get()).isZero();
            assertThat(slots.inUse()).isZero();
            assertThat(slots.waiting()).isZero();
            assertThat(stats.getConnectionAcquireFailures().getTotalCount()).isEqualTo(2);
        }
        finally {
            timer.shutdownNow();
        }
    }

    private static final class RecordingWaiter
            implements ConnectionSlots.Waiter
    {
        private final AtomicInteger granted = new AtomicInteger();
        private final AtomicReference<Exception> refused = new AtomicReference<>();

        @Override
        public void granted()
        {
            granted.incrementAndGet();
        }

        @Override
        public void refused(Exception reason)
        {
            refused.set(reason);
        }
    }

    @Test
    public void testHierarchicalNamespaceIsDetectedAndDeletedRecursively()
    {
        try (AdlsRecordingServer adls = new AdlsRecordingServer()) {
            adls.addContainer("lake", true);
            adls.largeDirectory("lake", "spool/exchange-1");
            AzureStorageStats stats = new AzureStorageStats();
            AzureSpoolStorage storage = storage(new AzureStorageConfig().setConnectionString(adls.connectionString()).setMaxErrorRetries(1), stats, "abfss://lake@adlsaccount.dfs.core.windows.net/spool");
            assertThat(storage.namespace()).isEqualTo(AzureNamespace.HIERARCHICAL);
            // detection: Get Account Information on the container
            assertThat(adls.requests()).anySatisfy(request -> {
                assertThat(request.method()).isEqualTo("GET");
                assertThat(request.path()).isEqualTo("/adlsaccount/lake");
                assertThat(request.hasParameter("restype", "account")).isTrue();
                assertThat(request.hasParameter("comp", "properties")).isTrue();
            });
            adls.clear();

            await(storage.deleteRecursively(List.of(URI.create("abfss://lake@adlsaccount.dfs.core.windows.net/spool/exchange-1/"))));
            // one recursive Path - Delete of the directory, continued once as the service asked; no listing, no batch
            List<AdlsRecordingServer.Request> requests = adls.requests();
            assertThat(requests).hasSize(2);
            assertThat(requests).allSatisfy(request -> {
                assertThat(request.method()).isEqualTo("DELETE");
                assertThat(request.path()).isEqualTo("/adlsaccount/lake/spool/exchange-1");
                assertThat(request.hasParameter("recursive", "true")).isTrue();
                assertThat(AzureOperation.of(request.method(), request.query())).isEqualTo(AzureOperation.DELETE_PATH);
            });
            assertThat(requests.get(0).query()).doesNotContain("continuation=");
            assertThat(requests.get(1).hasParameter("continuation", "next-batch-of-paths")).isTrue();
            assertThat(stats.getDeletedDirectories().getTotalCount()).isEqualTo(1);
        }
    }

    @Test
    public void testHierarchicalListingSkipsDirectories()
    {
        try (AdlsRecordingServer adls = new AdlsRecordingServer()) {
            adls.addContainer("lake", true);
            adls.listing("lake", List.of(
                    Map.of("name", "spool/x/0", "isDirectory", "true", "contentLength", "0"),
                    Map.of("name", "spool/x/0/0_0.spool", "contentLength", "123"),
                    Map.of("name", "spool/x/0/manifest", "contentLength", "45"),
                    Map.of("name", "spool/x/1", "isDirectory", "true", "contentLength", "0"),
                    Map.of("name", "spool/x/1/1_0.spool", "contentLength", "6")));
            AzureSpoolStorage storage = storage(new AzureStorageConfig().setConnectionString(adls.connectionString()).setMaxErrorRetries(1), new AzureStorageStats(), "abfs://lake@adlsaccount.dfs.core.windows.net/spool");
            adls.clear();
            List<SpoolFileStatus> files = await(storage.listFiles(URI.create("abfs://lake@adlsaccount.dfs.core.windows.net/spool/x/")));
            assertThat(files).extracting(SpoolFileStatus::file, SpoolFileStatus::bytes).containsExactly(
                    tuple(URI.create("abfs://lake@adlsaccount.dfs.core.windows.net/spool/x/0/0_0.spool"), 123L),
                    tuple(URI.create("abfs://lake@adlsaccount.dfs.core.windows.net/spool/x/0/manifest"), 45L),
                    tuple(URI.create("abfs://lake@adlsaccount.dfs.core.windows.net/spool/x/1/1_0.spool"), 6L));
            // Path - List of the directory, recursive, page after page
            assertThat(adls.requests()).hasSize(3).allSatisfy(request -> {
                assertThat(AzureOperation.of(request.method(), request.query())).isEqualTo(AzureOperation.LIST_PATHS);
                assertThat(request.hasParameter("recursive", "true")).isTrue();
                assertThat(request.hasParameter("directory", "spool/x")).isTrue();
            });
        }
    }

    @Test
    public void testRootProbeWhenAccountInformationIsRefused()
    {
        try (AdlsRecordingServer adls = new AdlsRecordingServer()) {
            adls.addContainer("lake", true);
            adls.addContainer("flat", false);
            adls.refuseAccountInformation("lake");
            adls.refuseAccountInformation("flat");
            AzureStorageConfig config = new AzureStorageConfig().setConnectionString(adls.connectionString()).setMaxErrorRetries(1);
            assertThat(storage(config, new AzureStorageStats(), "abfs://lake@adlsaccount.dfs.core.windows.net/spool").namespace()).isEqualTo(AzureNamespace.HIERARCHICAL);
            assertThat(adls.requests()).anySatisfy(request -> {
                assertThat(request.method()).isEqualTo("HEAD");
                assertThat(request.path()).startsWith("/adlsaccount/lake/");
            });
            assertThat(storage(config, new AzureStorageStats(), "abfs://flat@adlsaccount.dfs.core.windows.net/spool").namespace()).isEqualTo(AzureNamespace.FLAT);
        }
    }

    @Test
    public void testMixOfNamespacesIsRefusedNamingTheDirectories()
    {
        try (AdlsRecordingServer adls = new AdlsRecordingServer()) {
            adls.addContainer("lake", true);
            adls.addContainer("flat", false);
            AzureStorageConfig config = new AzureStorageConfig().setConnectionString(adls.connectionString()).setMaxErrorRetries(1);
            assertThatThrownBy(() -> storage(config, new AzureStorageStats(), "abfs://lake@adlsaccount.dfs.core.windows.net/spool/", "abfs://flat@adlsaccount.dfs.core.windows.net/spool/"))
                    .isInstanceOf(TrinoException.class)
                    .hasMessageContaining("exchange.base-directories mixes directories on accounts with a hierarchical namespace (ADLS Gen2: [abfs://lake@adlsaccount.dfs.core.windows.net/spool/])")
                    .hasMessageContaining("and without ([abfs://flat@adlsaccount.dfs.core.windows.net/spool/])");
        }
    }

    @Test
    public void testFlatAccountOnAzuriteIsDetected()
    {
        assertThat(storage(relayConfig(3), new AzureStorageStats(), base()).namespace()).isEqualTo(AzureNamespace.FLAT);
        assertThat(count(AzureOperation.GET_ACCOUNT_INFORMATION)).isEqualTo(1);
    }

    @Test
    public void testStartupCheckNamesTheMissingPermission()
    {
        // writes refused as for an identity without a data role: the startup check (FAIL) stops the start, naming the
        // directory, the operation, Azure's error code and the permission
        relay.answer(request -> AzureHttpDialect.operation(request) == AzureOperation.PUT_BLOB, 1000, 403, "Forbidden", "AuthorizationPermissionMismatch");
        String directory = base() + "startup-check/";
        Map<String, String> properties = Map.of(
                "exchange.base-directories", directory,
                "exchange.azure.connection-string", AzuriteServer.connectionString(URI.create(relay.endpoint() + "/" + AzuriteServer.ACCOUNT)),
                "exchange.azure.max-error-retries", "1",
                "exchange.startup-check", "FAIL");
        assertThatThrownBy(() -> ExchangeTestKit.filesystemFactory().create(properties, new ExchangeManagerContext() {}).shutdown())
                .hasStackTraceContaining("write " + directory)
                .hasStackTraceContaining("Azure Storage AuthorizationPermissionMismatch (HTTP 403): the identity probably lacks write permission")
                .hasStackTraceContaining("Storage Blob Data Contributor");
    }

    @Test
    public void testDiagnoses()
    {
        AzureSpoolStorage storage = storage(relayConfig(1), new AzureStorageStats(), base());
        URI file = directory().resolve("diagnosed.spool");
        relay.answer(request -> AzureHttpDialect.operation(request) == AzureOperation.GET_BLOB, 1000, 403, "Forbidden", "AuthenticationFailed");
        Throwable refused = catchThrowable(() -> await(storage.getFile(file)));
        assertThat(storage.diagnose(StorageOperation.READ, file, refused))
                .startsWith("Azure Storage AuthenticationFailed (HTTP 403): the credentials are not accepted")
                .doesNotContain(AzuriteServer.ACCOUNT_KEY);
        relay.answer(request -> AzureHttpDialect.operation(request) == AzureOperation.LIST_BLOBS, 1000, 403, "Forbidden", "AuthorizationResourceTypeMismatch");
        Throwable listing = catchThrowable(() -> await(storage.listFiles(file.resolve("./"))));
        assertThat(storage.diagnose(StorageOperation.LIST, file, listing)).contains("AuthorizationResourceTypeMismatch (HTTP 403)").contains("srt=co");
        // a container that does not exist, on Azurite itself
        URI missing = URI.create("abfs://spoolex-no-such-container@%s.dfs.core.windows.net/spool/x.spool".formatted(AzuriteServer.ACCOUNT));
        Throwable notFound = catchThrowable(() -> await(storage.putFile(missing, List.of(Slices.wrappedBuffer(new byte[1])))));
        assertThat(storage.diagnose(StorageOperation.WRITE, missing, notFound)).startsWith("Azure Storage ContainerNotFound (HTTP 404): container spoolex-no-such-container does not exist");
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
        catch (TimeoutException e) {
            throw new AssertionError("storage operation did not complete within 60 s", e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }

    static List<String> names(List<SpoolFileStatus> files)
    {
        return files.stream().map(file -> file.file().toString()).collect(toImmutableList());
    }
}
