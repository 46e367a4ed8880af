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
package io.spoolex.benchmarks;

import com.google.common.collect.ImmutableList;
import com.google.common.io.MoreFiles;
import com.sun.management.OperatingSystemMXBean;
import io.airlift.slice.Slice;
import io.airlift.units.DataSize;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.exchange.SpoolexSink;
import io.spoolex.storage.s3.S3ProxyServer;
import io.trino.execution.buffer.CompressionCodec;
import io.trino.execution.buffer.PageDeserializer;
import io.trino.execution.buffer.PageSerializer;
import io.trino.execution.buffer.PagesSerdeFactory;
import io.trino.execution.buffer.PagesSerdes;
import io.trino.plugin.tpch.DecimalTypeMapping;
import io.trino.plugin.tpch.TpchRecordSet;
import io.trino.spi.Page;
import io.trino.spi.Plugin;
import io.trino.spi.connector.RecordPageSource;
import io.trino.spi.connector.SourcePage;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeManagerFactory;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSource;
import io.trino.spi.exchange.ExchangeSourceHandle;
import io.trino.spi.exchange.ExchangeSourceOutputSelector;
import io.trino.spi.predicate.TupleDomain;
import io.trino.tpch.TpchTable;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;

import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static io.spoolex.exchange.ExchangeTestKit.await;
import static io.trino.metadata.InternalBlockEncodingSerde.TESTING_BLOCK_ENCODING_SERDE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

/**
 * Exchange throughput through the SPI alone, as the engine drives it: K sinks (tasks) each write TPC-H lineitem pages
 * serialized by Trino's own page serializer to P output partitions, then sources read every partition back through
 * the source handles and a final output selector and deserialize the pages. The serializer runs inside the timed
 * loops. Configurations, in one run, interleaved:
 * <ul>
 * <li>{@code spoolex}: the engine's exchange codec off, Spoolex's LZ4 and AES-256-GCM on (the recommended setup);</li>
 * <li>{@code spoolex-plain}: the engine's codec off and Spoolex's off too;</li>
 * <li>{@code trino}: Trino 483's own filesystem exchange manager with the engine's FTE defaults (LZ4 + AES in the
 * serializer);</li>
 * <li>{@code baseline}: the same number of bytes written and read with plain FileChannel calls (local) or plain
 * PutObject/GetObject (S3) by K threads: what the storage gives without any exchange on top.</li>
 * </ul>
 * Throughput is MB/s of page bytes as the engine's uncompressed serializer produces them. Every measurement runs in
 * a JVM of its own ({@code --warmups} untimed passes, 2 by default, then the measured pass), rounds rotating the order
 * of the configurations;
 * {@code --fork false} runs everything in this JVM instead. Run with
 * {@code bin/bench spi [--storage local|s3] [--data-size 2GB] [--sinks 4] [--partitions 50] [--rounds 3] [--warmups 2] [--fork true]}.
 * Each phase also reports its CPU time: this JVM's, and on S3 the S3Proxy process's, which shares the cores.
 */
public final class SpiBenchmark
{
    private static final String TRINO_PLUGIN = "io.trino.plugin.exchange.filesystem.FileSystemExchangePlugin";
    private static final long MAX_PAGE_BYTES = 1024 * 1024;
    private static final long PARTITIONING_BUFFER_BYTES = 32 * 1024 * 1024;
    private static final int BASELINE_IO_BYTES = 1024 * 1024;
    private static final String RESULT_PREFIX = "SPI-BENCHMARK-RESULT";

    private final Options options;
    private List<Page> pages;
    private long[] pageBytes;
    private final Path workDirectory;
    private S3ProxyServer s3Proxy;

    private record Options(String storage, long dataBytes, int sinks, int partitions, int rounds, Path workDirectory, List<String> configurations, int warmups, boolean fork, Optional<String> child, List<String> arguments)
    {
        static Options parse(String[] args)
        {
            Map<String, String> values = new HashMap<>();
            for (int i = 0; i + 1 < args.length; i += 2) {
                if (!args[i].startsWith("--")) {
                    throw new IllegalArgumentException("expected --option value, got " + args[i]);
                }
                values.put(args[i].substring(2), args[i + 1]);
            }
            String storage = values.getOrDefault("storage", "local");
            if (!storage.equals("local") && !storage.equals("s3")) {
                throw new IllegalArgumentException("--storage must be local or s3");
            }
            long dataBytes = DataSize.valueOf(values.getOrDefault("data-size", storage.equals("local") ? "2GB" : "1GB")).toBytes();
            return new Options(
                    storage,
                    dataBytes,
                    Integer.parseInt(values.getOrDefault("sinks", "4")),
                    Integer.parseInt(values.getOrDefault("partitions", "50")),
                    Integer.parseInt(values.getOrDefault("rounds", "3")),
                    Path.of(values.getOrDefault("work-directory", "target/benchmarks/spi-work")),
                    List.of(values.getOrDefault("configurations", "spoolex,spoolex-plain,trino,baseline").split(",")),
                    Integer.parseInt(values.getOrDefault("warmups", "2")),
                    Boolean.parseBoolean(values.getOrDefault("fork", "true")),
                    Optional.ofNullable(values.get("child")),
                    List.of(args));
        }
    }

