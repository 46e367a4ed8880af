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

import com.google.common.collect.HashMultiset;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.Multiset;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.format.SpoolFileFormat;
import io.spoolex.metrics.SpoolexStats;
import io.trino.spi.QueryId;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeId;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeManagerFactory;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSource;
import io.trino.spi.exchange.ExchangeSourceHandle;
import io.trino.spi.exchange.ExchangeSourceOutputSelector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import static io.spoolex.exchange.ExchangeTestKit.await;
import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.readAll;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static io.spoolex.exchange.TestPages.page;
import static io.trino.spi.ErrorType.USER_ERROR;
import static java.lang.Math.toIntExact;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The exchange protocol's contract, run against each storage backend by a subclass that starts the backend and
 * says how to look at what is stored. Every test goes through the SPI only, as the engine does.
 */
public abstract class AbstractExchangeContractTest
{
    private final List<ExchangeManager> managers = new ArrayList<>();

    /**
     * Properties that point the exchange manager at two base directories of the backend under test.
     */
    protected abstract Map<String, String> storageProperties();

    /**
     * Every file stored below the base directories, as URIs.
     */
    protected abstract List<URI> listStoredFiles();

    protected abstract byte[] readStoredFile(URI file);

    protected abstract void writeStoredFile(URI file, byte[] content);

    protected abstract void deleteStoredFile(URI file);

    /**
     * Spool format settings the suite runs with; the defaults (LZ4 and encryption on) unless overridden.
     */
    protected Map<String, String> formatProperties()
    {
        return Map.of();
    }

    /**
     * The exchange manager factory under test: {@code filesystem} unless overridden.
     */
    protected ExchangeManagerFactory exchangeManagerFactory()
    {
        return ExchangeTestKit.filesystemFactory();
    }

    protected ExchangeManager createManager(Map<String, String> extraProperties)
    {
        Map<String, String> properties = new HashMap<>(storageProperties());
        // the startup check's probe objects would show among the stored files the tests look at (TestStartupCheck
        // covers it)
        properties.put("exchange.startup-check", "OFF");
        // and so would the later probes' (a retry asks for one); the health tests below turn them on
        properties.put("exchange.base-directory-probe-interval", "0s");
        // a sweep would add its listings to the requests some tests count; the collector's own test turns it on
        properties.put("exchange.cleanup.orphan-age", "0s");
        properties.putAll(formatProperties());
        properties.putAll(extraProperties);
        ExchangeManager manager = exchangeManagerFactory().create(properties, new ExchangeManagerContext() {});
        managers.add(manager);
        return manager;
    }

    /**
     * Removes what a test left in storage; called after the test's exchange managers have shut down.
     */
    protected abstract void cleanUpStorage();

    @AfterEach
    public void shutDownManagers()
    {
        managers.forEach(ExchangeManager::shutdown);
        managers.clear();
        cleanUpStorage();
    }

    @Test
    public void testOrphanCollectorDeletesOnlyOldSpoolDataOfNoOpenExchange()
            throws Exception
    {
        Map<String, String> collector = Map.of("exchange.cleanup.orphan-age", "4s", "exchange.cleanup.orphan-sweep-interval", "1h");
        // a coordinator that dies: its exchanges are never closed
        ExchangeManager dead = createManager(collector);
        ExchangeManager live = createManager(collector);
        String orphaned = writeUnclosedExchange(dead, Instant.now(), 2);
        String open = writeUnclosedExchange(live, Instant.now(), 1);
        URI someFile = listStoredFiles().getFirst();
        // {base}/{task partition directory}/{attempt}/{file}
        URI base = someFile.resolve("../../");
        List<URI> foreign = List.of(
                base.resolve("backup/0/0_0.spool"),
                base.resolve("0a1b2c.20200101_000000_00001_abcde.external-exchange-1.0.bak/0/0_0.spool"),
                base.resolve("notes.txt"));
        for (URI file : foreign) {
            writeStoredFile(file, new byte[] {1, 2, 3});
        }
        Thread.sleep(5_000);
        // written just now: young by the query's time and by the files' time
        String young = writeUnclosedExchange(dead, Instant.now(), 1);
        // a query of three days ago (on another cluster, say) that still writes: old by its name, young by its files
        String stillWritten = writeUnclosedExchange(dead, Instant.now().minus(Duration.ofDays(3)), 1);

        OrphanCollector.SweepResult result = ((SpoolexExchangeManager) live).getOrphanCollector().orElseThrow().sweep();
        List<URI> stored = listStoredFiles();
        assertThat(stored).noneMatch(file -> file.toString().contains("." + orphaned + "."));
        for (String kept : List.of(open, young, stillWritten)) {
            assertThat(stored).anyMatch(file -> file.toString().contains("." + kept + "."));
        }
        assertThat(stored).containsAll(foreign);
        assertThat(result.deleted()).isEqualTo(2);
        assertThat(result.open()).isEqualTo(1);
        assertThat(result.young()).isEqualTo(2);
        assertThat(result.found()).isEqualTo(5);
        assertThat(result.failures()).isZero();
        assertThat(result.bytesDeleted()).isPositive();
        SpoolexStats stats = ((SpoolexExchangeManager) live).getStats();
        assertThat(stats.getOrphanDirectoriesDeleted().getTotalCount()).isEqualTo(2);
        assertThat(stats.getOrphanSweeps().getTotalCount()).isEqualTo(1);
    }

