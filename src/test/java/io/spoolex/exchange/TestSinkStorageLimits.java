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

import com.google.common.collect.ImmutableList;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.SpoolexErrorCode;
import io.spoolex.storage.StorageWriteLimits;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.spoolex.exchange.ExchangeTestKit.await;
import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.readAll;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How a sink lives with its storage's write limits and failures, on local storage that declares the limits of the
 * test's choosing: aligned writes within size and count, limits it cannot meet refused at start, and the task's
 * first failure reported rather than the cleanup's.
 */
public class TestSinkStorageLimits
{
    private static final int KIB = 1024;
    private static final int MIB = 1024 * KIB;
    private static final String WRITE_SIZE = "test.write-size";

    @TempDir
    private Path directory;

    private final List<ExchangeManager> managers = new ArrayList<>();

    @AfterEach
    public void shutDown()
    {
        managers.forEach(ExchangeManager::shutdown);
        managers.clear();
    }

    @Test
    public void testWritesAreAlignedAndWithinSizeAndCount()
    {
        // a store that takes aligned writes of 1 MiB to 1.5 MiB, at most four per file
        StorageWriteLimits limits = new StorageWriteLimits(MIB, WRITE_SIZE, MIB, MIB + 512 * KIB, 4, 256 * KIB);
        RecordingStorageBackend backend = new RecordingStorageBackend(limits);
        // uncompressed, so that tiny pages with their 4-byte lengths take half again their size in storage
        ExchangeManager manager = manager(backend, Map.of("exchange.sink-max-file-size", "2MB", "exchange.max-page-storage-size", "512kB", "exchange.spool-compression-codec", "NONE"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, true);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        // partition 0: pages of many sizes; partition 1: tiny pages, whose 4-byte lengths take a file past the writes
        // the startup check reckoned with, so the sink must roll over on the count
        Random random = new Random(7);
        List<Slice> large = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            large.add(TestPages.page(0, 0, 0, i, 9 + random.nextInt(500 * KIB)));
        }
        List<Slice> tiny = new ArrayList<>();
        for (int i = 0; i < 250_000; i++) {
            byte[] bytes = new byte[8];
            random.nextBytes(bytes);
            tiny.add(Slices.wrappedBuffer(bytes));
        }
        write(sink, 0, large);
        write(sink, 1, tiny);
        ExchangeTestKit.finish(sink);
        exchange.sinkFinished(task, 0);

        assertThat(backend.writes()).isNotEmpty();
        long filesOfPartitionOne = backend.writes().keySet().stream().filter(file -> file.getPath().contains("/1_")).count();
        assertThat(filesOfPartitionOne).as("tiny pages rolled over on the write count").isGreaterThan(1);
        backend.writes().forEach((file, sizes) -> {
            assertThat(backend.finished()).contains(file);
            assertThat(sizes.size()).as("writes of %s", file).isLessThanOrEqualTo(limits.maxWritesPerFile());
            for (int i = 0; i < sizes.size() - 1; i++) {
                long size = sizes.get(i);
                assertThat(size % limits.writeAlignment()).as("write %s of %s (%s bytes) is aligned", i, file, size).isZero();
                assertThat(size).isBetween(limits.minWriteBytes(), limits.maxWriteBytes());
            }
            assertThat(sizes.getLast()).isLessThanOrEqualTo(limits.maxWriteBytes());
        });
        List<Slice> read = readAll(manager, sourceHandles(exchange), finalSelector(exchange.getId(), Map.of(0, 0), 1));
        List<Slice> expected = ImmutableList.<Slice>builder().addAll(large).addAll(tiny).build();
        assertThat(read).hasSize(expected.size());
        // order is kept within each partition; the two partitions come back one after the other
        List<Slice> readLarge = read.stream().filter(page -> page.length() != 8).toList();
        List<Slice> readTiny = read.stream().filter(page -> page.length() == 8).toList();
        assertThat(readLarge).containsExactlyElementsOf(large.stream().filter(page -> page.length() != 8).toList());
        assertThat(readTiny).containsExactlyElementsOf(tiny);
        exchange.close();
    }

