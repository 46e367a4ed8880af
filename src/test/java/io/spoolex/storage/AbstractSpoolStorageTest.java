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
package io.spoolex.storage;

import com.google.common.collect.ImmutableList;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.inject.Injector;
import io.airlift.bootstrap.Bootstrap;
import io.airlift.bootstrap.LifeCycleManager;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.SpoolexErrorCode;
import io.spoolex.config.BaseDirectories;
import io.spoolex.metrics.SpoolexJmxModule;
import io.trino.spi.TrinoException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static com.google.common.collect.ImmutableSet.toImmutableSet;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The {@link SpoolStorage} contract, run against every backend: a subclass starts the backend's server once and says
 * which properties point at it. The storage under test is built by the backend's own module, as the exchange manager
 * builds it, so its configuration, write limits and JMX beans are the ones users get.
 */
public abstract class AbstractSpoolStorageTest
{
    private static final long TIMEOUT_SECONDS = 60;

    private final List<TestingStorage> storages = new ArrayList<>();
    private TestingStorage storage;

    /**
     * The backend under test.
     */
    protected abstract SpoolStorageBackend backend();

    /**
     * Two base directories of the backend's server; the suite works below them.
     */
    protected abstract List<String> baseDirectories();

    /**
     * The backend's own properties of exchange-manager.properties (endpoint, credentials, ...), base directories excepted.
     */
    protected abstract Map<String, String> backendProperties();

    /**
     * Uploads started and neither completed nor aborted below the directory (S3 multipart uploads, for instance).
     */
    protected List<String> uploadsInProgress(URI directory)
    {
        return ImmutableList.of();
    }

    public record TestingStorage(SpoolStorage storage, StorageWriteLimits writeLimits, LifeCycleManager lifeCycle)
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
     * A storage built by the backend's module from the subclass's properties.
     */
    protected TestingStorage createStorage()
    {
        BaseDirectories directories = BaseDirectories.parse(baseDirectories(), backend().schemes(), "filesystem");
        SpoolStorageModule module = backend().module(directories);
        Injector injector = new Bootstrap("io.spoolex.storage.test", module, new SpoolexJmxModule("storage-test"))
                .doNotInitializeLogging()
                .disableSystemProperties()
                .setRequiredConfigurationProperties(backendProperties())
                .initialize();
        TestingStorage created = new TestingStorage(injector.getInstance(SpoolStorage.class), module.writeLimits(), injector.getInstance(LifeCycleManager.class));
        storages.add(created);
        return created;
    }

    @BeforeEach
    public void createStorageForTest()
    {
        storage = createStorage();
    }

    @AfterEach
    public void closeStorages()
    {
        storages.forEach(TestingStorage::close);
        storages.clear();
    }

    /**
     * A directory of its own below the first base directory (the second with {@code second}).
     */
    protected URI newDirectory(boolean second)
    {
        URI base = BaseDirectories.parse(baseDirectories(), backend().schemes(), "filesystem").uris().get(second ? 1 : 0);
        return base.resolve("storage-test-" + Long.toHexString(new Random().nextLong() & Long.MAX_VALUE) + "/");
    }

    private SpoolStorage storage()
    {
        return storage.storage();
    }

    private int writeBytes()
    {
        return storage.writeLimits().writeBytes();
    }

    @Test
    public void testPutFileIsVisibleCompleteOrNotAtAll()
            throws Exception
    {
        URI directory = newDirectory(false);
        URI file = directory.resolve("whole.spool");
        byte[] content = bytes(3 * writeBytes() + 12345, 1);
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> wrong = new AtomicReference<>();
        Thread observer = new Thread(() -> {
            while (!done.get()) {
                observe(file, content, wrong);
            }
        });
        observer.start();
        await(storage().putFile(file, split(content, 3)));
        done.set(true);
        observer.join();
        assertThat(wrong.get()).isNull();
        assertThat(Slices.wrappedBuffer(content).equals(await(storage().getFile(file)))).isTrue();
        assertListed(await(storage().listFiles(directory)), file, content.length);
        await(storage().deleteRecursively(List.of(directory)));
    }

