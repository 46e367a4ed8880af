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
package io.spoolex.exchange;

import io.spoolex.metrics.SpoolexStats;
import io.spoolex.storage.SpoolDirectoryContents;
import io.spoolex.storage.StorageWriteLimits;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static io.spoolex.exchange.TestPages.page;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Cleanup that survives storage failures (SpoolCleaner): an exchange's close and an aborted sink delete again with
 * backoff while deletes fail, and, once {@code exchange.cleanup-retry-time} has passed or the manager shuts down,
 * what is left is logged naming every directory and counted.
 */
public class TestSpoolCleanup
{
    private static final int MIB = 1024 * 1024;

    @TempDir
    private Path directory;

    private final List<ExchangeManager> managers = new ArrayList<>();
    private final List<LogRecord> warnings = new CopyOnWriteArrayList<>();
    private final Logger cleanerLog = Logger.getLogger(SpoolCleaner.class.getName());
    private final Handler handler = new Handler()
    {
        @Override
        public void publish(LogRecord record)
        {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                warnings.add(record);
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    @BeforeEach
    public void captureLog()
    {
        cleanerLog.addHandler(handler);
    }

    @AfterEach
    public void shutDown()
    {
        managers.forEach(ExchangeManager::shutdown);
        managers.clear();
        cleanerLog.removeHandler(handler);
    }

    @Test
    public void testCloseRetriesUntilTheDataIsGone()
            throws Exception
    {
        RecordingStorageBackend backend = new RecordingStorageBackend(StorageWriteLimits.unlimited(MIB));
        ExchangeManager manager = manager(backend, Map.of("exchange.cleanup-retry-time", "1m"));
        Exchange exchange = writeTwoTasks(manager);
        assertThat(storedFiles()).isNotEmpty();

        backend.failDeletes(new IllegalStateException("storage is unavailable"));
        exchange.close();
        awaitTrue(() -> stats(manager).getCleanupRetries().getTotalCount() >= 2, "two failed rounds");
        assertThat(storedFiles()).as("nothing deleted while deletes fail").isNotEmpty();
        backend.failDeletes(null);
        awaitTrue(() -> storedFiles().isEmpty(), "the data is deleted once deletes work again");
        assertThat(stats(manager).getCleanupFailures().getTotalCount()).isZero();
        assertThat(stats(manager).getCleanupDirectoriesLeft().getTotalCount()).isZero();
        assertThat(warnings).isEmpty();
    }

    @Test
    public void testCloseNamesWhatCommittedAndListsOnlyWhatDidNot()
            throws Exception
    {
        RecordingStorageBackend backend = new RecordingStorageBackend(StorageWriteLimits.unlimited(MIB));
        ExchangeManager manager = manager(backend, Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
        ExchangeSinkHandle task0 = exchange.addSink(0);
        ExchangeSinkHandle task1 = exchange.addSink(1);
        exchange.noMoreSinks();
        // task 0: attempt 0 commits and wins, attempt 1 (speculative) commits later
        commit(manager, exchange, task0, 0, 2);
        // task 1: attempt 0 is killed (writes, never finishes nor aborts), attempt 1 commits
        ExchangeSink killed = createSink(manager, exchange, task1, 0);
        write(killed, 0, List.of(page(1, 0, 0, 0, 10_000)));
        commit(manager, exchange, task1, 1, 1);
        assertThat(ExchangeTestKit.sourceHandles(exchange)).isNotEmpty();
        commit(manager, exchange, task0, 1, 1);
        List<Path> taskDirectories = taskDirectories();
        assertThat(taskDirectories).hasSize(2);

        exchange.close();
        awaitTrue(() -> storedFiles().isEmpty(), "the exchange's data is deleted");
        assertThat(backend.deletedContents()).hasSize(2);
        Map<Integer, SpoolDirectoryContents> byTask = new HashMap<>();
        for (SpoolDirectoryContents contents : backend.deletedContents()) {
            String name = Path.of(contents.directory()).getFileName().toString();
            byTask.put(Integer.parseInt(name.substring(name.lastIndexOf('.') + 1)), contents);
        }
        URI directory0 = byTask.get(0).directory();
        URI directory1 = byTask.get(1).directory();
        // both attempts of task 0 by name (the later one's manifest read at close): two files and a manifest, one and a manifest
        assertThat(byTask.get(0).files()).containsExactlyInAnyOrder(
                directory0.resolve("0/0_0.spool"),
                directory0.resolve("0/1_0.spool"),
                directory0.resolve("0/manifest"),
                directory0.resolve("1/0_0.spool"),
                directory0.resolve("1/manifest"));
        assertThat(byTask.get(0).unlistedDirectories()).isEmpty();
        // task 1: the committed attempt by name, only the killed attempt's directory to list
        assertThat(byTask.get(1).files()).containsExactlyInAnyOrder(directory1.resolve("1/0_0.spool"), directory1.resolve("1/manifest"));
        assertThat(byTask.get(1).unlistedDirectories()).containsExactly(directory1.resolve("0/"));
        assertThat(killed.abort()).succeedsWithin(30, SECONDS);
    }

    @Test
    public void testAbortedSinkDeletesWhatItStartedByName()
            throws Exception
    {
        RecordingStorageBackend backend = new RecordingStorageBackend(StorageWriteLimits.unlimited(MIB));
        ExchangeManager manager = manager(backend, Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        // one partition's file streamed (more than a write buffer), the other's waiting in memory
        write(sink, 0, List.of(page(0, 0, 0, 0, 3 * MIB)));
        write(sink, 1, List.of(page(0, 0, 1, 0, 10_000)));
        assertThat(sink.abort()).succeedsWithin(30, SECONDS);
        assertThat(storedFiles()).isEmpty();
        URI attempt = backend.deletedContents().getFirst().directory();
        assertThat(backend.deletedContents()).singleElement().satisfies(contents -> {
            assertThat(contents.unlistedDirectories()).isEmpty();
            assertThat(contents.files()).containsExactlyInAnyOrder(attempt.resolve("0_0.spool"), attempt.resolve("1_0.spool"), attempt.resolve("manifest"));
        });
        exchange.close();
    }

    private static void commit(ExchangeManager manager, Exchange exchange, ExchangeSinkHandle task, int attempt, int files)
    {
        ExchangeSink sink = createSink(manager, exchange, task, attempt);
        for (int partition = 0; partition < files; partition++) {
            write(sink, partition, List.of(page(0, attempt, partition, 0, 10_000)));
        }
        finish(sink);
        exchange.sinkFinished(task, attempt);
    }

    @Test
    public void testGivingUpLogsAndCountsEveryDirectoryLeft()
            throws Exception
    {
        RecordingStorageBackend backend = new RecordingStorageBackend(StorageWriteLimits.unlimited(MIB));
        ExchangeManager manager = manager(backend, Map.of("exchange.cleanup-retry-time", "2s"));
        Exchange exchange = writeTwoTasks(manager);
        List<Path> taskDirectories = taskDirectories();
        assertThat(taskDirectories).hasSize(2);

        backend.failDeletes(new IllegalStateException("storage is unavailable"));
        exchange.close();
        awaitTrue(() -> stats(manager).getCleanupFailures().getTotalCount() == 1, "the cleanup is given up on");
        assertThat(backend.deleteCalls()).as("tried more than once per directory").isGreaterThan(2);
        assertThat(stats(manager).getCleanupDirectoriesLeft().getTotalCount()).isEqualTo(2);
        assertThat(warnings).singleElement().satisfies(warning -> {
            String message = warning.getMessage();
            assertThat(message).contains("Gave up deleting the spool data of exchange " + exchange.getId().getId());
            assertThat(message).contains("2 directories left in storage");
            for (Path taskDirectory : taskDirectories) {
                assertThat(message).contains(taskDirectory + "/");
            }
            assertThat(warning.getThrown()).hasMessage("storage is unavailable");
        });
    }

    @Test
    public void testAbortedSinkRetriesInTheBackground()
            throws Exception
    {
        RecordingStorageBackend backend = new RecordingStorageBackend(StorageWriteLimits.unlimited(MIB));
        ExchangeManager manager = manager(backend, Map.of("exchange.cleanup-retry-time", "1m"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        // more than a write buffer, so that a file is streamed when the sink aborts
        write(sink, 0, List.of(page(0, 0, 0, 0, 3 * MIB)));
        backend.failDeletes(new IllegalStateException("storage is unavailable"));
        // the abort reports its first round's failure at once instead of waiting for the retries
        assertThat(sink.abort()).failsWithin(30, SECONDS);
        List<Path> attemptDirectories = attemptDirectories();
        assertThat(attemptDirectories).as("the attempt's directory is still there").hasSize(1);
        backend.failDeletes(null);
        awaitTrue(() -> attemptDirectories().isEmpty(), "the attempt's directory is deleted in the background");
        assertThat(stats(manager).getCleanupRetries().getTotalCount()).isPositive();
        assertThat(stats(manager).getCleanupFailures().getTotalCount()).isZero();
        exchange.close();
    }

    @Test
    public void testShutdownRecordsWhatIsLeft()
            throws Exception
    {
        RecordingStorageBackend backend = new RecordingStorageBackend(StorageWriteLimits.unlimited(MIB));
        ExchangeManager manager = manager(backend, Map.of("exchange.cleanup-retry-time", "1h"));
        Exchange exchange = writeTwoTasks(manager);
        backend.failDeletes(new IllegalStateException("storage is unavailable"));
        exchange.close();
        awaitTrue(() -> stats(manager).getCleanupRetries().getTotalCount() >= 1, "a failed round");
        SpoolexStats stats = stats(manager);
        long start = System.nanoTime();
        manager.shutdown();
        managers.remove(manager);
        assertThat((System.nanoTime() - start) / 1e9).as("shutdown does not wait for retries still to come").isLessThan(10);
        assertThat(stats.getCleanupFailures().getTotalCount()).isEqualTo(1);
        assertThat(stats.getCleanupDirectoriesLeft().getTotalCount()).isEqualTo(2);
        assertThat(warnings).singleElement().satisfies(warning -> assertThat(warning.getMessage()).contains("2 directories left in storage"));
    }

    private Exchange writeTwoTasks(ExchangeManager manager)
    {
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
        ExchangeSinkHandle task0 = exchange.addSink(0);
        ExchangeSinkHandle task1 = exchange.addSink(1);
        exchange.noMoreSinks();
        for (ExchangeSinkHandle task : List.of(task0, task1)) {
            ExchangeSink sink = createSink(manager, exchange, task, 0);
            write(sink, 0, List.of(page(0, 0, 0, 0, 10_000), page(0, 0, 0, 1, 20_000)));
            write(sink, 1, List.of(page(0, 0, 1, 0, 10_000)));
            finish(sink);
        }
        return exchange;
    }

    private List<Path> storedFiles()
    {
        while (true) {
            try (Stream<Path> files = Files.walk(directory)) {
                return files.filter(Files::isRegularFile).toList();
            }
            catch (UncheckedIOException e) {
                // a directory deleted by the cleanup while the walk went through it: walk again
                if (!(e.getCause() instanceof NoSuchFileException)) {
                    throw e;
                }
            }
            catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private List<Path> attemptDirectories()
    {
        try (Stream<Path> entries = Files.walk(directory, 2)) {
            return entries.filter(path -> Files.isDirectory(path) && directory.relativize(path).getNameCount() == 2).toList();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private List<Path> taskDirectories()
            throws IOException
    {
        try (Stream<Path> children = Files.list(directory)) {
            return children.filter(Files::isDirectory).sorted().toList();
        }
    }

    private static SpoolexStats stats(ExchangeManager manager)
    {
        return ((SpoolexExchangeManager) manager).getStats();
    }

    private static void awaitTrue(BooleanSupplier condition, String what)
            throws InterruptedException
    {
        long deadline = System.nanoTime() + SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(50);
        }
    }

    private ExchangeManager manager(RecordingStorageBackend backend, Map<String, String> extraProperties)
    {
        Map<String, String> properties = new HashMap<>();
        properties.put("exchange.base-directories", directory.toUri().toString());
        // the startup check's probe deletes would mix with the deletes these tests count and fail
        properties.put("exchange.startup-check", "OFF");
        properties.put("exchange.base-directory-probe-interval", "0s");
        properties.putAll(extraProperties);
        ExchangeManager manager = new SpoolexExchangeManagerFactory("filesystem", List.of(backend)).create(properties, new ExchangeManagerContext() {});
        managers.add(manager);
        return manager;
    }
}