    private record Configuration(String name, String description, CompressionCodec engineCodec, boolean engineEncryption) {}

    private record Result(String configuration, double writeSeconds, double readSeconds, CpuTime writeCpu, CpuTime readCpu, long storageBytes, long peakSinkMemory, long sinkMemoryPool, long positions) {}

    /**
     * CPU seconds of this JVM (client) and of the S3Proxy process (store; 0 on local disk, where the kernel's work is the client's).
     */
    private record CpuTime(double client, double store)
    {
        CpuTime since(CpuTime start)
        {
            return new CpuTime(client - start.client, store - start.store);
        }
    }

    public static void main(String[] args)
            throws Exception
    {
        Options options = Options.parse(args);
        new SpiBenchmark(options).run();
        System.exit(0);
    }

    private SpiBenchmark(Options options)
    {
        this.options = options;
        this.workDirectory = options.workDirectory().toAbsolutePath();
    }

    private void generatePages()
    {
        System.out.printf("Generating TPC-H lineitem pages...%n");
        this.pages = generatePages(options.partitions());
        PageSerializer serializer = serdeFactory(CompressionCodec.NONE).createSerializer(Optional.empty());
        this.pageBytes = pages.stream().mapToLong(page -> serializer.serialize(page).length()).toArray();
        long distinct = Arrays.stream(pageBytes).sum();
        System.out.printf(
                "%s distinct pages, %s serialized (cycled up to %s per configuration), average page %s%n",
                pages.size(),
                DataSize.succinctBytes(distinct),
                DataSize.succinctBytes(options.dataBytes()),
                DataSize.succinctBytes(distinct / pages.size()));
    }

    /**
     * Lineitem pages cut to the size Trino's page partitioner emits to an exchange sink: min(1 MB, 32 MB / partitions).
     */
    private static List<Page> generatePages(int partitions)
    {
        long targetBytes = Math.min(MAX_PAGE_BYTES, PARTITIONING_BUFFER_BYTES / partitions);
        ImmutableList.Builder<Page> pages = ImmutableList.builder();
        long total = 0;
        RecordPageSource source = new RecordPageSource(TpchRecordSet.createTpchRecordSet(TpchTable.LINE_ITEM, DecimalTypeMapping.DECIMAL, 0.5, 1, 1, TupleDomain.all()));
        while (!source.isFinished() && total < 768L * 1024 * 1024) {
            SourcePage sourcePage = source.getNextSourcePage();
            if (sourcePage == null) {
                continue;
            }
            Page page = sourcePage.getPage();
            long bytesPerRow = Math.max(1, page.getSizeInBytes() / Math.max(1, page.getPositionCount()));
            int rowsPerPage = (int) Math.max(1, targetBytes / bytesPerRow);
            for (int position = 0; position < page.getPositionCount(); position += rowsPerPage) {
                Page region = page.getRegion(position, Math.min(rowsPerPage, page.getPositionCount() - position));
                // compact, so that a page does not drag its parent's arrays into the serializer's size estimates
                pages.add(region.copyPositions(IntStream.range(0, region.getPositionCount()).toArray(), 0, region.getPositionCount()));
            }
            total += page.getSizeInBytes();
        }
        return pages.build();
    }

    private void run()
            throws Exception
    {
        MoreFiles.createParentDirectories(workDirectory.resolve("x"));
        List<Configuration> configurations = Stream.of(
                        new Configuration("spoolex", "Spoolex, its LZ4 + AES-256-GCM on, engine codec off", CompressionCodec.NONE, false),
                        new Configuration("spoolex-plain", "Spoolex, its codec off, engine codec off", CompressionCodec.NONE, false),
                        new Configuration("trino", "Trino 483 filesystem exchange, engine LZ4 + AES (FTE defaults)", CompressionCodec.LZ4, true),
                        new Configuration("baseline", options.storage().equals("local") ? "FileChannel write/read, K threads" : "PutObject/GetObject, same client settings", CompressionCodec.NONE, false))
                .filter(configuration -> options.configurations().contains(configuration.name()))
                .toList();
        if (options.child().isPresent()) {
            Configuration configuration = configurations.stream()
                    .filter(candidate -> candidate.name().equals(options.child().orElseThrow()))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown configuration " + options.child().orElseThrow()));
            runChild(configuration);
            return;
        }
        printMachine();
        if (options.fork()) {
            report(configurations, measureRounds(configurations, this::runForked));
            return;
        }
        generatePages();
        startStorage();
        try {
            // untimed passes of each configuration, so the JIT has compiled the serializer and codecs for all
            for (int warmup = 0; warmup < options.warmups(); warmup++) {
                for (Configuration configuration : configurations) {
                    System.out.printf("warm-up %s%n", configuration.name());
                    Result result = runOnce(configuration);
                    System.out.printf(Locale.ENGLISH, "warm-up %-14s write %6.2fs  read %6.2fs%n", configuration.name(), result.writeSeconds(), result.readSeconds());
                }
            }
            report(configurations, measureRounds(configurations, this::runOnce));
        }
        finally {
            if (s3Proxy != null) {
                s3Proxy.close();
            }
        }
    }