    /**
     * An exchange of a query created at {@code queryTime}, with committed tasks, never closed.
     *
     * @return its query id
     */
    private String writeUnclosedExchange(ExchangeManager manager, Instant queryTime, int tasks)
    {
        String queryId = DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss", Locale.ROOT).withZone(ZoneOffset.UTC).format(queryTime)
                + "_%05d_%05x".formatted(ThreadLocalRandom.current().nextInt(100_000), ThreadLocalRandom.current().nextInt(0x10000, 0xFFFFF));
        Exchange exchange = manager.createExchange(new ExchangeTestKit.TestingExchangeContext(new QueryId(queryId), new ExchangeId("external-exchange-1")), 2, false);
        for (int task = 0; task < tasks; task++) {
            ExchangeSinkHandle sinkHandle = exchange.addSink(task);
            writeAttempt(manager, exchange, sinkHandle, task, 0, 2, 1, 1000);
            exchange.sinkFinished(sinkHandle, 0);
        }
        exchange.noMoreSinks();
        return queryId;
    }

    @Test
    public void testRetriesGoToAnotherBaseDirectoryAndCloseDeletesEveryAttempt()
            throws InterruptedException
    {
        ExchangeManager manager = createManager(Map.of());
        List<URI> bases = baseDirectories(manager);
        assertThat(bases).as("the suite runs with two base directories").hasSize(2);
        int tasks = 4;
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
        List<ExchangeSinkHandle> sinkHandles = new ArrayList<>();
        for (int task = 0; task < tasks; task++) {
            sinkHandles.add(exchange.addSink(task));
        }
        exchange.noMoreSinks();
        Set<Integer> firstBases = new HashSet<>();
        List<ExchangeSink> killed = new ArrayList<>();
        for (int task = 0; task < tasks; task++) {
            // attempt 0 writes and dies (never finishes nor aborts), attempt 1 fails and aborts, attempt 2 commits
            SpoolexSinkInstanceHandle first = instantiate(exchange, sinkHandles.get(task), 0);
            ExchangeSink dead = manager.createSink(first);
            write(dead, 0, pages(task, 0, 0, 3, 1000));
            killed.add(dead);
            SpoolexSinkInstanceHandle second = instantiate(exchange, sinkHandles.get(task), 1);
            ExchangeSink aborted = manager.createSink(second);
            write(aborted, 1, pages(task, 1, 1, 3, 1000));
            await(aborted.abort());
            SpoolexSinkInstanceHandle third = instantiate(exchange, sinkHandles.get(task), 2);
            int base0 = baseIndex(bases, first);
            int base1 = baseIndex(bases, second);
            firstBases.add(base0);
            assertThat(base1).as("the retry of task %s goes to the other base directory", task).isNotEqualTo(base0);
            assertThat(baseIndex(bases, third)).as("the second retry goes to the directory used least recently").isEqualTo(base0);
            ExchangeSink committed = manager.createSink(third);
            for (int partition = 0; partition < 2; partition++) {
                write(committed, partition, pages(task, 2, partition, 5, 1000));
            }
            finish(committed);
            exchange.sinkFinished(sinkHandles.get(task), 2);
        }
        assertThat(firstBases).as("first attempts go round-robin").hasSize(2);
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        ExchangeSourceOutputSelector selector = finalSelector(exchange.getId(), Map.of(0, 2, 1, 2, 2, 2, 3, 2), tasks);
        for (int partition = 0; partition < 2; partition++) {
            int outputPartition = partition;
            Multiset<Slice> expected = HashMultiset.create();
            for (int task = 0; task < tasks; task++) {
                expected.addAll(pages(task, 2, partition, 5, 1000));
            }
            assertThat(HashMultiset.create(readAll(manager, handles.stream().filter(handle -> handle.getPartitionId() == outputPartition).toList(), selector))).isEqualTo(expected);
        }
        assertThat(listStoredFiles()).anyMatch(file -> SpoolLayout.isIn(bases.get(0), file))
                .anyMatch(file -> SpoolLayout.isIn(bases.get(1), file));
        // the dead attempts' files, the committed attempts' files, in both base directories
        exchange.close();
        awaitNoStoredFiles();
        killed.forEach(sink -> await(sink.abort()));
    }