    @Test
    public void testStreamedFileIsVisibleOnlyWhenFinished()
            throws Exception
    {
        URI directory = newDirectory(false);
        URI file = directory.resolve("streamed.spool");
        int writeBytes = writeBytes();
        // writes as a sink sends them: the write size, the write size and a block more, then a short last write
        byte[] content = bytes(writeBytes + (writeBytes + 300_000) + 4321, 2);
        SpoolFileWriter writer = storage().createFile(file);
        List<ListenableFuture<Void>> writes = new ArrayList<>();
        writes.add(writer.write(split(Slices.wrappedBuffer(content, 0, writeBytes), 2)));
        writes.add(writer.write(List.of(Slices.wrappedBuffer(content, writeBytes, writeBytes + 300_000))));
        writes.add(writer.write(List.of(Slices.wrappedBuffer(content, 2 * writeBytes + 300_000, 4321))));
        await(Futures.allAsList(writes));
        assertNotFound(() -> await(storage().getFile(file)), file);
        assertThat(names(await(storage().listFiles(directory)))).doesNotContain(file);

        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<String> wrong = new AtomicReference<>();
        Thread observer = new Thread(() -> {
            while (!done.get()) {
                observe(file, content, wrong);
            }
        });
        observer.start();
        await(writer.finish());
        done.set(true);
        observer.join();
        assertThat(wrong.get()).isNull();
        assertThat(Slices.wrappedBuffer(content).equals(await(storage().getFile(file)))).isTrue();
        assertListed(await(storage().listFiles(directory)), file, content.length);
        await(storage().deleteRecursively(List.of(directory)));
        assertThat(uploadsInProgress(directory)).isEmpty();
    }

    @Test
    public void testStreamedFileWithoutWritesIsEmpty()
    {
        URI directory = newDirectory(false);
        URI file = directory.resolve("empty.spool");
        SpoolFileWriter writer = storage().createFile(file);
        await(writer.finish());
        assertThat(await(storage().getFile(file)).length()).isZero();
        assertListed(await(storage().listFiles(directory)), file, 0);
        await(storage().deleteRecursively(List.of(directory)));
    }

    @Test
    public void testRangedReadsAtEveryBoundary()
    {
        URI directory = newDirectory(true);
        URI file = directory.resolve("ranges.spool");
        int readBytes = storage().readBufferSize();
        byte[] content = bytes(2 * readBytes + 1001, 3);
        await(storage().putFile(file, List.of(Slices.wrappedBuffer(content))));
        int length = content.length;
        List<long[]> ranges = List.of(
                new long[] {0, 1},
                new long[] {0, length},
                new long[] {length - 1, 1},
                new long[] {1, length - 1},
                new long[] {0, readBytes},
                new long[] {readBytes - 1, 2},
                new long[] {readBytes, readBytes},
                new long[] {readBytes + 1, readBytes},
                new long[] {2L * readBytes, length - 2L * readBytes},
                new long[] {length - 2, 2},
                new long[] {12345, 0});
        try (SpoolFileReader reader = storage().openFile(file, length)) {
            // all at once, completing in any order, each into the middle of a larger array
            List<ListenableFuture<Void>> reads = new ArrayList<>();
            List<byte[]> targets = new ArrayList<>();
            for (long[] range : ranges) {
                byte[] target = new byte[(int) range[1] + 20];
                Arrays.fill(target, (byte) 0x5A);
                targets.add(target);
                reads.add(reader.read(range[0], Slices.wrappedBuffer(target, 10, (int) range[1])));
            }
            await(Futures.allAsList(reads));
            for (int i = 0; i < ranges.size(); i++) {
                long position = ranges.get(i)[0];
                int rangeLength = (int) ranges.get(i)[1];
                byte[] target = targets.get(i);
                assertThat(Arrays.copyOfRange(target, 10, 10 + rangeLength))
                        .as("range %s+%s", position, rangeLength)
                        .isEqualTo(Arrays.copyOfRange(content, (int) position, (int) position + rangeLength));
                for (int j = 0; j < 10; j++) {
                    assertThat(target[j]).as("bytes before the range are untouched").isEqualTo((byte) 0x5A);
                    assertThat(target[target.length - 1 - j]).as("bytes after the range are untouched").isEqualTo((byte) 0x5A);
                }
            }
        }
        await(storage().deleteRecursively(List.of(directory)));
    }