    private interface Measurement
    {
        Result run(Configuration configuration)
                throws Exception;
    }

    /**
     * The measured rounds: every configuration once per round, the order rotating so none always runs first or after the same neighbour.
     */
    private Map<String, List<Result>> measureRounds(List<Configuration> configurations, Measurement measurement)
            throws Exception
    {
        Map<String, List<Result>> results = new LinkedHashMap<>();
        for (int round = 0; round < options.rounds(); round++) {
            for (int i = 0; i < configurations.size(); i++) {
                Configuration configuration = configurations.get((i + round) % configurations.size());
                Result result = measurement.run(configuration);
                results.computeIfAbsent(configuration.name(), _ -> new ArrayList<>()).add(result);
                printRound(round, result);
            }
        }
        return results;
    }

    private void startStorage()
    {
        if (options.storage().equals("s3")) {
            s3Proxy = S3ProxyServer.start();
            try (S3Client client = s3Proxy.createClient()) {
                for (String bucket : List.of("bench-one", "bench-two", "bench-baseline")) {
                    client.createBucket(request -> request.bucket(bucket));
                }
            }
        }
    }

    private Result runOnce(Configuration configuration)
            throws Exception
    {
        return configuration.name().equals("baseline") ? runBaseline() : runExchange(configuration);
    }

    private void printRound(int round, Result result)
    {
        System.out.printf(
                Locale.ENGLISH,
                "round %s %-14s write %6.2fs (%5.0f MB/s, CPU %s)  read %6.2fs (%5.0f MB/s, CPU %s)  storage %s  peak sink memory %s of pool %s%n",
                round + 1,
                result.configuration(),
                result.writeSeconds(),
                megabytesPerSecond(result.writeSeconds()),
                cpu(result.writeCpu()),
                result.readSeconds(),
                megabytesPerSecond(result.readSeconds()),
                cpu(result.readCpu()),
                DataSize.succinctBytes(result.storageBytes()),
                DataSize.succinctBytes(result.peakSinkMemory()),
                DataSize.succinctBytes(result.sinkMemoryPool()));
    }

    private String cpu(CpuTime time)
    {
        return options.storage().equals("local")
                ? String.format(Locale.ENGLISH, "%.1fs", time.client())
                : String.format(Locale.ENGLISH, "%.1fs + store %.1fs", time.client(), time.store());
    }

    /**
     * One measurement in a JVM of its own: warm-up passes, then the measured pass. In one shared JVM the
     * configurations share the JIT's profiles of Trino's serializer and of the JDK's codecs (and the heap's state),
     * which moved a configuration's throughput by up to a third depending on what ran before it.
     */
    private void runChild(Configuration configuration)
            throws Exception
    {
        generatePages();
        startStorage();
        try {
            for (int pass = 0; pass < options.warmups(); pass++) {
                Result warmup = runOnce(configuration);
                System.out.printf(Locale.ENGLISH, "warm-up %-14s write %6.2fs  read %6.2fs%n", configuration.name(), warmup.writeSeconds(), warmup.readSeconds());
            }
            Result result = runOnce(configuration);
            System.out.printf(
                    Locale.ENGLISH,
                    "%s %s %s %s %s %s %s %s %s %s %s %s%n",
                    RESULT_PREFIX,
                    result.configuration(),
                    result.writeSeconds(),
                    result.readSeconds(),
                    result.writeCpu().client(),
                    result.writeCpu().store(),
                    result.readCpu().client(),
                    result.readCpu().store(),
                    result.storageBytes(),
                    result.peakSinkMemory(),
                    result.sinkMemoryPool(),
                    result.positions());
        }
        finally {
            if (s3Proxy != null) {
                s3Proxy.close();
            }
        }
    }