    @Test
    public void testNewAttemptsAvoidAnUnhealthyBaseDirectoryUntilAProbePassesAgain()
            throws InterruptedException
    {
        ExchangeManager manager = createManager(Map.of("exchange.base-directory-probe-interval", "1s", "exchange.base-directory-recovery-time", "6s"));
        StorageHealth health = ((SpoolexExchangeManager) manager).getStorageHealth();
        List<URI> bases = baseDirectories(manager);
        // what a worker's sink does when a write there fails (this node is coordinator and worker at once)
        health.writeReporter(bases.get(0).resolve("0a1b2c.query.exchange.0/0/")).writeFailed(new IllegalStateException("injected write failure"));
        BaseDirectoryHealth unhealthy = health.directories().get(0);
        assertThat(unhealthy.state()).isEqualTo(BaseDirectoryHealth.State.UNHEALTHY);
        assertThat(unhealthy.getLastFailure()).contains("injected write failure");
        assertThat(unhealthy.getFailures().getTotalCount()).isEqualTo(1);

        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        int tasks = 6;
        Map<Integer, Integer> attempts = new HashMap<>();
        for (int task = 0; task < tasks; task++) {
            ExchangeSinkHandle sinkHandle = exchange.addSink(task);
            SpoolexSinkInstanceHandle instance = instantiate(exchange, sinkHandle, 0);
            assertThat(baseIndex(bases, instance)).as("task %s avoids the unhealthy directory", task).isEqualTo(1);
            ExchangeSink sink = manager.createSink(instance);
            write(sink, 0, pages(task, 0, 0, 4, 500));
            finish(sink);
            exchange.sinkFinished(sinkHandle, 0);
            attempts.put(task, 0);
        }
        exchange.noMoreSinks();
        assertThat(unhealthy.getAttemptsPlaced().getTotalCount()).isZero();
        Multiset<Slice> expected = HashMultiset.create();
        for (int task = 0; task < tasks; task++) {
            expected.addAll(pages(task, 0, 0, 4, 500));
        }
        assertThat(HashMultiset.create(readAll(manager, sourceHandles(exchange), finalSelector(exchange.getId(), attempts, tasks)))).isEqualTo(expected);
        exchange.close();

        // the storage is fine: the probe once the recovery time is up passes, and attempts go everywhere again
        long deadline = System.nanoTime() + SECONDS.toNanos(30);
        while (unhealthy.state() != BaseDirectoryHealth.State.HEALTHY && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(unhealthy.state()).isEqualTo(BaseDirectoryHealth.State.HEALTHY);
        assertThat(unhealthy.getProbes().getTotalCount()).isPositive();
        Exchange later = ExchangeTestKit.createExchange(manager, 1, false);
        Set<Integer> used = new HashSet<>();
        for (int task = 0; task < 4; task++) {
            used.add(baseIndex(bases, instantiate(later, later.addSink(task), 0)));
        }
        assertThat(used).containsExactlyInAnyOrder(0, 1);
        later.close();
        awaitNoSpoolFiles();
    }

    /**
     * Waits until nothing but the probes' objects is stored: with probes on, one may be there at any moment, for as
     * long as a probe takes.
     */
    protected void awaitNoSpoolFiles()
            throws InterruptedException
    {
        long deadline = System.nanoTime() + SECONDS.toNanos(30);
        while (!spoolFiles().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(spoolFiles()).isEmpty();
    }

    private List<URI> spoolFiles()
    {
        return listStoredFiles().stream().filter(file -> !file.toString().contains(StartupCheck.PROBE_PREFIX)).toList();
    }

    protected static List<URI> baseDirectories(ExchangeManager manager)
    {
        return ((SpoolexExchangeManager) manager).getStorageHealth().directories().stream().map(BaseDirectoryHealth::directory).toList();
    }

    protected static SpoolexSinkInstanceHandle instantiate(Exchange exchange, ExchangeSinkHandle sinkHandle, int attempt)
    {
        return (SpoolexSinkInstanceHandle) await(exchange.instantiateSink(sinkHandle, attempt));
    }

    /**
     * Which of the base directories the attempt was placed on.
     */
    protected static int baseIndex(List<URI> bases, SpoolexSinkInstanceHandle instance)
    {
        for (int index = 0; index < bases.size(); index++) {
            if (SpoolLayout.isIn(bases.get(index), instance.attemptDirectory())) {
                return index;
            }
        }
        throw new AssertionError("%s is in none of %s".formatted(instance.attemptDirectory(), bases));
    }

    @Test
    public void testHappyPathWithAttemptsAndSelector()
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 4, false);
        ExchangeSinkHandle task0 = exchange.addSink(0);
        ExchangeSinkHandle task1 = exchange.addSink(1);
        ExchangeSinkHandle task2 = exchange.addSink(2);
        ExchangeSinkHandle task3 = exchange.addSink(3);
        exchange.noMoreSinks();

        // task 0: one attempt
        writeAttempt(manager, exchange, task0, 0, 0, 4, 20, 1000);
        exchange.sinkFinished(task0, 0);
        // task 1: attempt 0 aborted after writing, attempt 1 succeeds
        ExchangeSink aborted = createSink(manager, exchange, task1, 0);
        for (int partition = 0; partition < 4; partition++) {
            write(aborted, partition, pages(1, 0, partition, 20, 1000));
        }
        await(aborted.abort());
        writeAttempt(manager, exchange, task1, 1, 1, 4, 20, 1000);
        exchange.sinkFinished(task1, 1);
        // task 2: two attempts succeed; the first reported wins
        writeAttempt(manager, exchange, task2, 2, 1, 4, 20, 1000);
        writeAttempt(manager, exchange, task2, 2, 0, 4, 20, 1000);
        exchange.sinkFinished(task2, 1);
        exchange.sinkFinished(task2, 0);
        // task 3: finishes but writes nothing
        finish(createSink(manager, exchange, task3, 0));
        exchange.sinkFinished(task3, 0);

        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        assertThat(handles).extracting(ExchangeSourceHandle::getPartitionId).containsExactlyInAnyOrder(0, 1, 2, 3);
        ExchangeSourceOutputSelector selector = finalSelector(exchange.getId(), Map.of(0, 0, 1, 1, 2, 1, 3, 0), 4);
        for (int partition = 0; partition < 4; partition++) {
            int outputPartition = partition;
            List<ExchangeSourceHandle> partitionHandles = handles.stream().filter(handle -> handle.getPartitionId() == outputPartition).toList();
            Multiset<Slice> expected = HashMultiset.create();
            expected.addAll(pages(0, 0, partition, 20, 1000));
            expected.addAll(pages(1, 1, partition, 20, 1000));
            expected.addAll(pages(2, 1, partition, 20, 1000));
            assertThat(HashMultiset.create(readAll(manager, partitionHandles, selector))).isEqualTo(expected);
            assertThat(partitionHandles.stream().mapToLong(ExchangeSourceHandle::getDataSizeInBytes).sum())
                    .as("handle sizes count page bytes")
                    .isEqualTo(expected.stream().mapToLong(Slice::length).sum());
        }
        exchange.close();
    }