    @Test
    public void testLimitsSinksCannotMeetAreRefusedAtStart()
    {
        // writes too small for the sink's memory rule (blocks of 256 KB: it needs writes of about 1 MB)
        assertRefused(new StorageWriteLimits(300 * KIB, WRITE_SIZE, 1, Integer.MAX_VALUE, Integer.MAX_VALUE, 1), Map.of(), "is too small for spool blocks");
        assertRefused(new StorageWriteLimits(2 * MIB, WRITE_SIZE, 4 * MIB, Integer.MAX_VALUE, Integer.MAX_VALUE, 1), Map.of(), "smaller than the smallest write the storage takes, 4MB");
        assertRefused(new StorageWriteLimits(2 * MIB, WRITE_SIZE, 1, 2 * MIB, Integer.MAX_VALUE, 1), Map.of(), "exceeds the largest write the storage takes, 2MB");
        assertRefused(new StorageWriteLimits(2 * MIB + 1, WRITE_SIZE, 1, Integer.MAX_VALUE, Integer.MAX_VALUE, 256 * KIB), Map.of(), "must be a multiple of 256kB");
        assertRefused(new StorageWriteLimits(2 * MIB, WRITE_SIZE, 1, Integer.MAX_VALUE, 100, 1), Map.of("exchange.sink-max-file-size", "1GB"), "exchange.sink-max-file-size (1GB) needs up to 529 writes");
    }

    @Test
    public void testFirstFailureIsReportedAndCleanupFailureSuppressed()
    {
        RecordingStorageBackend backend = new RecordingStorageBackend(StorageWriteLimits.unlimited(MIB));
        // a cleanup that fails is given up on at once (not retried in the background), so the counters can be read
        ExchangeManager manager = manager(backend, Map.of("exchange.cleanup-retry-time", "0s"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        TrinoException writeFailure = new TrinoException(SpoolexErrorCode.SPOOL_STORAGE_ERROR, "the write failed");
        RuntimeException deleteFailure = new RuntimeException("the cleanup failed too");
        backend.failWrites(writeFailure);
        backend.failDeletes(deleteFailure);
        write(sink, 0, List.of(TestPages.page(0, 0, 0, 0, 3 * MIB)));
        assertThatThrownBy(() -> await(sink.finish()))
                .isSameAs(writeFailure)
                .satisfies(failure -> assertThat(failure.getSuppressed()).containsExactly(deleteFailure));
        assertThat(((SpoolexExchangeManager) manager).getStats().getCleanupFailures().getTotalCount()).isEqualTo(1);

        // an abort has no failure of its own to report: the cleanup's is its failure
        ExchangeSink aborted = createSink(manager, exchange, task, 1);
        assertThatThrownBy(() -> await(aborted.abort())).isSameAs(deleteFailure);
        assertThat(((SpoolexExchangeManager) manager).getStats().getCleanupFailures().getTotalCount()).isEqualTo(2);
    }

    private void assertRefused(StorageWriteLimits limits, Map<String, String> properties, String message)
    {
        assertThatThrownBy(() -> manager(new RecordingStorageBackend(limits), properties))
                .hasMessageContaining("Invalid configuration")
                .hasMessageContaining(WRITE_SIZE)
                .hasMessageContaining(message);
    }

    private ExchangeManager manager(RecordingStorageBackend backend, Map<String, String> extraProperties)
    {
        Map<String, String> properties = new HashMap<>();
        properties.put("exchange.base-directories", directory.toUri().toString());
        properties.putAll(extraProperties);
        ExchangeManager manager = new SpoolexExchangeManagerFactory("filesystem", List.of(backend)).create(properties, new ExchangeManagerContext() {});
        managers.add(manager);
        return manager;
    }
}
