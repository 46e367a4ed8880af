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
import io.airlift.slice.Slices;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.spoolex.metrics.SpoolTracing;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSourceHandle;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static com.google.common.io.MoreFiles.deleteRecursively;
import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.readAll;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spans Spoolex adds to a query's trace through the tracer the engine hands the exchange manager.
 */
public class TestSpoolTraces
{
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final SdkTracerProvider tracerProvider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
    private SpoolexExchangeManager manager;
    private Path directory;

    @AfterEach
    public void tearDown()
            throws Exception
    {
        if (manager != null) {
            manager.shutdown();
        }
        tracerProvider.close();
        if (directory != null) {
            deleteRecursively(directory, ALLOW_INSECURE);
        }
    }

    @Test
    public void testSpansOfWritingAndReading()
            throws Exception
    {
        directory = Files.createTempDirectory("spoolex-traces");
        Tracer tracer = tracerProvider.get("spoolex-test");
        manager = (SpoolexExchangeManager) ExchangeTestKit.filesystemFactory().create(
                Map.of("exchange.base-directories", directory.toString(), "exchange.startup-check", "OFF"),
                new ExchangeManagerContext()
                {
                    @Override
                    public Tracer getTracer()
                    {
                        return tracer;
                    }
                });
        Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
        ExchangeSinkHandle sinkHandle = exchange.addSink(0);
        exchange.noMoreSinks();
        List<Slice> pages = new ArrayList<>();
        for (int page = 0; page < 20; page++) {
            pages.add(Slices.utf8Slice("page %s of the traced exchange ".formatted(page).repeat(500)));
        }
        ExchangeSink sink = createSink(manager, exchange, sinkHandle, 0);
        write(sink, 0, pages);
        write(sink, 1, pages.subList(0, 5));
        finish(sink);
        exchange.sinkFinished(sinkHandle, 0);
        List<ExchangeSourceHandle> handles = sourceHandles(exchange);
        assertThat(readAll(manager, handles, finalSelector(exchange.getId(), Map.of(0, 0), 1))).hasSize(25);
        exchange.close();

        List<SpanData> spans = exporter.getFinishedSpanItems();
        List<SpanData> writes = named(spans, "spoolex.file.write");
        assertThat(writes).hasSize(2);
        assertThat(writes).allSatisfy(span -> {
            assertThat(span.getAttributes().get(SpoolTracing.FILE)).startsWith("file:" + directory).endsWith(".spool");
            assertThat(span.getAttributes().get(SpoolTracing.STORED_BYTES)).isPositive();
            assertThat(span.getStatus().getStatusCode().name()).isEqualTo("UNSET");
        });
        SpanData finished = named(spans, "spoolex.sink.finish").getFirst();
        assertThat(finished.getAttributes().get(SpoolTracing.EXCHANGE)).isEqualTo(exchange.getId().toString());
        assertThat(finished.getAttributes().get(SpoolTracing.ATTEMPT)).isZero();
        assertThat(finished.getAttributes().get(SpoolTracing.STORAGE)).isEqualTo("file");
        assertThat(finished.getAttributes().get(SpoolTracing.FILES)).isEqualTo(2);
        assertThat(finished.getAttributes().get(SpoolTracing.PAGE_BYTES)).isEqualTo(pages.stream().mapToLong(Slice::length).sum() + pages.subList(0, 5).stream().mapToLong(Slice::length).sum());

        SpanData manifests = named(spans, "spoolex.exchange.read-manifests").getFirst();
        assertThat(manifests.getAttributes().get(SpoolTracing.ATTEMPTS)).isEqualTo(1);
        assertThat(manifests.getAttributes().get(SpoolTracing.SOURCE_HANDLES)).isEqualTo(handles.size());
        assertThat(manifests.getAttributes().get(SpoolTracing.FILES)).isEqualTo(2);

        List<SpanData> reads = named(spans, "spoolex.file.read");
        assertThat(reads).hasSize(2);
        assertThat(reads).extracting(span -> span.getAttributes().get(SpoolTracing.FILE))
                .containsExactlyInAnyOrderElementsOf(writes.stream().map(span -> span.getAttributes().get(SpoolTracing.FILE)).toList());
    }

    private static List<SpanData> named(List<SpanData> spans, String name)
    {
        List<SpanData> named = spans.stream().filter(span -> span.getName().equals(name)).toList();
        assertThat(named).as("spans named %s among %s", name, spans.stream().map(SpanData::getName).distinct().toList()).isNotEmpty();
        return named;
    }
}