    @Test
    public void testPageSizesAcrossBlockBufferAndFileBoundaries()
    {
        int block = SpoolFileFormat.DEFAULT_BLOCK_SIZE;
        int maxPage = 16 * 1024 * 1024 - 4;
        List<Integer> sizes = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 7, 100, 4095, 4096, 4097));
        for (int boundary : List.of(block, 2 * block, 1024 * 1024, 4 * 1024 * 1024, 5 * 1024 * 1024, maxPage)) {
            for (int delta = -9; delta <= 9; delta += 3) {
                int size = boundary + delta;
                if (size >= 0 && size <= maxPage) {
                    sizes.add(size);
                }
            }
        }
        sizes.add(maxPage);
        // small files so that pages of all sizes straddle file roll-overs too
        ExchangeManager manager = createManager(Map.of("exchange.sink-max-file-size", "20MB"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, true);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        List<Slice> written = new ArrayList<>();
        for (int i = 0; i < sizes.size(); i++) {
            Slice page = page(0, 0, 0, i, sizes.get(i));
            written.add(page);
            write(sink, 0, List.of(page));
        }
        finish(sink);
        exchange.sinkFinished(task, 0);
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        List<Slice> read = readAll(manager, handles, finalSelector(exchange.getId(), Map.of(0, 0), 1));
        assertThat(read).hasSize(written.size());
        for (int i = 0; i < written.size(); i++) {
            assertThat(read.get(i).length()).as("page %s length", i).isEqualTo(written.get(i).length());
            assertThat(read.get(i)).as("page %s of %s bytes", i, written.get(i).length()).isEqualTo(written.get(i));
        }
        assertThat(dataFiles()).as("files rolled over").hasSizeGreaterThan(2);
        exchange.close();
    }

    @Test
    public void testPreserveOrderAcrossRollOver()
    {
        ExchangeManager manager = createManager(Map.of("exchange.sink-max-file-size", "1MB", "exchange.max-page-storage-size", "1MB"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, true);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        List<Slice> written = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            written.add(page(0, 0, 0, i, 10_000 + (i * 7919) % 30_000));
        }
        write(sink, 0, written);
        finish(sink);
        exchange.sinkFinished(task, 0);
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        assertThat(dataFiles()).as("roll-over produced several files").hasSizeGreaterThan(5);
        assertThat(readAll(manager, handles, finalSelector(exchange.getId(), Map.of(0, 0), 1))).containsExactlyElementsOf(written);
        exchange.close();
    }

    @Test
    public void testManyPartitions()
    {
        ExchangeManager manager = createManager(Map.of("exchange.max-output-partition-count", "1000"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1000, false);
        ExchangeSinkHandle task0 = exchange.addSink(0);
        ExchangeSinkHandle task1 = exchange.addSink(1);
        exchange.noMoreSinks();
        ExchangeSink sink0 = createSink(manager, exchange, task0, 0);
        ExchangeSink sink1 = createSink(manager, exchange, task1, 0);
        for (int partition = 0; partition < 1000; partition++) {
            write(sink0, partition, pages(0, 0, partition, 2, 300));
            write(sink1, partition, pages(1, 0, partition, 1, 5000));
        }
        finish(sink0);
        finish(sink1);
        exchange.sinkFinished(task0, 0);
        exchange.sinkFinished(task1, 0);
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        assertThat(handles.stream().map(ExchangeSourceHandle::getPartitionId).collect(Collectors.toSet())).hasSize(1000);
        Map<Integer, List<ExchangeSourceHandle>> byPartition = handles.stream().collect(Collectors.groupingBy(ExchangeSourceHandle::getPartitionId));
        ExchangeSourceOutputSelector selector = finalSelector(exchange.getId(), Map.of(0, 0, 1, 0), 2);
        for (int partition : List.of(0, 1, 499, 998, 999)) {
            Multiset<Slice> expected = HashMultiset.create();
            expected.addAll(pages(0, 0, partition, 2, 300));
            expected.addAll(pages(1, 0, partition, 1, 5000));
            assertThat(HashMultiset.create(readAll(manager, byPartition.get(partition), selector))).isEqualTo(expected);
        }
        exchange.close();
    }

    @Test
    public void testMaxOutputPartitionCountExceeded()
    {
        ExchangeManager manager = createManager(Map.of());
        assertThatThrownBy(() -> ExchangeTestKit.createExchange(manager, 51, false))
                .isInstanceOfSatisfying(TrinoException.class, e -> {
                    assertThat(e.getErrorCode().getName()).isEqualTo("MAX_OUTPUT_PARTITION_COUNT_EXCEEDED");
                    assertThat(e.getErrorCode().getCode()).isEqualTo(0x0510_0000);
                    assertThat(e.getErrorCode().getType()).isEqualTo(USER_ERROR);
                })
                .hasMessageContaining("Max number of output partitions exceeded for exchange");
        // the limit itself is allowed
        ExchangeTestKit.createExchange(manager, 50, false).close();
    }

    @Test
    public void testConcurrentSinks()
            throws Exception
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 5, false);
        int tasks = 8;
        List<ExchangeSinkHandle> sinkHandles = new ArrayList<>();
        for (int task = 0; task < tasks; task++) {
            sinkHandles.add(exchange.addSink(task));
        }
        exchange.noMoreSinks();
        ExecutorService executor = Executors.newFixedThreadPool(tasks);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int task = 0; task < tasks; task++) {
                int taskPartition = task;
                futures.add(executor.submit(() -> writeAttempt(manager, exchange, sinkHandles.get(taskPartition), taskPartition, 0, 5, 40, 20_000)));
            }
            for (Future<?> future : futures) {
                future.get(120, SECONDS);
            }
        }
        finally {
            executor.shutdownNow();
        }
        Map<Integer, Integer> attempts = new HashMap<>();
        for (int task = 0; task < tasks; task++) {
            exchange.sinkFinished(sinkHandles.get(task), 0);
            attempts.put(task, 0);
        }
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        ExchangeSourceOutputSelector selector = finalSelector(exchange.getId(), attempts, tasks);
        for (int partition = 0; partition < 5; partition++) {
            int outputPartition = partition;
            Multiset<Slice> expected = HashMultiset.create();
            for (int task = 0; task < tasks; task++) {
                expected.addAll(pages(task, 0, partition, 40, 20_000));
            }
            assertThat(HashMultiset.create(readAll(manager, handles.stream().filter(handle -> handle.getPartitionId() == outputPartition).toList(), selector)))
                    .isEqualTo(expected);
        }
        exchange.close();
    }

    @Test
    public void testSourceHandlesPackedTowardTargetSize()
    {
        ExchangeManager manager = createManager(Map.of("exchange.source-handle-target-data-size", "100kB", "exchange.sink-max-file-size", "40kB", "exchange.max-page-storage-size", "40kB"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
        int tasks = 6;
        for (int task = 0; task < tasks; task++) {
            exchange.addSink(task);
        }
        exchange.noMoreSinks();
        Map<Integer, Integer> attempts = new HashMap<>();
        for (int task = 0; task < tasks; task++) {
            ExchangeSinkHandle handle = new SpoolexSinkHandle(task);
            writeAttempt(manager, exchange, handle, task, 0, 2, 10, 10_000);
            exchange.sinkFinished(handle, 0);
            attempts.put(task, 0);
        }
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        for (ExchangeSourceHandle handle : handles) {
            assertThat(handle.getDataSizeInBytes()).isLessThanOrEqualTo(100_000 + 40_000);
        }
        // 6 tasks x 100,000 page bytes per partition at 100kB per handle: at least 5 handles per partition
        assertThat(handles.stream().filter(handle -> handle.getPartitionId() == 0).count()).isGreaterThanOrEqualTo(5);
        assertThat(handles.stream().filter(handle -> handle.getPartitionId() == 0).mapToLong(ExchangeSourceHandle::getDataSizeInBytes).sum())
                .isEqualTo(6L * 10 * 10_000);
        // every page comes back exactly once, whichever handle holds it
        Multiset<Slice> expected = HashMultiset.create();
        for (int task = 0; task < tasks; task++) {
            expected.addAll(pages(task, 0, 1, 10, 10_000));
        }
        ExchangeSourceOutputSelector selector = finalSelector(exchange.getId(), attempts, tasks);
        assertThat(HashMultiset.create(readAll(manager, handles.stream().filter(handle -> handle.getPartitionId() == 1).toList(), selector))).isEqualTo(expected);
        exchange.close();
    }

    @Test
    public void testCloseRemovesEverything()
            throws InterruptedException
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 3, false);
        ExchangeSinkHandle task0 = exchange.addSink(0);
        ExchangeSinkHandle task1 = exchange.addSink(1);
        exchange.noMoreSinks();
        writeAttempt(manager, exchange, task0, 0, 0, 3, 10, 50_000);
        writeAttempt(manager, exchange, task1, 1, 0, 3, 10, 50_000);
        // an attempt that never finishes (its worker died) leaves files behind too
        ExchangeSink dead = createSink(manager, exchange, task1, 1);
        write(dead, 0, pages(1, 1, 0, 40, 50_000));
        exchange.sinkFinished(task0, 0);
        exchange.sinkFinished(task1, 0);
        sourceHandles(exchange);
        assertThat(listStoredFiles()).isNotEmpty();
        exchange.close();
        awaitNoStoredFiles();
    }

    @Test
    public void testAbortLeavesNothingReadable()
            throws InterruptedException
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        // more than one write buffer, so a file is streamed and has to be discarded mid-way
        write(sink, 0, pages(0, 0, 0, 100, 60_000));
        write(sink, 1, pages(0, 0, 1, 3, 1000));
        await(sink.abort());
        // pages added after abort are ignored
        sink.add(0, page(0, 0, 0, 999, 10));
        assertThat(listStoredFiles()).isEmpty();
        assertThat(sink.getMemoryUsage()).isZero();
        exchange.close();
    }

    @Test
    public void testSinkMemoryStaysWithinPoolAndIsReleased()
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 3, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        SpoolexSink sink = (SpoolexSink) createSink(manager, exchange, task, 0);
        long budget = sink.getMemoryBudget();
        for (int i = 0; i < 300; i++) {
            write(sink, i % 3, List.of(page(0, 0, i % 3, i, 100_000)));
            assertThat(sink.getMemoryUsage()).isLessThanOrEqualTo(budget);
        }
        assertThat(sink.getMemoryUsage()).isPositive();
        finish(sink);
        assertThat(sink.getPeakMemoryUsage()).isPositive().isLessThanOrEqualTo(budget);
        assertThat(sink.getMemoryUsage()).isZero();
        exchange.close();
    }

    /**
     * Pages larger than the sink's whole pool (4/3 of it), added without waiting on isBlocked() (the engine adds the page
     * it holds even when the pool is nearly spent): the sink waits inside add() for writes to return buffers rather
     * than go above its pool, and every byte arrives.
     */
    @Test
    public void testPagesLargerThanThePoolNeverTakeTheSinkAboveIt()
    {
        // the smallest pool: two write buffers per partition
        ExchangeManager manager = createManager(Map.of("exchange.max-page-storage-size", "64MB", "exchange.sink-buffer-pool-min-size", "2"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        SpoolexSink sink = (SpoolexSink) createSink(manager, exchange, task, 0);
        long budget = sink.getMemoryBudget();
        int pageBytes = toIntExact(budget + budget / 3 + 17);
        int pagesPerPartition = 2;
        for (int index = 0; index < pagesPerPartition; index++) {
            for (int partition = 0; partition < 2; partition++) {
                sink.add(partition, page(0, 0, partition, index, pageBytes));
                assertThat(sink.getMemoryUsage()).isLessThanOrEqualTo(budget);
            }
        }
        finish(sink);
        assertThat(sink.getPeakMemoryUsage()).isPositive().isLessThanOrEqualTo(budget);
        assertThat(sink.getMemoryUsage()).isZero();
        exchange.sinkFinished(task, 0);
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        for (int partition = 0; partition < 2; partition++) {
            int expectedPartition = partition;
            List<ExchangeSourceHandle> ofPartition = handles.stream().filter(handle -> handle.getPartitionId() == expectedPartition).toList();
            assertThat(readAll(manager, ofPartition, finalSelector(exchange.getId(), Map.of(0, 0), 1)))
                    .containsExactlyElementsOf(pages(0, 0, partition, pagesPerPartition, pageBytes));
        }
        exchange.close();
    }

    /**
     * Pages that compress far below half their size, spread over every output partition of a sink at once (a TPC-H
     * scan feeding 50 hash partitions does exactly this). Each partition keeps encoded blocks until they fill a write
     * buffer; if they took more pool memory than the bytes they hold, the partitions' waiting blocks alone could fill
     * the pool with no write in flight to free it, and the sink would block forever (it did, in TPC-H Q9 at sf1).
     */
    @Test
    public void testHighlyCompressiblePagesOverEveryPartitionNeverStallTheSink()
            throws Exception
    {
        ExchangeManager manager = createManager(Map.of());
        int partitions = 10;
        Exchange exchange = ExchangeTestKit.createExchange(manager, partitions, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        SpoolexSink sink = (SpoolexSink) createSink(manager, exchange, task, 0);
        int pageBytes = 64 * 1024;
        // twice the pool's budget in page bytes: without packing, the pool fills after about one budget
        int pagesPerPartition = (int) (2 * sink.getMemoryBudget() / partitions / pageBytes);
        for (int index = 0; index < pagesPerPartition; index++) {
            for (int partition = 0; partition < partitions; partition++) {
                CompletableFuture<Void> blocked = sink.isBlocked();
                try {
                    blocked.get(10, SECONDS);
                }
                catch (TimeoutException e) {
                    throw new AssertionError("sink stalled after %s pages per partition: %s of %s pool bytes in use and no write completes"
                            .formatted(index, sink.getMemoryUsage(), sink.getMemoryBudget()), e);
                }
                sink.add(partition, compressiblePage(partition, index, pageBytes));
            }
        }
        finish(sink);
        exchange.sinkFinished(task, 0);
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        ExchangeSourceOutputSelector selector = finalSelector(exchange.getId(), Map.of(0, 0), 1);
        for (int partition : List.of(0, partitions - 1)) {
            int expectedPartition = partition;
            List<ExchangeSourceHandle> ofPartition = handles.stream().filter(handle -> handle.getPartitionId() == expectedPartition).toList();
            List<Slice> pages = readAll(manager, ofPartition, selector);
            assertThat(pages).hasSize(pagesPerPartition);
            for (int index = 0; index < pagesPerPartition; index++) {
                assertThat(pages.get(index)).isEqualTo(compressiblePage(partition, index, pageBytes));
            }
        }
        exchange.close();
    }

    /**
     * Zeros after a 16-byte identity: LZ4 shrinks it to well under 1%.
     */
    private static Slice compressiblePage(int partition, int index, int size)
    {
        Slice page = Slices.allocate(size);
        page.setInt(0, partition);
        page.setInt(4, index);
        return page;
    }

    @Test
    public void testPageLargerThanMaxPageStorageSizeFailsSink()
    {
        ExchangeManager manager = createManager(Map.of("exchange.max-page-storage-size", "1MB"));
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        sink.add(0, page(0, 0, 0, 0, 1024 * 1024 - 4));
        assertThatThrownBy(() -> sink.add(0, page(0, 0, 0, 1, 1024 * 1024 - 3)))
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("NOT_SUPPORTED"))
                .hasMessageContaining("exchange.max-page-storage-size");
        await(sink.abort());
        exchange.close();
    }

    @Test
    public void testSourceWaitsForSelector()
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        ExchangeSinkHandle task0 = exchange.addSink(0);
        ExchangeSinkHandle task1 = exchange.addSink(1);
        exchange.noMoreSinks();
        writeAttempt(manager, exchange, task0, 0, 0, 1, 5, 100);
        writeAttempt(manager, exchange, task1, 1, 0, 1, 5, 100);
        exchange.sinkFinished(task0, 0);
        exchange.sinkFinished(task1, 0);
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        ExchangeId exchangeId = exchange.getId();
        try (ExchangeSource source = manager.createSource()) {
            source.addSourceHandles(handles);
            source.noMoreSourceHandles();
            // no selector yet: nothing may be read
            CompletableFuture<Void> blocked = source.isBlocked();
            assertThat(blocked).isNotDone();
            assertThat(source.read()).isNull();
            assertThat(source.isFinished()).isFalse();
            // a partial selector: task 0 included, task 1 still unknown
            source.setOutputSelector(ExchangeSourceOutputSelector.builder(Set.of(exchangeId)).include(exchangeId, 0, 0).build());
            assertThat(blocked).isDone();
            List<Slice> read = new ArrayList<>();
            while (read.size() < 5) {
                await(source.isBlocked());
                Slice page = source.read();
                if (page != null) {
                    read.add(page);
                }
            }
            assertThat(read).containsExactlyInAnyOrderElementsOf(pages(0, 0, 0, 5, 100));
            assertThat(source.isFinished()).isFalse();
            assertThat(source.isBlocked()).isNotDone();
            // final: task 1 excluded as a whole, so its attempt is skipped
            ExchangeSourceOutputSelector finalSelector = ExchangeSourceOutputSelector.builder(Set.of(exchangeId))
                    .include(exchangeId, 0, 0)
                    .exclude(exchangeId, 1)
                    .setPartitionCount(exchangeId, 2)
                    .setFinal()
                    .build();
            // versions must increase: the builder numbers them, so build a newer one
            source.setOutputSelector(new ExchangeSourceOutputSelector(5, finalSelector.getValues(), true));
            List<Slice> rest = new ArrayList<>();
            ExchangeTestKit.drain(source, rest::add);
            assertThat(rest).isEmpty();
        }
        exchange.close();
    }

    @Test
    public void testSelectorChoosingAnotherAttemptFailsInsteadOfReadingWrongData()
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        List<ExchangeSourceHandle> handles = writeSingleTask(manager, exchange, 5, 100);
        assertThatThrownBy(() -> readAll(manager, handles, finalSelector(exchange.getId(), Map.of(0, 3), 1)))
                .hasMessageContaining("selected attempt 3 of task partition 0");
        exchange.close();
    }

    @Test
    public void testMissingSpoolFileFailsReadWithRetryableError()
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        List<ExchangeSourceHandle> handles = writeSingleTask(manager, exchange, 5, 100);
        URI file = dataFiles().getFirst();
        deleteStoredFile(file);
        assertThatThrownBy(() -> readAll(manager, handles, finalSelector(exchange.getId(), Map.of(0, 0), 1)))
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_FILE_NOT_FOUND"))
                .hasMessageContaining(file.getPath());
        exchange.close();
    }

    @Test
    public void testTruncatedAndExtendedSpoolFilesFailRead()
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        List<ExchangeSourceHandle> handles = writeSingleTask(manager, exchange, 50, 10_000);
        ExchangeSourceOutputSelector selector = finalSelector(exchange.getId(), Map.of(0, 0), 1);
        URI file = dataFiles().getFirst();
        byte[] original = readStoredFile(file);

        writeStoredFile(file, Arrays.copyOf(original, original.length - 1));
        assertThatThrownBy(() -> readAll(manager, handles, selector))
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_FILE_CORRUPTED"))
                .hasMessageContaining(file.getPath());

        writeStoredFile(file, Arrays.copyOf(original, original.length + 10));
        assertThatThrownBy(() -> readAll(manager, handles, selector))
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_FILE_CORRUPTED"))
                .hasMessageContaining(file.getPath());

        writeStoredFile(file, original);
        assertThat(readAll(manager, handles, selector)).containsExactlyInAnyOrderElementsOf(pages(0, 0, 0, 50, 10_000));
        exchange.close();
    }

    @Test
    public void testMissingManifestFailsSourceHandles()
    {
        ExchangeManager manager = createManager(Map.of());
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        writeAttempt(manager, exchange, task, 0, 0, 1, 5, 100);
        URI manifest = listStoredFiles().stream().filter(file -> file.getPath().endsWith("/manifest")).findFirst().orElseThrow();
        deleteStoredFile(manifest);
        exchange.sinkFinished(task, 0);
        assertThatThrownBy(() -> sourceHandles(exchange))
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_COMMIT_MISSING"))
                .hasMessageContaining(manifest.getPath());
        exchange.close();
    }

    /**
     * One task partition, one attempt, committed: writes {@code count} pages of {@code size} bytes to partition 0.
     */
    protected List<ExchangeSourceHandle> writeSingleTask(ExchangeManager manager, Exchange exchange, int count, int size)
    {
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        writeAttempt(manager, exchange, task, 0, 0, 1, count, size);
        exchange.sinkFinished(task, 0);
        return sourceHandles(exchange);
    }

    protected void writeAttempt(ExchangeManager manager, Exchange exchange, ExchangeSinkHandle sinkHandle, int taskPartition, int attempt, int outputPartitions, int pagesPerPartition, int pageSize)
    {
        ExchangeSink sink = createSink(manager, exchange, sinkHandle, attempt);
        for (int index = 0; index < pagesPerPartition; index++) {
            for (int partition = 0; partition < outputPartitions; partition++) {
                write(sink, partition, List.of(page(taskPartition, attempt, partition, index, pageSize)));
            }
        }
        finish(sink);
    }

    protected static List<Slice> pages(int taskPartition, int attempt, int outputPartition, int count, int size)
    {
        ImmutableList.Builder<Slice> pages = ImmutableList.builder();
        for (int index = 0; index < count; index++) {
            pages.add(page(taskPartition, attempt, outputPartition, index, size));
        }
        return pages.build();
    }

    protected List<URI> dataFiles()
    {
        return listStoredFiles().stream().filter(file -> file.getPath().endsWith(SpoolLayout.DATA_FILE_SUFFIX)).sorted().toList();
    }

    protected void awaitNoStoredFiles()
            throws InterruptedException
    {
        long deadline = System.nanoTime() + SECONDS.toNanos(30);
        while (!listStoredFiles().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(listStoredFiles()).isEmpty();
    }

    protected static Map<String, String> properties(String... keyValues)
    {
        ImmutableMap.Builder<String, String> builder = ImmutableMap.builder();
        for (int i = 0; i < keyValues.length; i += 2) {
            builder.put(keyValues[i], keyValues[i + 1]);
        }
        return builder.buildOrThrow();
    }
}
