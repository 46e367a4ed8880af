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
package io.spoolex.metrics;

import com.google.common.collect.ImmutableMap;
import io.airlift.units.Duration;
import io.trino.plugin.base.metrics.DurationTiming;
import io.trino.plugin.base.metrics.LongCount;
import io.trino.spi.metrics.Metric;
import io.trino.spi.metrics.Metrics;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

/**
 * What one sink, source or exchange spent on spooling, handed to the engine through {@code getMetrics()}: Trino adds
 * the values up per stage and shows them in {@code EXPLAIN ANALYZE VERBOSE} and the query's JSON. JMX
 * ({@link SpoolexStats}) keeps the totals per server.
 *
 * <p>The values are Trino's own metric classes ({@link LongCount}, {@link DurationTiming}) from trino-plugin-toolkit:
 * the engine serializes metrics with their class name and the coordinator reads them with its own copy of those
 * classes, so a class of Spoolex's own would not survive the trip. Names are fixed per kind and always all present.
 */
public final class SpoolMetrics
{
    public static final String PAGE_BYTES = "page-bytes";
    public static final String STORED_BYTES = "stored-bytes";
    public static final String FILES = "files";
    public static final String BLOCKS_COMPRESSED = "blocks-compressed";
    public static final String BLOCKS_RAW = "blocks-raw";
    public static final String BUFFER_WAITS = "buffer-waits";
    public static final String STORAGE_REQUESTS = "storage-requests";
    public static final String STORAGE_TIME = "storage-time";
    public static final String CODEC_CPU_TIME = "codec-cpu-time";
    public static final String ATTEMPTS_COMMITTED = "attempts-committed";
    public static final String SOURCE_HANDLES = "source-handles";

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final String prefix;
    private final Map<String, LongAdder> counts;
    private final Map<String, LongAdder> nanos;

    private SpoolMetrics(String prefix, List<String> countNames, List<String> timeNames)
    {
        this.prefix = prefix;
        this.counts = adders(countNames);
        this.nanos = adders(timeNames);
    }

    private static Map<String, LongAdder> adders(List<String> names)
    {
        ImmutableMap.Builder<String, LongAdder> adders = ImmutableMap.builder();
        names.forEach(name -> adders.put(name, new LongAdder()));
        return adders.buildOrThrow();
    }

    /**
     * A sink's: page bytes handed over by the engine, bytes stored, files committed, blocks stored LZ4-compressed and
     * raw, waits for a buffer, write requests and the sum of their latencies, CPU time compressing and encrypting.
     */
    public static SpoolMetrics forSink()
    {
        return new SpoolMetrics("spoolex.sink.", List.of(PAGE_BYTES, STORED_BYTES, FILES, BLOCKS_COMPRESSED, BLOCKS_RAW, BUFFER_WAITS, STORAGE_REQUESTS), List.of(STORAGE_TIME, CODEC_CPU_TIME));
    }

    /**
     * A source's: page bytes handed to the engine, bytes read from storage, files read, read requests and the sum of
     * their latencies, CPU time verifying, decrypting and decompressing.
     */
    public static SpoolMetrics forSource()
    {
        return new SpoolMetrics("spoolex.source.", List.of(PAGE_BYTES, STORED_BYTES, FILES, STORAGE_REQUESTS), List.of(STORAGE_TIME, CODEC_CPU_TIME));
    }

    /**
     * An exchange's, on the coordinator: attempts committed (manifests read), the sum of the manifest reads'
     * latencies, source handles made, and the files and bytes they cover.
     */
    public static SpoolMetrics forExchange()
    {
        return new SpoolMetrics("spoolex.exchange.", List.of(ATTEMPTS_COMMITTED, SOURCE_HANDLES, FILES, STORED_BYTES), List.of(STORAGE_TIME));
    }

    public void add(String name, long delta)
    {
        counter(counts, name).add(delta);
    }

    public void addNanos(String name, long elapsedNanos)
    {
        counter(nanos, name).add(elapsedNanos);
    }

    /**
     * The CPU time of the calling thread, for {@link #CODEC_CPU_TIME}; 0 where the JVM cannot measure it.
     */
    public static long currentThreadCpuNanos()
    {
        return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : 0;
    }

    public long count(String name)
    {
        return counter(counts, name).sum();
    }

    public long nanos(String name)
    {
        return counter(nanos, name).sum();
    }

    /**
     * The values so far, as the engine takes them.
     */
    public Metrics snapshot()
    {
        ImmutableMap.Builder<String, Metric<?>> metrics = ImmutableMap.builder();
        counts.forEach((name, value) -> metrics.put(prefix + name, new LongCount(value.sum())));
        nanos.forEach((name, value) -> metrics.put(prefix + name, new DurationTiming(new Duration(value.sum(), NANOSECONDS).convertToMostSuccinctTimeUnit())));
        return new Metrics(metrics.buildOrThrow());
    }

    private static LongAdder counter(Map<String, LongAdder> counters, String name)
    {
        LongAdder counter = counters.get(name);
        checkArgument(counter != null, "no metric %s among %s", name, counters.keySet());
        return counter;
    }
}
