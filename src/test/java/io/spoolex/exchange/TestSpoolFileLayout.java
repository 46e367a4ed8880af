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

import com.google.common.io.MoreFiles;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.exchange.SpoolexSourceHandle.AttemptFiles;
import io.spoolex.exchange.SpoolexSourceHandle.FileRef;
import io.spoolex.format.PageAssembler;
import io.spoolex.format.SpoolFileDecoder;
import io.spoolex.format.SpoolFileId;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSourceHandle;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static io.spoolex.format.SpoolFileFormat.DEFAULT_BLOCK_SIZE;
import static io.spoolex.format.SpoolFileFormat.PAGE_LENGTH_BYTES;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the sink lays pages out in blocks, seen by decoding the files it wrote: a page that fits a block never spans
 * two, and every byte of a page larger than a block is decoded straight into that page's array (its length ends a
 * block and its bytes fill blocks of their own), so the reader neither allocates block buffers for it nor copies it.
 */
public class TestSpoolFileLayout
{
    @ParameterizedTest
    @ValueSource(strings = {"LZ4", "NONE"})
    public void testLargePagesAreDecodedInPlace(String codec)
            throws IOException
    {
        List<Slice> pages = new ArrayList<>();
        Random random = new Random(5);
        for (int i = 0; i < 60; i++) {
            int size = switch (i % 6) {
                case 0 -> random.nextInt(20_000);
                case 1 -> DEFAULT_BLOCK_SIZE - PAGE_LENGTH_BYTES;
                case 2 -> DEFAULT_BLOCK_SIZE - PAGE_LENGTH_BYTES + 1;
                case 3 -> 0;
                case 4 -> 2 * DEFAULT_BLOCK_SIZE;
                default -> DEFAULT_BLOCK_SIZE + random.nextInt(3 * DEFAULT_BLOCK_SIZE);
            };
            byte[] page = new byte[size];
            // compressible, as real pages are, so LZ4 blocks are really compressed
            for (int offset = 0; offset < size; offset += 64) {
                page[offset] = (byte) random.nextInt(4);
            }
            pages.add(Slices.wrappedBuffer(page));
        }
        long largePageBytes = pages.stream().filter(page -> PAGE_LENGTH_BYTES + page.length() > DEFAULT_BLOCK_SIZE).mapToLong(Slice::length).sum();

        Path directory = Files.createTempDirectory("spoolex-layout");
        ExchangeManager manager = ExchangeTestKit.filesystemFactory().create(Map.of(
                "exchange.base-directories", directory.toString(),
                "exchange.encryption-enabled", "false",
                "exchange.spool-compression-codec", codec), new ExchangeManagerContext() {});
        try {
            Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
            ExchangeSinkHandle task = exchange.addSink(0);
            exchange.noMoreSinks();
            ExchangeSink sink = createSink(manager, exchange, task, 0);
            write(sink, 0, pages);
            finish(sink);
            exchange.sinkFinished(task, 0);

            List<Slice> decoded = new ArrayList<>();
            long bytesDecodedInPlace = 0;
            for (ExchangeSourceHandle handle : sourceHandles(exchange)) {
                SpoolexSourceHandle source = (SpoolexSourceHandle) handle;
                for (AttemptFiles attempt : source.attempts()) {
                    for (FileRef file : attempt.files()) {
                        URI location = SpoolLayout.dataFile(URI.create(attempt.directory()), source.partitionId(), file.sequence());
                        byte[] bytes = Files.readAllBytes(Path.of(location));
                        SpoolFileId id = new SpoolFileId(source.exchangeId(), attempt.taskPartitionId(), attempt.attemptId(), source.partitionId(), file.sequence());
                        SpoolFileDecoder decoder = new SpoolFileDecoder(location.toString(), id, source.key(), bytes.length, file.checksum());
                        CountingBlockSink blocks = new CountingBlockSink(new PageAssembler(location.toString(), 16 * 1024 * 1024, decoded::add));
                        decoder.decode(Slices.wrappedBuffer(bytes), blocks);
                        decoder.finish();
                        bytesDecodedInPlace += blocks.bytesDecodedInPlace;
                    }
                }
            }
            assertThat(decoded).containsExactlyElementsOf(pages);
            assertThat(largePageBytes).isGreaterThan(0);
            assertThat(bytesDecodedInPlace).isEqualTo(largePageBytes);
            exchange.close();
        }
        finally {
            manager.shutdown();
            MoreFiles.deleteRecursively(directory, ALLOW_INSECURE);
        }
    }

    private static final class CountingBlockSink
            implements SpoolFileDecoder.BlockSink
    {
        private final PageAssembler assembler;
        private Slice offered;
        private long bytesDecodedInPlace;

        CountingBlockSink(PageAssembler assembler)
        {
            this.assembler = assembler;
        }

        @Override
        public Slice destination(int rawLength)
        {
            offered = assembler.destination(rawLength);
            return offered;
        }

        @Override
        public void accept(Slice block)
        {
            if (offered != null && block.byteArray() == offered.byteArray() && block.byteArrayOffset() == offered.byteArrayOffset()) {
                bytesDecodedInPlace += block.length();
            }
            offered = null;
            assembler.accept(block);
        }
    }
}
