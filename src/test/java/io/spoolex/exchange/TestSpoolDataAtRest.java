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
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.readAll;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What lands on storage: with encryption on, no spooled file (data or manifest) contains a marker written through
 * the sink, even with compression off. The same run with encryption off must find the marker, or the check proves
 * nothing.
 */
public class TestSpoolDataAtRest
{
    private static final byte[] MARKER = "SPOOLEX-PLAINTEXT-MARKER-7f3a9c".getBytes(StandardCharsets.US_ASCII);

    @Test
    public void testEncryptedSpoolFilesHideThePages()
            throws IOException
    {
        assertThat(filesContainingMarker(true)).isEmpty();
    }

    @Test
    public void testPlainSpoolFilesShowThePages()
            throws IOException
    {
        assertThat(filesContainingMarker(false)).isNotEmpty();
    }

    private static List<Path> filesContainingMarker(boolean encrypted)
            throws IOException
    {
        Path directory = Files.createTempDirectory("spoolex-at-rest");
        ExchangeManager manager = ExchangeTestKit.filesystemFactory().create(Map.of(
                "exchange.base-directories", directory.toString(),
                "exchange.encryption-enabled", Boolean.toString(encrypted),
                "exchange.spool-compression-codec", "NONE"), new ExchangeManagerContext() {});
        try {
            Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
            ExchangeSinkHandle task = exchange.addSink(0);
            exchange.noMoreSinks();
            ExchangeSink sink = createSink(manager, exchange, task, 0);
            List<Slice> pages = new ArrayList<>();
            Random random = new Random(11);
            for (int i = 0; i < 200; i++) {
                byte[] page = new byte[1000 + random.nextInt(400_000)];
                random.nextBytes(page);
                for (int offset = 0; offset + MARKER.length <= page.length; offset += 997) {
                    System.arraycopy(MARKER, 0, page, offset, MARKER.length);
                }
                pages.add(Slices.wrappedBuffer(page));
            }
            write(sink, 0, pages);
            finish(sink);
            exchange.sinkFinished(task, 0);
            var handles = sourceHandles(exchange);
            // the pages themselves come back intact
            assertThat(readAll(manager, handles, finalSelector(exchange.getId(), Map.of(0, 0), 1))).containsExactlyElementsOf(pages);

            List<Path> found = new ArrayList<>();
            try (Stream<Path> files = Files.walk(directory)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    if (contains(Files.readAllBytes(file), MARKER)) {
                        found.add(file);
                    }
                }
            }
            exchange.close();
            return found;
        }
        finally {
            manager.shutdown();
            MoreFiles.deleteRecursively(directory, ALLOW_INSECURE);
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle)
    {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
