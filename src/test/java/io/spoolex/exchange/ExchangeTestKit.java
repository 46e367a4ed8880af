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
import com.google.common.collect.Streams;
import io.airlift.slice.Slice;
import io.opentelemetry.api.trace.Span;
import io.spoolex.SpoolexHdfsPlugin;
import io.spoolex.SpoolexPlugin;
import io.trino.spi.Plugin;
import io.trino.spi.QueryId;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeContext;
import io.trino.spi.exchange.ExchangeId;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerFactory;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSinkInstanceHandle;
import io.trino.spi.exchange.ExchangeSource;
import io.trino.spi.exchange.ExchangeSourceHandle;
import io.trino.spi.exchange.ExchangeSourceOutputSelector;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static com.google.common.collect.MoreCollectors.onlyElement;
import static java.util.Objects.requireNonNull;

/**
 * Drives an {@link ExchangeManager} through the SPI the way the engine does, for tests and benchmarks.
 */
public final class ExchangeTestKit
{
    private static final long TIMEOUT_SECONDS = 120;

    private ExchangeTestKit() {}

    public record TestingExchangeContext(QueryId queryId, ExchangeId exchangeId)
            implements ExchangeContext
    {
        public static TestingExchangeContext random()
        {
            return new TestingExchangeContext(new QueryId("query_" + Long.toHexString(new Random().nextLong() & Long.MAX_VALUE)), ExchangeId.createRandomExchangeId());
        }

        @Override
        public QueryId getQueryId()
        {
            return queryId;
        }

        @Override
        public ExchangeId getExchangeId()
        {
            return exchangeId;
        }

        @Override
        public Span getParentSpan()
        {
            return Span.getInvalid();
        }
    }

    /**
     * The {@code filesystem} factory as the plugin registers it, with the plugin's storage backends.
     */
    public static ExchangeManagerFactory filesystemFactory()
    {
        return onlyFactory(new SpoolexPlugin());
    }

    /**
     * The {@code hdfs} factory as its plugin registers it.
     */
    public static ExchangeManagerFactory hdfsFactory()
    {
        return onlyFactory(new SpoolexHdfsPlugin());
    }

    private static ExchangeManagerFactory onlyFactory(Plugin plugin)
    {
        return Streams.stream(plugin.getExchangeManagerFactories()).collect(onlyElement());
    }

    public static Exchange createExchange(ExchangeManager manager, int outputPartitions, boolean preserveOrder)
    {
        return manager.createExchange(TestingExchangeContext.random(), outputPartitions, preserveOrder);
    }

    public static ExchangeSink createSink(ExchangeManager manager, Exchange exchange, ExchangeSinkHandle sinkHandle, int attemptId)
    {
        ExchangeSinkInstanceHandle instance = await(exchange.instantiateSink(sinkHandle, attemptId));
        return manager.createSink(instance);
    }

    /**
     * Adds pages, respecting back-pressure as the engine does.
     */
    public static void write(ExchangeSink sink, int partition, List<Slice> pages)
    {
        for (Slice page : pages) {
            await(sink.isBlocked());
            sink.add(partition, page);
        }
    }

    public static void finish(ExchangeSink sink)
    {
        await(sink.finish());
    }

    public static List<ExchangeSourceHandle> sourceHandles(Exchange exchange)
    {
        exchange.allRequiredSinksFinished();
        List<ExchangeSourceHandle> handles = new ArrayList<>();
        while (true) {
            var batch = await(exchange.getSourceHandles().getNextBatch());
            handles.addAll(batch.handles());
            if (batch.lastBatch()) {
                return handles;
            }
        }
    }

    /**
     * A final selector that includes the given attempt of each task partition (task partition -> attempt).
     */
    public static ExchangeSourceOutputSelector finalSelector(ExchangeId exchangeId, Map<Integer, Integer> attempts, int taskPartitionCount)
    {
        ExchangeSourceOutputSelector.Builder builder = ExchangeSourceOutputSelector.builder(Set.of(exchangeId));
        for (int taskPartition = 0; taskPartition < taskPartitionCount; taskPartition++) {
            Integer attempt = attempts.get(taskPartition);
            if (attempt == null) {
                builder.exclude(exchangeId, taskPartition);
            }
            else {
                builder.include(exchangeId, taskPartition, attempt);
            }
        }
        return builder.setPartitionCount(exchangeId, taskPartitionCount).setFinal().build();
    }

    /**
     * Reads every page of the handles through one source, in the order the source returns them.
     */
    public static List<Slice> readAll(ExchangeManager manager, List<ExchangeSourceHandle> handles, ExchangeSourceOutputSelector selector)
    {
        List<Slice> pages = new ArrayList<>();
        read(manager, handles, selector, page -> pages.add(page.copy()));
        return pages;
    }

    public static void read(ExchangeManager manager, List<ExchangeSourceHandle> handles, ExchangeSourceOutputSelector selector, Consumer<Slice> consumer)
    {
        requireNonNull(selector, "selector is null");
        try (ExchangeSource source = manager.createSource()) {
            source.addSourceHandles(ImmutableList.copyOf(handles));
            source.noMoreSourceHandles();
            source.setOutputSelector(selector);
            drain(source, consumer);
        }
    }

    public static void drain(ExchangeSource source, Consumer<Slice> consumer)
    {
        while (!source.isFinished()) {
            await(source.isBlocked());
            Slice page = source.read();
            if (page != null) {
                consumer.accept(page);
            }
        }
    }

    public static <T> T await(CompletableFuture<T> future)
    {
        try {
            return future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new RuntimeException(e.getCause());
        }
        catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