    @Test
    public void testFileOfAnotherSizeIsCorruptedNamingIt()
    {
        URI directory = newDirectory(false);
        URI file = directory.resolve("sized.spool");
        byte[] content = bytes(100_000, 4);
        await(storage().putFile(file, List.of(Slices.wrappedBuffer(content))));
        for (long expected : new long[] {content.length + 1, content.length - 1, 2L * content.length}) {
            try (SpoolFileReader reader = storage().openFile(file, expected)) {
                assertThatThrownBy(() -> await(reader.read(0, Slices.allocate(10))))
                        .as("opened as %s bytes", expected)
                        .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode()).isEqualTo(SpoolexErrorCode.SPOOL_FILE_CORRUPTED.toErrorCode()))
                        .hasMessageContaining(file.toString());
            }
        }
        await(storage().deleteRecursively(List.of(directory)));
    }

    @Test
    public void testMissingFileIsNotFoundNamingIt()
    {
        URI file = newDirectory(false).resolve("missing.spool");
        assertNotFound(() -> await(storage().getFile(file)), file);
        try (SpoolFileReader reader = storage().openFile(file, 1000)) {
            assertNotFound(() -> await(reader.read(0, Slices.allocate(100))), file);
        }
        assertThat(await(storage().listFiles(file.resolve("./")))).isEmpty();
    }

    @Test
    public void testOverlappingDeletesAllSucceed()
    {
        for (int round = 0; round < 5; round++) {
            URI directory = newDirectory(round % 2 == 1);
            URI attempt = directory.resolve("0/");
            URI nested = attempt.resolve("deeper/");
            List<URI> files = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                URI parent = i % 3 == 0 ? directory : i % 3 == 1 ? attempt : nested;
                files.add(parent.resolve(i + "_0.spool"));
            }
            await(Futures.allAsList(files.stream().map(file -> storage().putFile(file, List.of(Slices.wrappedBuffer(bytes(1000, 5))))).toList()));
            // the task partition, one of its attempts and a directory inside that at once, twice each, as an
            // exchange's close and sinks' aborts may overlap
            List<ListenableFuture<Void>> deletes = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                deletes.add(storage().deleteRecursively(List.of(directory)));
                deletes.add(storage().deleteRecursively(List.of(attempt)));
                deletes.add(storage().deleteRecursively(List.of(nested, attempt)));
            }
            for (ListenableFuture<Void> delete : deletes) {
                await(delete);
            }
            assertThat(await(storage().listFiles(directory))).isEmpty();
            // and once more, when everything is gone, with a directory whose parent is gone too
            await(storage().deleteRecursively(List.of(directory, nested.resolve("never/"))));
        }
    }

    @Test
    public void testDeleteRemovesOnlyWhatIsBelowTheDirectory()
    {
        URI base = newDirectory(false);
        URI directory = base.resolve("task/");
        // a sibling whose name starts with the directory's: an object store's prefix must not take it along
        URI sibling = base.resolve("task-2/file.spool");
        URI inside = directory.resolve("0/file.spool");
        await(storage().putFile(sibling, List.of(Slices.wrappedBuffer(bytes(10, 6)))));
        await(storage().putFile(inside, List.of(Slices.wrappedBuffer(bytes(10, 7)))));
        await(storage().deleteRecursively(List.of(directory)));
        assertThat(names(await(storage().listFiles(base)))).containsExactly(sibling);
        await(storage().deleteRecursively(List.of(base)));
    }

    @Test
    public void testListingWhileDeleting()
    {
        URI directory = newDirectory(true);
        List<URI> files = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            files.add(directory.resolve((i % 4) + "/" + i + ".spool"));
        }
        await(Futures.allAsList(files.stream().map(file -> storage().putFile(file, List.of(Slices.wrappedBuffer(bytes(100, 8))))).toList()));
        ListenableFuture<Void> delete = storage().deleteRecursively(List.of(directory));
        List<ListenableFuture<List<SpoolFileStatus>>> listings = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            listings.add(storage().listFiles(directory));
        }
        for (ListenableFuture<List<SpoolFileStatus>> listing : listings) {
            assertThat(names(await(listing))).isSubsetOf(files);
        }
        await(delete);
        assertThat(await(storage().listFiles(directory))).isEmpty();
    }

    @Test
    public void testAbortedWritersLeaveNothing()
    {
        URI directory = newDirectory(false);
        int writeBytes = writeBytes();
        // aborted after its writes landed, with writes in flight, and before any write
        SpoolFileWriter written = storage().createFile(directory.resolve("written.spool"));
        await(written.write(List.of(Slices.wrappedBuffer(bytes(writeBytes, 9)))));
        await(written.write(List.of(Slices.wrappedBuffer(bytes(writeBytes, 10)))));
        await(written.abort());
        SpoolFileWriter inFlight = storage().createFile(directory.resolve("in-flight.spool"));
        var _ = inFlight.write(List.of(Slices.wrappedBuffer(bytes(writeBytes, 11))));
        var _ = inFlight.write(List.of(Slices.wrappedBuffer(bytes(writeBytes, 12))));
        await(inFlight.abort());
        SpoolFileWriter unwritten = storage().createFile(directory.resolve("unwritten.spool"));
        await(unwritten.abort());
        assertThat(await(storage().listFiles(directory))).isEmpty();
        assertThat(uploadsInProgress(directory)).isEmpty();
    }

    @Test
    public void testListDirectoriesIsOneLevel()
    {
        URI base = newDirectory(false);
        assertThat(await(storage().listDirectories(base))).isEmpty();
        await(storage().putFile(base.resolve("a/0/0_0.spool"), List.of(Slices.wrappedBuffer(bytes(10, 20)))));
        await(storage().putFile(base.resolve("a/1/manifest"), List.of(Slices.wrappedBuffer(bytes(10, 21)))));
        await(storage().putFile(base.resolve("b/0_0.spool"), List.of(Slices.wrappedBuffer(bytes(10, 22)))));
        // a file directly in the base directory is no directory
        await(storage().putFile(base.resolve("top.spool"), List.of(Slices.wrappedBuffer(bytes(10, 23)))));
        List<SpoolDirectoryStatus> directories = await(storage().listDirectories(base));
        assertThat(directories).extracting(SpoolDirectoryStatus::directory).containsExactlyInAnyOrder(base.resolve("a/"), base.resolve("b/"));
        assertThat(directories).extracting(SpoolDirectoryStatus::name).containsExactlyInAnyOrder("a", "b");
        // where directories have a time of their own, it is the time they were made (the collector judges age by it)
        for (SpoolDirectoryStatus directory : directories) {
            directory.lastModified().ifPresent(made -> assertThat(made).isBetween(Instant.now().minus(Duration.ofHours(1)), Instant.now().plus(Duration.ofHours(1))));
        }
        await(storage().deleteRecursively(List.of(base)));
        assertThat(await(storage().listDirectories(base))).isEmpty();
    }

    @Test
    public void testDeleteDirectoriesWithKnownContents()
    {
        URI directory = newDirectory(false);
        URI sibling = newDirectory(false);
        URI data = directory.resolve("0/0_0.spool");
        URI manifest = directory.resolve("0/manifest");
        URI unlistedAttempt = directory.resolve("1/");
        await(storage().putFile(data, List.of(Slices.wrappedBuffer(bytes(1000, 30)))));
        await(storage().putFile(manifest, List.of(Slices.wrappedBuffer(bytes(100, 31)))));
        await(storage().putFile(unlistedAttempt.resolve("0_0.spool"), List.of(Slices.wrappedBuffer(bytes(1000, 32)))));
        SpoolFileWriter unfinished = storage().createFile(unlistedAttempt.resolve("1_0.spool"));
        await(unfinished.write(List.of(Slices.wrappedBuffer(bytes(writeBytes(), 33)))));
        await(storage().putFile(sibling.resolve("0/0_0.spool"), List.of(Slices.wrappedBuffer(bytes(1000, 34)))));

        // a named file that is not there (never written, or already deleted) is no failure
        await(storage().deleteDirectories(List.of(new SpoolDirectoryContents(directory, List.of(data, manifest, directory.resolve("0/1_0.spool")), List.of(unlistedAttempt)))));
        assertThat(await(storage().listFiles(directory))).isEmpty();
        assertThat(uploadsInProgress(directory)).isEmpty();
        assertThat(names(await(storage().listFiles(sibling)))).containsExactly(sibling.resolve("0/0_0.spool"));
        // again, now that everything is gone
        await(storage().deleteDirectories(List.of(new SpoolDirectoryContents(directory, List.of(data, manifest), List.of(unlistedAttempt)))));
        await(storage().deleteRecursively(List.of(sibling)));
    }

    @Test
    public void testCloseWithWritesInFlight()
    {
        TestingStorage closing = createStorage();
        URI directory = newDirectory(false);
        int writeBytes = closing.writeLimits().writeBytes();
        List<String> operations = List.of("putFile", "first write of a streamed file", "second write of a streamed file", "deleteRecursively");
        List<ListenableFuture<Void>> pending = new ArrayList<>();
        pending.add(closing.storage().putFile(directory.resolve("put.spool"), List.of(Slices.wrappedBuffer(bytes(writeBytes, 13)))));
        SpoolFileWriter writer = closing.storage().createFile(directory.resolve("streamed.spool"));
        pending.add(writer.write(List.of(Slices.wrappedBuffer(bytes(writeBytes, 14)))));
        pending.add(writer.write(List.of(Slices.wrappedBuffer(bytes(writeBytes, 15)))));
        pending.add(closing.storage().deleteRecursively(List.of(newDirectory(true))));
        long start = System.nanoTime();
        closing.close();
        // every operation ends, one way or the other, and close does not hang on them
        for (int i = 0; i < pending.size(); i++) {
            try {
                pending.get(i).get(TIMEOUT_SECONDS, SECONDS);
            }
            catch (ExecutionException _) {
                // failing because the storage closed is fine
            }
            catch (TimeoutException e) {
                fail("an operation in flight at close never completed: " + operations.get(i));
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeException(e);
            }
        }
        assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start)).isLessThan(TIMEOUT_SECONDS);
        // what landed is removable by a storage opened later, and no upload stays open; a request the closed storage
        // had already sent may still land on the server after its future failed, so delete until nothing comes back
        long deadline = System.nanoTime() + SECONDS.toNanos(TIMEOUT_SECONDS);
        List<SpoolFileStatus> left;
        List<String> uploads;
        do {
            await(storage().deleteRecursively(List.of(directory)));
            left = await(storage().listFiles(directory));
            uploads = uploadsInProgress(directory);
        }
        while ((!left.isEmpty() || !uploads.isEmpty()) && System.nanoTime() < deadline && sleepBriefly());
        assertThat(left).isEmpty();
        assertThat(uploads).isEmpty();
    }

    private static boolean sleepBriefly()
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

    private void observe(URI file, byte[] content, AtomicReference<String> wrong)
    {
        try {
            Slice seen = await(storage().getFile(file));
            if (!seen.equals(Slices.wrappedBuffer(content))) {
                wrong.compareAndSet(null, "a reader saw %s of %s bytes, or other bytes".formatted(seen.length(), content.length));
            }
        }
        catch (TrinoException e) {
            if (!e.getErrorCode().equals(SpoolexErrorCode.SPOOL_FILE_NOT_FOUND.toErrorCode())) {
                wrong.compareAndSet(null, "a reader failed with " + e);
            }
        }
    }

    private static void assertNotFound(Runnable read, URI file)
    {
        assertThatThrownBy(read::run)
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode()).isEqualTo(SpoolexErrorCode.SPOOL_FILE_NOT_FOUND.toErrorCode()))
                .hasMessageContaining(file.toString());
    }

    /**
     * The listing shows just this file, its size, and a time of writing close to now (the collector of orphaned
     * spool data judges age by it; a store's clock may be off by a little).
     */
    private static void assertListed(List<SpoolFileStatus> files, URI file, long bytes)
    {
        assertThat(files).extracting(SpoolFileStatus::file, SpoolFileStatus::bytes).containsExactly(tuple(file, bytes));
        assertThat(files.getFirst().lastModified()).hasValueSatisfying(written -> assertThat(written).isBetween(Instant.now().minus(Duration.ofHours(1)), Instant.now().plus(Duration.ofHours(1))));
    }

    private static Set<URI> names(List<SpoolFileStatus> files)
    {
        return files.stream().map(SpoolFileStatus::file).collect(toImmutableSet());
    }

    protected static byte[] bytes(int length, long seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    private static List<Slice> split(byte[] content, int parts)
    {
        return split(Slices.wrappedBuffer(content), parts);
    }

    private static List<Slice> split(Slice content, int parts)
    {
        ImmutableList.Builder<Slice> slices = ImmutableList.builder();
        int offset = 0;
        for (int i = 0; i < parts; i++) {
            int end = i == parts - 1 ? content.length() : offset + content.length() / parts;
            slices.add(content.slice(offset, end - offset));
            offset = end;
        }
        return slices.build();
    }

    protected static <T> T await(ListenableFuture<T> future)
    {
        try {
            return future.get(TIMEOUT_SECONDS, SECONDS);
        }
        catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new RuntimeException(e.getCause());
        }
        catch (TimeoutException e) {
            throw new AssertionError("storage operation did not complete within %s s".formatted(TIMEOUT_SECONDS), e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }
}
