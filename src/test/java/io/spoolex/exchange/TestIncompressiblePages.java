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

import io.airlift.slice.Slice;
import io.spoolex.metrics.SpoolexStats;
import io.trino.execution.buffer.CompressionCodec;
import io.trino.execution.buffer.PageSerializer;
import io.trino.execution.buffer.PagesSerdes;
import io.trino.plugin.tpch.DecimalTypeMapping;
import io.trino.plugin.tpch.TpchRecordSet;
import io.trino.spi.Page;
import io.trino.spi.connector.RecordPageSource;
import io.trino.spi.connector.SourcePage;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.predicate.TupleDomain;
import io.trino.tpch.TpchTable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.readAll;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static io.trino.metadata.InternalBlockEncodingSerde.TESTING_BLOCK_ENCODING_SERDE;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The engine's own exchange codec left on in front of Spoolex: pages serialized by Trino's serializer with its LZ4 and
 * AES encryption arrive incompressible. Spoolex stops trying LZ4 on them, warns once which engine properties to set,
 * and still returns every page; pages serialized without the engine codec compress as before, with no warning.
 */
public class TestIncompressiblePages
{
    private final List<LogRecord> records = new ArrayList<>();
    private final Handler capture = new Handler()
    {
        @Override
        public void publish(LogRecord record)
        {
            synchronized (records) {
                records.add(record);
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private final Logger managerLogger = Logger.getLogger(SpoolexExchangeManager.class.getName());
    private SpoolexExchangeManager manager;

    @AfterEach
    public void tearDown()
    {
        managerLogger.removeHandler(capture);
        if (manager != null) {
            manager.shutdown();
        }
    }

    @Test
    public void testEngineCodecOnIsDetectedAndWarnedOnce()
            throws Exception
    {
        PageSerializer serializer = PagesSerdes.createSpillingPagesSerdeFactory(TESTING_BLOCK_ENCODING_SERDE, CompressionCodec.LZ4).createSerializer(Optional.of(aesKey()));
        List<Slice> pages = serializedLineitem(serializer, 8L * 1024 * 1024);
        startManager();
        // two sinks (two tasks), each with enough blocks to judge: both learn it, the warning comes once
        List<Slice> read = roundTrip(pages, 2);
        // the two sinks' files are read in no particular order: every page, once from each sink
        List<Slice> expected = new ArrayList<>(pages);
        expected.addAll(pages);
        assertThat(read).containsExactlyInAnyOrderElementsOf(expected);

        SpoolexStats stats = manager.getStats();
        assertThat(stats.getIncompressibleSinks().getTotalCount()).isEqualTo(2);
        assertThat(stats.getBlocksNotTried().getTotalCount()).isPositive();
        assertThat(stats.getBlocksCompressed().getTotalCount()).isZero();
        assertThat(warnings()).singleElement().satisfies(message -> assertThat(message)
                .contains("Pages arrive at Spoolex incompressible")
                .contains("exchange.compression-codec=NONE")
                .contains("external-exchange-encryption-enabled=false"));
    }

    @Test
    public void testPagesWithoutEngineCodecCompressWithoutWarning()
            throws Exception
    {
        PageSerializer serializer = PagesSerdes.createSpillingPagesSerdeFactory(TESTING_BLOCK_ENCODING_SERDE, CompressionCodec.NONE).createSerializer(Optional.empty());
        List<Slice> pages = serializedLineitem(serializer, 8L * 1024 * 1024);
        startManager();
        List<Slice> read = roundTrip(pages, 1);
        assertThat(read).containsExactlyElementsOf(pages);

        SpoolexStats stats = manager.getStats();
        assertThat(stats.getIncompressibleSinks().getTotalCount()).isZero();
        assertThat(stats.getBlocksNotTried().getTotalCount()).isZero();
        assertThat(stats.getBlocksCompressed().getTotalCount()).isPositive();
        assertThat(warnings()).isEmpty();
    }

    private void startManager()
            throws Exception
    {
        managerLogger.addHandler(capture);
        Path directory = Files.createTempDirectory("spoolex-incompressible");
        manager = (SpoolexExchangeManager) ExchangeTestKit.filesystemFactory().create(
                Map.of("exchange.base-directories", directory.toString(), "exchange.startup-check", "OFF"),
                new ExchangeManagerContext() {});
    }

    /**
     * Writes the pages through {@code tasks} sinks of one exchange (one output partition) and reads them all back.
     */
    private List<Slice> roundTrip(List<Slice> pages, int tasks)
    {
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, true);
        List<ExchangeSinkHandle> handles = new ArrayList<>();
        for (int task = 0; task < tasks; task++) {
            handles.add(exchange.addSink(task));
        }
        exchange.noMoreSinks();
        Map<Integer, Integer> attempts = new HashMap<>();
        for (int task = 0; task < tasks; task++) {
            ExchangeSink sink = createSink(manager, exchange, handles.get(task), 0);
            write(sink, 0, pages);
            finish(sink);
            exchange.sinkFinished(handles.get(task), 0);
            attempts.put(task, 0);
        }
        List<Slice> read = readAll(manager, sourceHandles(exchange), finalSelector(exchange.getId(), attempts, tasks));
        exchange.close();
        return read;
    }

    private List<String> warnings()
    {
        synchronized (records) {
            return records.stream().filter(record -> record.getLevel().equals(Level.WARNING)).map(LogRecord::getMessage).toList();
        }
    }

    private static List<Slice> serializedLineitem(PageSerializer serializer, long bytes)
    {
        List<Slice> pages = new ArrayList<>();
        long total = 0;
        RecordPageSource source = new RecordPageSource(TpchRecordSet.createTpchRecordSet(TpchTable.LINE_ITEM, DecimalTypeMapping.DECIMAL, 0.01, 1, 1, TupleDomain.all()));
        while (!source.isFinished() && total < bytes) {
            SourcePage sourcePage = source.getNextSourcePage();
            if (sourcePage == null) {
                continue;
            }
            Page page = sourcePage.getPage();
            Slice serialized = serializer.serialize(page).copy();
            pages.add(serialized);
            total += serialized.length();
        }
        return pages;
    }

    private static SecretKey aesKey()
            throws GeneralSecurityException
    {
        KeyGenerator generator = KeyGenerator.getInstance("AES");
        generator.init(256);
        return generator.generateKey();
    }
}
