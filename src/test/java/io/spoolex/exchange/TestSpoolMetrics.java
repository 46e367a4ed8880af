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
import io.trino.plugin.base.metrics.DurationTiming;
import io.trino.plugin.base.metrics.LongCount;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSource;
import io.trino.spi.exchange.ExchangeSourceHandle;
import io.trino.spi.metrics.Metric;
import io.trino.spi.metrics.Metrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.drain;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The metrics a sink, a source and an exchange hand to the engine ({@code getMetrics()}) against what the test wrote
 * and what landed in storage.
 */
public class TestSpoolMetrics
{
    private Path directory;
    private ExchangeManager manager;

    @AfterEach
    public void tearDown()
            throws IOException
    {
        if (manager != null) {
            ((SpoolexExchangeManager) manager).shutdown();
        }
        if (directory != null) {
            try (Stream<Path> files = Files.walk(directory)) {
                files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(path -> path.toFile().delete());
            }
        }
    }

    @Test
    public void testMetricsMatchWhatWasWrittenAndRead()
            throws IOException
    {
        directory = Files.createTempDirectory("spoolex-metrics");
        // small files, so that a sink writes several per partition
        manager = ExchangeTestKit.filesystemFactory().create(
                Map.of("exchange.base-directories", directory.toString(), "exchange.startup-check", "OFF", "exchange.sink-max-file-size", "1MB", "exchange.max-page-storage-size", "1MB"),
                new ExchangeManagerContext() {});
        int partitions = 3;
        Exchange exchange = ExchangeTestKit.createExchange(manager, partitions, false);
        ExchangeSinkHandle sinkHandle = exchange.addSink(0);
        exchange.noMoreSinks();

        // half compressible text, half random bytes: both block kinds
        Random random = new Random(7);
        List<List<Slice>> pagesByPartition = new ArrayList<>();
        long pageBytes = 0;
        for (int partition = 0; partition < partitions; partition++) {
            ImmutableList.Builder<Slice> pages = ImmutableList.builder();
            for (int page = 0; page < 40; page++) {
                byte[] bytes = new byte[20_000 + random.nextInt(40_000)];
                if (page % 2 == 0) {
                    random.nextBytes(bytes);
                }
                else {
                    for (int i = 0; i < bytes.length; i++) {
                        bytes[i] = (byte) ('a' + (i / 7 + page) % 11);
                    }
                }
                pages.add(Slices.wrappedBuffer(bytes));
                pageBytes += bytes.length;
            }
            pagesByPartition.add(pages.build());
        }

        ExchangeSink sink = createSink(manager, exchange, sinkHandle, 0);
        for (int partition = 0; partition < partitions; partition++) {
            write(sink, partition, pagesByPartition.get(partition));
        }
        finish(sink);
        exchange.sinkFinished(sinkHandle, 0);

        List<Path> spoolFiles = spoolFiles();
        long storedBytes = spoolFiles.stream().mapToLong(TestSpoolMetrics::size).sum();
        Metrics sinkMetrics = sink.getMetrics().orElseThrow();
        assertThat(count(sinkMetrics, "spoolex.sink.page-bytes")).isEqualTo(pageBytes);
        assertThat(count(sinkMetrics, "spoolex.sink.files")).isEqualTo(spoolFiles.size()).isGreaterThan(partitions);
        assertThat(count(sinkMetrics, "spoolex.sink.stored-bytes")).isEqualTo(storedBytes);
        assertThat(count(sinkMetrics, "spoolex.sink.blocks-compressed")).isPositive();
        assertThat(count(sinkMetrics, "spoolex.sink.blocks-raw")).isPositive();
        assertThat(count(sinkMetrics, "spoolex.sink.storage-requests")).isGreaterThanOrEqualTo(spoolFiles.size());
        assertThat(nanos(sinkMetrics, "spoolex.sink.storage-time")).isPositive();
        assertThat(nanos(sinkMetrics, "spoolex.sink.codec-cpu-time")).isPositive();

        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        Metrics exchangeMetrics = exchange.getMetrics();
        assertThat(count(exchangeMetrics, "spoolex.exchange.attempts-committed")).isEqualTo(1);
        assertThat(count(exchangeMetrics, "spoolex.exchange.source-handles")).isEqualTo(handles.size());
        assertThat(count(exchangeMetrics, "spoolex.exchange.files")).isEqualTo(spoolFiles.size());
        assertThat(count(exchangeMetrics, "spoolex.exchange.stored-bytes")).isEqualTo(storedBytes);
        assertThat(nanos(exchangeMetrics, "spoolex.exchange.storage-time")).isPositive();

        long readBytes = 0;
        Metrics sourceMetrics;
        try (ExchangeSource source = manager.createSource()) {
            source.addSourceHandles(handles);
            source.noMoreSourceHandles();
            source.setOutputSelector(finalSelector(exchange.getId(), Map.of(0, 0), 1));
            List<Slice> read = new ArrayList<>();
            drain(source, page -> read.add(page.copy()));
            readBytes = read.stream().mapToLong(Slice::length).sum();
            sourceMetrics = source.getMetrics().orElseThrow();
        }
        assertThat(readBytes).isEqualTo(pageBytes);
        assertThat(count(sourceMetrics, "spoolex.source.page-bytes")).isEqualTo(pageBytes);
        assertThat(count(sourceMetrics, "spoolex.source.files")).isEqualTo(spoolFiles.size());
        assertThat(count(sourceMetrics, "spoolex.source.stored-bytes")).isEqualTo(storedBytes);
        assertThat(count(sourceMetrics, "spoolex.source.storage-requests")).isGreaterThanOrEqualTo(spoolFiles.size());
        assertThat(nanos(sourceMetrics, "spoolex.source.storage-time")).isPositive();
        assertThat(nanos(sourceMetrics, "spoolex.source.codec-cpu-time")).isPositive();
        exchange.close();
    }

    private List<Path> spoolFiles()
    {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).filter(path -> path.getFileName().toString().endsWith(".spool")).toList();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long size(Path path)
    {
        try {
            return Files.size(path);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long count(Metrics metrics, String name)
    {
        Metric<?> metric = metrics.getMetrics().get(name);
        assertThat(metric).as(name).isInstanceOf(LongCount.class);
        return ((LongCount) metric).getTotal();
    }

    private static long nanos(Metrics metrics, String name)
    {
        Metric<?> metric = metrics.getMetrics().get(name);
        assertThat(metric).as(name).isInstanceOf(DurationTiming.class);
        return ((DurationTiming) metric).getDuration().toNanos();
    }
}