    private Result runForked(Configuration configuration)
            throws IOException, InterruptedException
    {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        // the whole heap touched before the clock starts, as in a server that has run for a while: otherwise the
        // kernel's first-touch page faults (seconds of CPU for a 12 GB heap) land on whichever pass and
        // configuration first allocates into fresh regions, and moved a read phase's CPU time up to threefold
        command.add("-XX:+AlwaysPreTouch");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(SpiBenchmark.class.getName());
        command.addAll(options.arguments());
        command.add("--child");
        command.add(configuration.name());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        Result result = null;
        List<String> output = new ArrayList<>();
        try (var lines = process.inputReader().lines()) {
            for (String line : (Iterable<String>) lines::iterator) {
                output.add(line);
                if (line.startsWith(RESULT_PREFIX + " ")) {
                    String[] fields = line.split(" ");
                    result = new Result(
                            fields[1],
                            Double.parseDouble(fields[2]),
                            Double.parseDouble(fields[3]),
                            new CpuTime(Double.parseDouble(fields[4]), Double.parseDouble(fields[5])),
                            new CpuTime(Double.parseDouble(fields[6]), Double.parseDouble(fields[7])),
                            Long.parseLong(fields[8]),
                            Long.parseLong(fields[9]),
                            Long.parseLong(fields[10]),
                            Long.parseLong(fields[11]));
                }
            }
        }
        int exit = process.waitFor();
        if (exit != 0 || result == null) {
            output.forEach(System.out::println);
            throw new IllegalStateException("the run of %s in its own JVM failed (exit %s)".formatted(configuration.name(), exit));
        }
        return result;
    }

