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
import java.nio.file.Files;
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
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).toList();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
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
        properties.putAll(extraProperties);
        ExchangeManager manager = new SpoolexExchangeManagerFactory("filesystem", List.of(backend)).create(properties, new ExchangeManagerContext() {});
        managers.add(manager);
        return manager;
    }
}
