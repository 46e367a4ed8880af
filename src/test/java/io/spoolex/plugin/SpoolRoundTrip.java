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
package io.spoolex.plugin;

import io.airlift.slice.Slice;
import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.exchange.TestPages;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSourceHandle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static com.google.common.base.Preconditions.checkState;
import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.readAll;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;

/**
 * Writes pages through an exchange manager's sink and reads them back through its source, through the SPI only (the
 * manager may come from a plugin class loader), and checks that every page comes back byte for byte, in order.
 * Plain checks rather than AssertJ: it also runs in JVMs that have only a Trino server's class path.
 */
public final class SpoolRoundTrip
{
    private static final int OUTPUT_PARTITIONS = 2;
    private static final int PAGES_PER_PARTITION = 40;

    private SpoolRoundTrip() {}

    /**
     * What went through storage: page bytes as written, bytes on disk below {@code spoolDirectory} before the exchange was closed.
     */
    public record Result(int pages, long pageBytes, long storedBytes) {}

    /**
     * Runs one exchange of a single task on {@code manager}, whose base directory is {@code spoolDirectory}.
     */
    public static Result run(ExchangeManager manager, Path spoolDirectory)
    {
        Exchange exchange = ExchangeTestKit.createExchange(manager, OUTPUT_PARTITIONS, true);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        Random random = new Random(20261201);
        List<List<Slice>> written = new ArrayList<>();
        long pageBytes = 0;
        for (int partition = 0; partition < OUTPUT_PARTITIONS; partition++) {
            List<Slice> pages = new ArrayList<>();
            for (int index = 0; index < PAGES_PER_PARTITION; index++) {
                // from a few bytes to more than a block (256 KB), so pages share blocks and span them
                Slice page = TestPages.page(0, 0, partition, index, 16 + random.nextInt(600 * 1024));
                pages.add(page);
                pageBytes += page.length();
            }
            write(sink, partition, pages);
            written.add(pages);
        }
        finish(sink);
        exchange.sinkFinished(task, 0);
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        long storedBytes = storedBytes(spoolDirectory);
        for (int partition = 0; partition < OUTPUT_PARTITIONS; partition++) {
            int outputPartition = partition;
            List<ExchangeSourceHandle> partitionHandles = handles.stream().filter(handle -> handle.getPartitionId() == outputPartition).toList();
            List<Slice> read = readAll(manager, partitionHandles, finalSelector(exchange.getId(), Map.of(0, 0), 1));
            List<Slice> expected = written.get(partition);
            checkState(read.size() == expected.size(), "partition %s: %s pages read, %s written", partition, read.size(), expected.size());
            for (int index = 0; index < expected.size(); index++) {
                checkState(read.get(index).equals(expected.get(index)), "partition %s: page %s of %s bytes differs from what was written", partition, index, expected.get(index).length());
            }
        }
        exchange.close();
        return new Result(OUTPUT_PARTITIONS * PAGES_PER_PARTITION, pageBytes, storedBytes);
    }

    private static long storedBytes(Path directory)
    {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).mapToLong(file -> {
                try {
                    return Files.size(file);
                }
                catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).sum();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