    private Result runExchange(Configuration configuration)
            throws Exception
    {
        ExchangeManager manager = createManager(configuration.name());
        try {
            Optional<SecretKey> engineKey = configuration.engineEncryption() ? Optional.of(engineKey()) : Optional.empty();
            PagesSerdeFactory serde = serdeFactory(configuration.engineCodec());
            Exchange exchange = ExchangeTestKit.createExchange(manager, options.partitions(), false);
            List<ExchangeSinkHandle> sinkHandles = new ArrayList<>();
            for (int task = 0; task < options.sinks(); task++) {
                sinkHandles.add(exchange.addSink(task));
            }
            exchange.noMoreSinks();

            // write: one thread per sink, the serializer in the loop
            long start = System.nanoTime();
            CpuTime cpuStart = cpuTime();
            ExecutorService executor = Executors.newFixedThreadPool(options.sinks());
            List<ExchangeSink> sinks = new ArrayList<>();
            for (ExchangeSinkHandle handle : sinkHandles) {
                sinks.add(ExchangeTestKit.createSink(manager, exchange, handle, 0));
            }
            AtomicLong peakMemory = new AtomicLong();
            AtomicLong writtenPositions = new AtomicLong();
            Thread sampler = Thread.ofPlatform().daemon().start(() -> sampleMemory(sinks, peakMemory));
            List<Future<?>> writers = new ArrayList<>();
            for (int task = 0; task < options.sinks(); task++) {
                int sinkIndex = task;
                writers.add(executor.submit(() -> {
                    PageSerializer serializer = serde.createSerializer(engineKey);
                    ExchangeSink sink = sinks.get(sinkIndex);
                    long bytes = 0;
                    long share = options.dataBytes() / options.sinks();
                    for (int i = sinkIndex; bytes < share; i += options.sinks()) {
                        int pageIndex = i % pages.size();
                        Page page = pages.get(pageIndex);
                        Slice serialized = serializer.serialize(page);
                        await(sink.isBlocked());
                        sink.add(i % options.partitions(), serialized);
                        bytes += pageBytes[pageIndex];
                        writtenPositions.addAndGet(page.getPositionCount());
                    }
                    await(sink.finish());
                    return null;
                }));
            }
            for (Future<?> writer : writers) {
                writer.get();
            }
            sampler.interrupt();
            for (ExchangeSinkHandle handle : sinkHandles) {
                exchange.sinkFinished(handle, 0);
            }
            List<ExchangeSourceHandle> handles = ExchangeTestKit.sourceHandles(exchange);
            syncToDisk();
            double writeSeconds = (System.nanoTime() - start) / 1e9;
            CpuTime writeCpu = cpuTime().since(cpuStart);
            long storageBytes = storedBytes();
            long pool = sinks.getFirst() instanceof SpoolexSink spoolexSink ? spoolexSink.getMemoryBudget() : trinoSinkPool();
            if (sinks.getFirst() instanceof SpoolexSink) {
                for (ExchangeSink sink : sinks) {
                    peakMemory.accumulateAndGet(((SpoolexSink) sink).getPeakMemoryUsage(), Math::max);
                }
            }

            dropCaches();

            // read: partitions spread over K threads, one source per partition (one consuming task each)
            Map<Integer, List<ExchangeSourceHandle>> byPartition = new HashMap<>();
            handles.forEach(handle -> byPartition.computeIfAbsent(handle.getPartitionId(), _ -> new ArrayList<>()).add(handle));
            ExchangeSourceOutputSelector selector = ExchangeTestKit.finalSelector(exchange.getId(), allAttemptsZero(), options.sinks());
            AtomicLong readPositions = new AtomicLong();
            start = System.nanoTime();
            cpuStart = cpuTime();
            profiler("start,event=cpu,interval=1ms,threads");
            List<Future<?>> readers = new ArrayList<>();
            for (int thread = 0; thread < options.sinks(); thread++) {
                int readerIndex = thread;
                readers.add(executor.submit(() -> {
                    PageDeserializer deserializer = serde.createDeserializer(engineKey);
                    for (Map.Entry<Integer, List<ExchangeSourceHandle>> partition : byPartition.entrySet()) {
                        if (partition.getKey() % options.sinks() != readerIndex) {
                            continue;
                        }
                        try (ExchangeSource source = manager.createSource()) {
                            source.addSourceHandles(partition.getValue());
                            source.noMoreSourceHandles();
                            source.setOutputSelector(selector);
                            ExchangeTestKit.drain(source, slice -> readPositions.addAndGet(deserializer.deserialize(slice).getPositionCount()));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> reader : readers) {
                reader.get();
            }
            double readSeconds = (System.nanoTime() - start) / 1e9;
            CpuTime readCpu = cpuTime().since(cpuStart);
            profiler("stop,file=target/benchmarks/profile-%s-read-%s.collapsed".formatted(configuration.name(), ProcessHandle.current().pid()));
            executor.shutdownNow();
            if (readPositions.get() != writtenPositions.get()) {
                throw new IllegalStateException("%s read %s rows but wrote %s".formatted(configuration.name(), readPositions.get(), writtenPositions.get()));
            }
            exchange.close();
            awaitStorageEmpty();
            return new Result(configuration.name(), writeSeconds, readSeconds, writeCpu, readCpu, storageBytes, peakMemory.get(), pool, readPositions.get());
        }
        finally {
            manager.shutdown();
            clearStorage();
        }
    }

    private Map<Integer, Integer> allAttemptsZero()
    {
        Map<Integer, Integer> attempts = new HashMap<>();
        for (int task = 0; task < options.sinks(); task++) {
            attempts.put(task, 0);
        }
        return attempts;
    }

    private static void sampleMemory(List<ExchangeSink> sinks, AtomicLong peak)
    {
        while (!Thread.currentThread().isInterrupted()) {
            for (ExchangeSink sink : sinks) {
                peak.accumulateAndGet(sink.getMemoryUsage(), Math::max);
            }
            try {
                Thread.sleep(5);
            }
            catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Trino's sink pool: max(partitions x 2, 10) buffers of its storage's write size (4 KB local, the part size on S3).
     */
    private long trinoSinkPool()
    {
        long writeBuffer = options.storage().equals("local") ? 4096 : 5L * 1024 * 1024;
        return Math.max(options.partitions() * 2L, 10) * writeBuffer;
    }

    private ExchangeManager createManager(String configuration)
            throws ReflectiveOperationException
    {
        Map<String, String> properties = new HashMap<>();
        properties.put("exchange.max-output-partition-count", Integer.toString(Math.max(50, options.partitions())));
        if (options.storage().equals("local")) {
            properties.put("exchange.base-directories", workDirectory.resolve("one") + "," + workDirectory.resolve("two"));
        }
        else {
            properties.put("exchange.base-directories", "s3://bench-one/spool,s3://bench-two/spool");
            properties.put("exchange.s3.endpoint", s3Proxy.endpoint().toString());
            properties.put("exchange.s3.region", S3ProxyServer.REGION);
            properties.put("exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY);
            properties.put("exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY);
            properties.put("exchange.s3.path-style-access", "true");
        }
        ExchangeManagerFactory factory;
        if (configuration.equals("trino")) {
            Plugin plugin = (Plugin) Class.forName(TRINO_PLUGIN).getConstructor().newInstance();
            factory = plugin.getExchangeManagerFactories().iterator().next();
        }
        else {
            factory = ExchangeTestKit.filesystemFactory();
            if (configuration.equals("spoolex-plain")) {
                properties.put("exchange.encryption-enabled", "false");
                properties.put("exchange.spool-compression-codec", "NONE");
            }
        }
        return factory.create(properties, new ExchangeManagerContext()
        {
            @Override
            public OpenTelemetry getOpenTelemetry()
            {
                return OpenTelemetry.noop();
            }

            @Override
            public Tracer getTracer()
            {
                return OpenTelemetry.noop().getTracer("spoolex-benchmark");
            }
        });
    }

    /**
     * Plain storage without any exchange: K threads writing then reading the same number of bytes.
     */
    private Result runBaseline()
            throws Exception
    {
        byte[] content = baselineContent();
        return options.storage().equals("local") ? runLocalBaseline(content) : runS3Baseline(content);
    }

    private Result runLocalBaseline(byte[] content)
            throws Exception
    {
        Path directory = Files.createDirectories(workDirectory.resolve("baseline"));
        long share = options.dataBytes() / options.sinks();
        ExecutorService executor = Executors.newFixedThreadPool(options.sinks());
        try {
            long start = System.nanoTime();
            CpuTime cpuStart = cpuTime();
            List<Future<?>> writers = new ArrayList<>();
            for (int thread = 0; thread < options.sinks(); thread++) {
                Path file = directory.resolve("data-" + thread);
                int offset = thread * 4096;
                writers.add(executor.submit(() -> {
                    // direct buffers: the JDK would copy a heap buffer into a temporary direct one on every call
                    ByteBuffer buffer = ByteBuffer.allocateDirect(BASELINE_IO_BYTES);
                    buffer.put(content, offset, BASELINE_IO_BYTES).flip();
                    try (FileChannel channel = FileChannel.open(file, CREATE_NEW, WRITE)) {
                        long written = 0;
                        while (written < share) {
                            buffer.clear().limit((int) Math.min(BASELINE_IO_BYTES, share - written));
                            while (buffer.hasRemaining()) {
                                written += channel.write(buffer);
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> writer : writers) {
                writer.get();
            }
            syncToDisk();
            double writeSeconds = (System.nanoTime() - start) / 1e9;
            CpuTime writeCpu = cpuTime().since(cpuStart);
            long storageBytes = storedBytes();
            dropCaches();
            start = System.nanoTime();
            cpuStart = cpuTime();
            List<Future<?>> readers = new ArrayList<>();
            for (int thread = 0; thread < options.sinks(); thread++) {
                Path file = directory.resolve("data-" + thread);
                readers.add(executor.submit(() -> {
                    ByteBuffer buffer = ByteBuffer.allocateDirect(BASELINE_IO_BYTES);
                    long sum = 0;
                    try (FileChannel channel = FileChannel.open(file, READ)) {
                        while (channel.read(buffer.clear()) > 0) {
                            sum += buffer.get(0);
                        }
                    }
                    return sum;
                }));
            }
            for (Future<?> reader : readers) {
                reader.get();
            }
            double readSeconds = (System.nanoTime() - start) / 1e9;
            CpuTime readCpu = cpuTime().since(cpuStart);
            return new Result("baseline", writeSeconds, readSeconds, writeCpu, readCpu, storageBytes, 0, 0, 0);
        }
        finally {
            executor.shutdownNow();
            clearStorage();
        }
    }

    private Result runS3Baseline(byte[] content)
            throws Exception
    {
        int objectBytes = 5 * 1024 * 1024;
        long objects = (options.dataBytes() + objectBytes - 1) / objectBytes;
        Semaphore inFlight = new Semaphore(options.sinks() * 4);
        try (S3AsyncClient client = S3AsyncClient.builder()
                .endpointOverride(s3Proxy.endpoint())
                .region(Region.of(S3ProxyServer.REGION))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .build()) {
            long start = System.nanoTime();
            CpuTime cpuStart = cpuTime();
            List<CompletableFuture<?>> requests = new ArrayList<>();
            for (long object = 0; object < objects; object++) {
                inFlight.acquire();
                int offset = (int) ((object * 4096) % (content.length - objectBytes));
                String key = "object-" + object;
                CompletableFuture<?> put = client.putObject(
                        request -> request.bucket("bench-baseline").key(key),
                        AsyncRequestBody.fromByteBuffer(ByteBuffer.wrap(content, offset, objectBytes)));
                put = put.whenComplete((_, _) -> inFlight.release());
                requests.add(put);
            }
            CompletableFuture.allOf(requests.toArray(CompletableFuture[]::new)).get();
            syncToDisk();
            double writeSeconds = (System.nanoTime() - start) / 1e9;
            CpuTime writeCpu = cpuTime().since(cpuStart);
            long storageBytes = storedBytes();
            dropCaches();
            requests.clear();
            start = System.nanoTime();
            cpuStart = cpuTime();
            for (long object = 0; object < objects; object++) {
                inFlight.acquire();
                String key = "object-" + object;
                CompletableFuture<?> get = client.getObject(request -> request.bucket("bench-baseline").key(key), AsyncResponseTransformer.toBytes());
                get = get.whenComplete((_, _) -> inFlight.release());
                requests.add(get);
            }
            CompletableFuture.allOf(requests.toArray(CompletableFuture[]::new)).get();
            double readSeconds = (System.nanoTime() - start) / 1e9;
            CpuTime readCpu = cpuTime().since(cpuStart);
            try (S3Client sync = s3Proxy.createClient()) {
                for (long object = 0; object < objects; object++) {
                    String key = "object-" + object;
                    sync.deleteObject(request -> request.bucket("bench-baseline").key(key));
                }
            }
            return new Result("baseline", writeSeconds, readSeconds, writeCpu, readCpu, storageBytes, 0, 0, 0);
        }
    }

    /**
     * 64 MB of real serialized page bytes, for the baseline to write.
     */
    private byte[] baselineContent()
    {
        PageSerializer serializer = serdeFactory(CompressionCodec.NONE).createSerializer(Optional.empty());
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        for (int i = 0; content.size() < 64 * 1024 * 1024; i++) {
            content.writeBytes(serializer.serialize(pages.get(i % pages.size())).getBytes());
        }
        return content.toByteArray();
    }

    private long storedBytes()
            throws IOException
    {
        if (options.storage().equals("s3")) {
            long total = 0;
            try (S3Client client = s3Proxy.createClient()) {
                for (String bucket : List.of("bench-one", "bench-two", "bench-baseline")) {
                    for (var object : client.listObjectsV2Paginator(request -> request.bucket(bucket)).contents()) {
                        total += object.size();
                    }
                }
            }
            return total;
        }
        if (!Files.exists(workDirectory)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(workDirectory)) {
            return files.filter(Files::isRegularFile).mapToLong(file -> {
                try {
                    return Files.size(file);
                }
                catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    /**
     * Exchanges delete asynchronously after close(): the next pass must not run beside, or count, those deletes.
     */
    private void awaitStorageEmpty()
            throws InterruptedException, IOException
    {
        long deadline = System.nanoTime() + 60_000_000_000L;
        if (options.storage().equals("s3")) {
            while (storedBytes() > 0) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the buckets still hold objects a minute after the exchange was closed");
                }
                Thread.sleep(50);
            }
            return;
        }
        while (System.nanoTime() < deadline) {
            try (Stream<Path> files = Files.walk(workDirectory)) {
                if (files.noneMatch(Files::isRegularFile)) {
                    return;
                }
            }
            catch (UncheckedIOException e) {
                // a directory vanished while walking: look again
            }
            Thread.sleep(50);
        }
    }

    private void clearStorage()
            throws IOException
    {
        if (Files.exists(workDirectory)) {
            MoreFiles.deleteDirectoryContents(workDirectory, ALLOW_INSECURE);
        }
    }

    /**
     * Every write phase, the baseline's too, ends when the written bytes are on the disk (S3Proxy's store included):
     * 2 GB fit in this machine's dirty page cache, so without this the baseline measured memory bandwidth (up to
     * 8 GB/s) instead of the disk, and every configuration's number depended on how much earlier data was still
     * being written back.
     */
    private static void syncToDisk()
            throws IOException, InterruptedException
    {
        int exit = new ProcessBuilder("sync").inheritIO().start().waitFor();
        if (exit != 0) {
            throw new IOException("sync failed with exit code " + exit);
        }
    }

    /**
     * Empties the page cache, so reads come from the disk (needs root; skipped otherwise).
     */
    private static void dropCaches()
    {
        try {
            new ProcessBuilder("sync").inheritIO().start().waitFor();
            Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
        }
        catch (IOException | InterruptedException e) {
            // not allowed here: reads may come from the page cache, for every configuration alike
        }
    }

    private static PagesSerdeFactory serdeFactory(CompressionCodec codec)
    {
        return PagesSerdes.createSpillingPagesSerdeFactory(TESTING_BLOCK_ENCODING_SERDE, codec);
    }

    private static SecretKey engineKey()
    {
        try {
            KeyGenerator generator = KeyGenerator.getInstance("AES");
            generator.init(256);
            return generator.generateKey();
        }
        catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * With {@code -Dspoolex.bench.async-profiler=/path/to/libasyncProfiler.so} and async-profiler's jar on the class
     * path, profiles every read phase into target/benchmarks/profile-*.collapsed (a diagnostic, not a measurement).
     */
    private static void profiler(String command)
    {
        String library = System.getProperty("spoolex.bench.async-profiler");
        if (library == null) {
            return;
        }
        try {
            Class<?> profiler = Class.forName("one.profiler.AsyncProfiler");
            Object instance = profiler.getMethod("getInstance", String.class).invoke(null, library);
            profiler.getMethod("execute", String.class).invoke(instance, command);
        }
        catch (ReflectiveOperationException e) {
            throw new IllegalStateException("async-profiler failed: " + command, e);
        }
    }

    private CpuTime cpuTime()
    {
        double client = ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
        double store = s3Proxy == null ? 0 : s3Proxy.cpuTime().toNanos() / 1e9;
        return new CpuTime(client, store);
    }

    private double megabytesPerSecond(double seconds)
    {
        return options.dataBytes() / seconds / 1_000_000.0;
    }

    private void printMachine()
    {
        System.out.printf(
                Locale.ENGLISH,
                "Machine: %s cores, %s heap, Java %s; storage %s; K=%s sinks, P=%s partitions, D=%s page bytes per configuration, %s rounds%n",
                Runtime.getRuntime().availableProcessors(),
                DataSize.succinctBytes(Runtime.getRuntime().maxMemory()),
                System.getProperty("java.version"),
                options.storage(),
                options.sinks(),
                options.partitions(),
                DataSize.succinctBytes(options.dataBytes()),
                options.rounds());
        System.out.println("JVM arguments: " + ManagementFactory.getRuntimeMXBean().getInputArguments());
    }

    private void report(List<Configuration> configurations, Map<String, List<Result>> results)
            throws IOException
    {
        Map<String, double[]> medians = new LinkedHashMap<>();
        Map<String, CpuTime[]> cpuMedians = new LinkedHashMap<>();
        for (Configuration configuration : configurations) {
            List<Result> runs = results.get(configuration.name());
            double write = median(runs.stream().mapToDouble(Result::writeSeconds).toArray());
            double read = median(runs.stream().mapToDouble(Result::readSeconds).toArray());
            cpuMedians.put(configuration.name(), new CpuTime[] {
                    new CpuTime(median(runs.stream().mapToDouble(run -> run.writeCpu().client()).toArray()), median(runs.stream().mapToDouble(run -> run.writeCpu().store()).toArray())),
                    new CpuTime(median(runs.stream().mapToDouble(run -> run.readCpu().client()).toArray()), median(runs.stream().mapToDouble(run -> run.readCpu().store()).toArray())),
            });
            medians.put(configuration.name(), new double[] {megabytesPerSecond(write), megabytesPerSecond(read), megabytesPerSecond(write + read)});
        }
        String label = "spi-%s-p%s".formatted(options.storage(), options.partitions());
        StringBuilder table = new StringBuilder();
        table.append("Storage: %s; K=%s sinks, P=%s output partitions, D=%s page bytes; median of %s interleaved rounds%s.%n%n"
                .formatted(options.storage(),
                        options.sinks(),
                        options.partitions(),
                        DataSize.succinctBytes(options.dataBytes()),
                        options.rounds(),
                        options.fork() ? ", every measurement in a JVM of its own after %s warm-up passes".formatted(options.warmups()) : ", all in one JVM after %s warm-up passes of each".formatted(options.warmups())));
        table.append("CPU s: CPU time of the phase (medians) in the measuring JVM%s.%n%n".formatted(options.storage().equals("s3") ? " + in the S3Proxy process" : ", kernel time included"));
        table.append("| configuration | write MB/s | read MB/s | write+read MB/s | write CPU s | read CPU s | stored | peak sink memory / pool |\n");
        table.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Configuration configuration : configurations) {
            double[] median = medians.get(configuration.name());
            Result last = results.get(configuration.name()).getLast();
            String memory = last.sinkMemoryPool() == 0 ? "—" : "%s / %s".formatted(DataSize.succinctBytes(last.peakSinkMemory()), DataSize.succinctBytes(last.sinkMemoryPool()));
            CpuTime[] cpu = cpuMedians.get(configuration.name());
            table.append(String.format(
                    Locale.ENGLISH,
                    "| %s — %s | %.0f | %.0f | %.0f | %s | %s | %s | %s |%n",
                    configuration.name(),
                    configuration.description(),
                    median[0],
                    median[1],
                    median[2],
                    cpu(cpu[0]),
                    cpu(cpu[1]),
                    DataSize.succinctBytes(last.storageBytes()),
                    memory));
        }
        if (medians.size() < 4) {
            System.out.println();
            System.out.print(table);
            return;
        }
        double[] spoolex = medians.get("spoolex");
        double[] plain = medians.get("spoolex-plain");
        double[] trino = medians.get("trino");
        double[] baseline = medians.get("baseline");
        table.append("\n| ratio | write | read | write+read |\n|---|---:|---:|---:|\n");
        table.append(ratioRow("spoolex / trino (target ≥ 1.5)", spoolex, trino));
        table.append(ratioRow("spoolex-plain / baseline (target ≥ 0.8)", plain, baseline));
        table.append(ratioRow("spoolex / baseline", spoolex, baseline));
        table.append(ratioRow("trino / baseline", trino, baseline));
        System.out.println();
        System.out.print(table);
        Path output = Path.of("target/benchmarks");
        Files.createDirectories(output);
        Files.writeString(output.resolve(label + ".md"), table.toString());

        List<BarChart.Group> groups = new ArrayList<>();
        String[] phases = {"write", "read", "write+read"};
        for (int phase = 0; phase < phases.length; phase++) {
            groups.add(new BarChart.Group(phases[phase], List.of(
                    new BarChart.Bar("spoolex / trino", spoolex[phase] / trino[phase]),
                    new BarChart.Bar("spoolex-plain / baseline", plain[phase] / baseline[phase]),
                    new BarChart.Bar("spoolex / baseline", spoolex[phase] / baseline[phase]))));
        }
        BarChart.write(output.resolve(label + ".png"),
                "Exchange SPI throughput, %s storage, K=%s, P=%s".formatted(options.storage(), options.sinks(), options.partitions()),
                "ratio of MB/s of page bytes (higher is better); targets 1.5 (vs Trino) and 0.8 (vs baseline)",
                groups,
                List.of(0.8, 1.0, 1.5));
        System.out.println("Wrote " + output.resolve(label + ".md") + " and " + output.resolve(label + ".png"));
    }

    private static String ratioRow(String label, double[] numerator, double[] denominator)
    {
        return String.format(Locale.ENGLISH, "| %s | %.2f | %.2f | %.2f |%n", label, numerator[0] / denominator[0], numerator[1] / denominator[1], numerator[2] / denominator[2]);
    }

    private static double median(double[] values)
    {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
