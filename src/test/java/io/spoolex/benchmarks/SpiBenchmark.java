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
import io.airlift.slice.XxHash64;
import io.airlift.units.DataSize;
import io.spoolex.benchmarks.ComparedPlugins.ComparedPlugin;
import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.plugin.PluginArchive.LoadedPlugin;
import io.trino.execution.buffer.CompressionCodec;
import io.trino.execution.buffer.PageDeserializer;
import io.trino.execution.buffer.PageSerializer;
import io.trino.execution.buffer.PagesSerdeFactory;
import io.trino.execution.buffer.PagesSerdes;
import io.trino.plugin.tpch.DecimalTypeMapping;
import io.trino.plugin.tpch.TpchRecordSet;
import io.trino.spi.Page;
import io.trino.spi.connector.RecordPageSource;
import io.trino.spi.connector.SourcePage;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSource;
import io.trino.spi.exchange.ExchangeSourceHandle;
import io.trino.spi.exchange.ExchangeSourceOutputSelector;
import io.trino.spi.predicate.TupleDomain;
import io.trino.tpch.TpchTable;

import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static io.spoolex.exchange.ExchangeTestKit.await;
import static io.trino.metadata.InternalBlockEncodingSerde.TESTING_BLOCK_ENCODING_SERDE;

/**
 * Exchange throughput through the SPI alone, as the engine drives it: K sinks (tasks) each write to P output
 * partitions, then sources read every partition back through the source handles and a final output selector. Both
 * plugins are loaded from plugin folders in class loaders of their own, as a Trino server loads them
 * ({@link ComparedPlugins}): Spoolex from its built archive, Trino's from its jars on Maven Central. Two workloads:
 * <ul>
 * <li>{@code pages} (default): TPC-H lineitem pages serialized by Trino's own page serializer inside the timed loops,
 * deserialized after every read, with the engine's codec as each configuration runs it;</li>
 * <li>{@code raw}: the same serialized bytes prepared before the clock starts and handed to every configuration
 * alike, reads only checked (length and hash): what the plugin itself costs, whatever the engine did to the bytes.</li>
 * </ul>
 * Configurations, in one run, interleaved:
 * <ul>
 * <li>{@code spoolex}: the engine's exchange codec off, Spoolex's LZ4 and AES-256-GCM on (the recommended setup);</li>
 * <li>{@code spoolex-plain}: the engine's codec off and Spoolex's off too;</li>
 * <li>{@code trino}: Trino's own exchange manager for the storage (filesystem 483; hdfs from the 476 server) with
 * the engine's FTE defaults (LZ4 + AES in the serializer; in the raw workload it gets the same bytes as the others);</li>
 * <li>{@code baseline}: the same number of bytes written and read with the storage's plain client by K threads.</li>
 * </ul>
 * Throughput is MB/s of page bytes as the engine's uncompressed serializer produces them. Every measurement runs in
 * a JVM of its own ({@code --warmups} untimed passes, 2 by default, then the measured pass), rounds rotating the order
 * of the configurations; {@code --fork false} runs everything in this JVM instead. Ratios are reported per round (the
 * configurations of a round ran next to each other) and as ratios of medians. Run with
 * {@code bin/bench spi [--storage local|s3|azure|hdfs] [--workload pages|raw] [--data-size 2GB] [--sinks 4]
 * [--partitions 50] [--rounds 3] [--warmups 2] [--fork true]}.
 * Each phase also reports its CPU time: this JVM's, and the storage server's process where it has one (S3Proxy,
 * Azurite; the HDFS minicluster runs in this JVM).
 */
public final class SpiBenchmark
{
    private static final long MAX_PAGE_BYTES = 1024 * 1024;
    private static final long PARTITIONING_BUFFER_BYTES = 32 * 1024 * 1024;
    private static final String RESULT_PREFIX = "SPI-BENCHMARK-RESULT";

    private final Options options;
    private final Path workDirectory;
    private final Map<ComparedPlugin, LoadedPlugin> plugins = new EnumMap<>(ComparedPlugin.class);
    private List<Page> pages;
    private List<Slice> serializedPages;
    private long[] pageBytes;
    private long[] pageHashes;
    private BenchmarkStorage storage;

    private record Options(String storage, String workload, long dataBytes, int sinks, int partitions, int rounds, Path workDirectory, List<String> configurations, int warmups, boolean fork, Optional<String> child, List<String> arguments)
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
            String defaultSize = switch (storage) {
                case "local" -> "2GB";
                case "s3", "hdfs" -> "1GB";
                case "azure" -> "512MB";
                default -> throw new IllegalArgumentException("--storage must be local, s3, azure or hdfs");
            };
            String workload = values.getOrDefault("workload", "pages");
            if (!workload.equals("pages") && !workload.equals("raw")) {
                throw new IllegalArgumentException("--workload must be pages or raw");
            }
            return new Options(
                    storage,
                    workload,
                    DataSize.valueOf(values.getOrDefault("data-size", defaultSize)).toBytes(),
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

        boolean raw()
        {
            return workload.equals("raw");
        }
    }

    private record Configuration(String name, String description, Optional<ComparedPlugin> plugin, CompressionCodec engineCodec, boolean engineEncryption, Map<String, String> properties) {}

    /**
     * One measured pass. {@code units} is rows (pages workload) or bytes (raw), {@code checksum} the sum of the read
     * slices' hashes (raw) — both must equal what was written.
     */
    private record Result(String configuration, double writeSeconds, double readSeconds, CpuTime writeCpu, CpuTime readCpu, long storageBytes, long peakSinkMemory, long sinkMemoryPool, long units)
    {
        double seconds()
        {
            return writeSeconds + readSeconds;
        }
    }

    /**
     * CPU seconds of this JVM (client) and of the storage server's process (store; 0 where it has none).
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
        this.serializedPages = pages.stream().map(serializer::serialize).map(Slice::copy).toList();
        this.pageBytes = serializedPages.stream().mapToLong(Slice::length).toArray();
        // the raw workload's check of what it wrote, computed before the clock starts
        this.pageHashes = serializedPages.stream().mapToLong(XxHash64::hash).toArray();
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

    private List<Configuration> configurations()
    {
        boolean hdfs = options.storage().equals("hdfs");
        ComparedPlugin spoolex = hdfs ? ComparedPlugin.SPOOLEX_HDFS : ComparedPlugin.SPOOLEX_FILESYSTEM;
        ComparedPlugin trino = hdfs ? ComparedPlugin.TRINO_HDFS : ComparedPlugin.TRINO_FILESYSTEM;
        String trinoCodec = options.raw() ? "the same bytes (engine codec outside the plugin, not in the loop)" : "engine LZ4 + AES (FTE defaults)";
        return Stream.of(
                        new Configuration("spoolex", "%s, its LZ4 + AES-256-GCM on, engine codec off".formatted(spoolex.description()), Optional.of(spoolex), CompressionCodec.NONE, false, Map.of()),
                        new Configuration(
                                "spoolex-plain",
                                "%s, its codec off, engine codec off".formatted(spoolex.description()),
                                Optional.of(spoolex),
                                CompressionCodec.NONE,
                                false,
                                Map.of("exchange.encryption-enabled", "false", "exchange.spool-compression-codec", "NONE")),
                        new Configuration("trino", "%s, %s".formatted(trino.description(), trinoCodec), Optional.of(trino), CompressionCodec.LZ4, true, Map.of()),
                        new Configuration("baseline", "the storage's plain client, no exchange", Optional.empty(), CompressionCodec.NONE, false, Map.of()))
                .filter(configuration -> options.configurations().contains(configuration.name()))
                .toList();
    }

    private void run()
            throws Exception
    {
        MoreFiles.createParentDirectories(workDirectory.resolve("x"));
        List<Configuration> configurations = configurations();
        if (options.child().isPresent()) {
            Configuration configuration = configurations.stream()
                    .filter(candidate -> candidate.name().equals(options.child().orElseThrow()))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown configuration " + options.child().orElseThrow()));
            runChild(configuration);
            return;
        }
        printMachine(configurations);
        if (options.fork()) {
            report(configurations, measureRounds(configurations, this::runForked));
            return;
        }
        generatePages();
        storage = BenchmarkStorage.start(options.storage(), workDirectory);
        try {
            // untimed passes of each configuration, so the JIT has compiled the serializer and codecs for all
            for (int warmup = 0; warmup < options.warmups(); warmup++) {
                for (Configuration configuration : configurations) {
                    Result result = runOnce(configuration);
                    System.out.printf(Locale.ENGLISH, "warm-up %-14s write %6.2fs  read %6.2fs%n", configuration.name(), result.writeSeconds(), result.readSeconds());
                }
            }
            report(configurations, measureRounds(configurations, this::runOnce));
        }
        finally {
            storage.close();
        }
    }

    private interface Measurement
    {
        Result run(Configuration configuration)
                throws Exception;
    }

    /**
     * The measured rounds: every configuration once per round, the order rotating so none always runs first or after
     * the same neighbour. Each configuration's list holds its results in round order.
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

    private Result runOnce(Configuration configuration)
            throws Exception
    {
        return configuration.plugin().isEmpty() ? runBaseline() : runExchange(configuration);
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

    private boolean storeHasProcess()
    {
        return options.storage().equals("s3") || options.storage().equals("azure");
    }

    private String cpu(CpuTime time)
    {
        return storeHasProcess()
                ? String.format(Locale.ENGLISH, "%.1fs + store %.1fs", time.client(), time.store())
                : String.format(Locale.ENGLISH, "%.1fs", time.client());
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
        storage = BenchmarkStorage.start(options.storage(), workDirectory);
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
                    result.units());
        }
        finally {
            storage.close();
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

    private ExchangeManager createManager(Configuration configuration)
    {
        ComparedPlugin plugin = configuration.plugin().orElseThrow();
        LoadedPlugin loaded = plugins.computeIfAbsent(plugin, ComparedPlugin::load);
        Map<String, String> properties = new HashMap<>(storage.spoolProperties());
        properties.put("exchange.max-output-partition-count", Integer.toString(Math.max(50, options.partitions())));
        properties.putAll(configuration.properties());
        return ComparedPlugins.createExchangeManager(loaded, storage.factoryName(), properties);
    }

    private Result runExchange(Configuration configuration)
            throws Exception
    {
        ExchangeManager manager = createManager(configuration);
        try {
            boolean raw = options.raw();
            Optional<SecretKey> engineKey = configuration.engineEncryption() ? Optional.of(engineKey()) : Optional.empty();
            PagesSerdeFactory serde = serdeFactory(configuration.engineCodec());
            Exchange exchange = ExchangeTestKit.createExchange(manager, options.partitions(), false);
            List<ExchangeSinkHandle> sinkHandles = new ArrayList<>();
            for (int task = 0; task < options.sinks(); task++) {
                sinkHandles.add(exchange.addSink(task));
            }
            exchange.noMoreSinks();

            // write: one thread per sink, the serializer in the loop (pages workload)
            long start = System.nanoTime();
            CpuTime cpuStart = cpuTime();
            profileStart();
            ExecutorService executor = Executors.newFixedThreadPool(options.sinks());
            List<ExchangeSink> sinks = new ArrayList<>();
            for (ExchangeSinkHandle handle : sinkHandles) {
                sinks.add(ExchangeTestKit.createSink(manager, exchange, handle, 0));
            }
            AtomicLong peakMemory = new AtomicLong();
            AtomicLong writtenUnits = new AtomicLong();
            AtomicLong writtenChecksum = new AtomicLong();
            Thread sampler = Thread.ofPlatform().daemon().start(() -> sampleMemory(sinks, peakMemory));
            List<Future<?>> writers = new ArrayList<>();
            for (int task = 0; task < options.sinks(); task++) {
                int sinkIndex = task;
                writers.add(executor.submit(() -> {
                    PageSerializer serializer = serde.createSerializer(engineKey);
                    ExchangeSink sink = sinks.get(sinkIndex);
                    long bytes = 0;
                    long checksum = 0;
                    long share = options.dataBytes() / options.sinks();
                    for (int i = sinkIndex; bytes < share; i += options.sinks()) {
                        int pageIndex = i % pages.size();
                        Slice serialized = raw ? serializedPages.get(pageIndex) : serializer.serialize(pages.get(pageIndex));
                        await(sink.isBlocked());
                        sink.add(i % options.partitions(), serialized);
                        bytes += pageBytes[pageIndex];
                        if (raw) {
                            checksum += pageHashes[pageIndex];
                            writtenUnits.addAndGet(pageBytes[pageIndex]);
                        }
                        else {
                            writtenUnits.addAndGet(pages.get(pageIndex).getPositionCount());
                        }
                    }
                    writtenChecksum.addAndGet(checksum);
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
            profileStop(configuration, "write");
            long storageBytes = storage.storedBytes();
            // Spoolex's sinks report their pool and peak; the classes live in the plugin's class loader
            long pool = ComparedPlugins.callLong(sinks.getFirst(), "getMemoryBudget").orElseGet(() -> storage.trinoSinkPool(options.partitions()));
            for (ExchangeSink sink : sinks) {
                peakMemory.accumulateAndGet(ComparedPlugins.callLong(sink, "getPeakMemoryUsage").orElse(0), Math::max);
            }

            dropCaches();

            // read: partitions spread over K threads, one source per partition (one consuming task each)
            Map<Integer, List<ExchangeSourceHandle>> byPartition = new HashMap<>();
            handles.forEach(handle -> byPartition.computeIfAbsent(handle.getPartitionId(), _ -> new ArrayList<>()).add(handle));
            ExchangeSourceOutputSelector selector = ExchangeTestKit.finalSelector(exchange.getId(), allAttemptsZero(), options.sinks());
            AtomicLong readUnits = new AtomicLong();
            AtomicLong readChecksum = new AtomicLong();
            start = System.nanoTime();
            cpuStart = cpuTime();
            profileStart();
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
                            ExchangeTestKit.drain(source, slice -> {
                                if (raw) {
                                    readUnits.addAndGet(slice.length());
                                    readChecksum.addAndGet(XxHash64.hash(slice));
                                }
                                else {
                                    readUnits.addAndGet(deserializer.deserialize(slice).getPositionCount());
                                }
                            });
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
            profileStop(configuration, "read");
            executor.shutdownNow();
            if (readUnits.get() != writtenUnits.get() || readChecksum.get() != writtenChecksum.get()) {
                throw new IllegalStateException("%s read %s %s (checksum %s) but wrote %s (checksum %s)".formatted(
                        configuration.name(), readUnits.get(), raw ? "bytes" : "rows", readChecksum.get(), writtenUnits.get(), writtenChecksum.get()));
            }
            exchange.close();
            awaitStorageEmpty();
            return new Result(configuration.name(), writeSeconds, readSeconds, writeCpu, readCpu, storageBytes, peakMemory.get(), pool, readUnits.get());
        }
        finally {
            manager.shutdown();
            storage.clear();
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
     * Plain storage without any exchange: K threads writing then reading the same number of bytes.
     */
    private Result runBaseline()
            throws Exception
    {
        byte[] content = baselineContent();
        try {
            long start = System.nanoTime();
            CpuTime cpuStart = cpuTime();
            storage.writeBaseline(content, options.dataBytes(), options.sinks());
            syncToDisk();
            double writeSeconds = (System.nanoTime() - start) / 1e9;
            CpuTime writeCpu = cpuTime().since(cpuStart);
            long storageBytes = storage.storedBytes();
            dropCaches();
            start = System.nanoTime();
            cpuStart = cpuTime();
            storage.readBaseline(options.sinks());
            double readSeconds = (System.nanoTime() - start) / 1e9;
            CpuTime readCpu = cpuTime().since(cpuStart);
            return new Result("baseline", writeSeconds, readSeconds, writeCpu, readCpu, storageBytes, 0, 0, 0);
        }
        finally {
            storage.clear();
        }
    }

    /**
     * 64 MB of real serialized page bytes, for the baseline to write.
     */
    private byte[] baselineContent()
    {
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        for (int i = 0; content.size() < 64 * 1024 * 1024; i++) {
            content.writeBytes(serializedPages.get(i % serializedPages.size()).getBytes());
        }
        return content.toByteArray();
    }

    /**
     * Exchanges delete asynchronously after close(): the next pass must not run beside, or count, those deletes.
     */
    private void awaitStorageEmpty()
            throws InterruptedException, IOException
    {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (storage.storedBytes() > 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the storage still holds spool data a minute after the exchange was closed");
            }
            Thread.sleep(50);
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
     * {@code bin/bench spi --profile cpu|wall} sets {@code spoolex.bench.async-profiler} (async-profiler's library,
     * its jar on the class path) and {@code spoolex.bench.profile-event}: every pass's write and read phases are then
     * profiled, one thread per stack root, into {@code target/benchmarks/profile-<configuration>-<phase>-<event>.collapsed}
     * (the measured pass runs last and overwrites the warm-ups'). A diagnostic: the sampling costs a few percent, so
     * a profiled run's times are not results.
     */
    private static void profileStart()
    {
        profileEvent().ifPresent(event -> profiler("start,event=%s,interval=%s,threads".formatted(event, event.equals("wall") ? "5ms" : "1ms")));
    }

    private static void profileStop(Configuration configuration, String phase)
    {
        profileEvent().ifPresent(event -> profiler("stop,file=target/benchmarks/profile-%s-%s-%s.collapsed".formatted(configuration.name(), phase, event)));
    }

    private static Optional<String> profileEvent()
    {
        if (System.getProperty("spoolex.bench.async-profiler") == null) {
            return Optional.empty();
        }
        return Optional.of(System.getProperty("spoolex.bench.profile-event", "cpu"));
    }

    private static void profiler(String command)
    {
        try {
            Class<?> profiler = Class.forName("one.profiler.AsyncProfiler");
            Object instance = profiler.getMethod("getInstance", String.class).invoke(null, System.getProperty("spoolex.bench.async-profiler"));
            profiler.getMethod("execute", String.class).invoke(instance, command);
        }
        catch (ReflectiveOperationException e) {
            throw new IllegalStateException("async-profiler failed: " + command, e);
        }
    }

    private CpuTime cpuTime()
    {
        double client = ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
        double store = storage.storeCpuTime().toNanos() / 1e9;
        return new CpuTime(client, store);
    }

    private double megabytesPerSecond(double seconds)
    {
        return options.dataBytes() / seconds / 1_000_000.0;
    }

    private void printMachine(List<Configuration> configurations)
    {
        System.out.printf(
                Locale.ENGLISH,
                "Machine: %s cores, %s heap, Java %s; storage %s; workload %s; K=%s sinks, P=%s partitions, D=%s page bytes per configuration, %s rounds%n",
                Runtime.getRuntime().availableProcessors(),
                DataSize.succinctBytes(Runtime.getRuntime().maxMemory()),
                System.getProperty("java.version"),
                options.storage(),
                options.workload(),
                options.sinks(),
                options.partitions(),
                DataSize.succinctBytes(options.dataBytes()),
                options.rounds());
        System.out.println("JVM arguments: " + ManagementFactory.getRuntimeMXBean().getInputArguments());
        for (Configuration configuration : configurations) {
            configuration.plugin().ifPresent(plugin -> System.out.printf("%s: %s, folder %s%n", configuration.name(), ComparedPlugins.origin(plugin.load()), plugin.folder()));
        }
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
            double total = median(runs.stream().mapToDouble(Result::seconds).toArray());
            cpuMedians.put(configuration.name(), new CpuTime[] {
                    new CpuTime(median(runs.stream().mapToDouble(run -> run.writeCpu().client()).toArray()), median(runs.stream().mapToDouble(run -> run.writeCpu().store()).toArray())),
                    new CpuTime(median(runs.stream().mapToDouble(run -> run.readCpu().client()).toArray()), median(runs.stream().mapToDouble(run -> run.readCpu().store()).toArray())),
            });
            medians.put(configuration.name(), new double[] {megabytesPerSecond(write), megabytesPerSecond(read), megabytesPerSecond(total)});
        }
        String label = "spi-%s-p%s%s".formatted(options.storage(), options.partitions(), options.raw() ? "-raw" : "");
        StringBuilder table = new StringBuilder();
        table.append("Storage: %s; workload %s; K=%s sinks, P=%s output partitions, D=%s page bytes; median of %s interleaved rounds%s; both plugins loaded from plugin folders in plugin class loaders.%n%n"
                .formatted(options.storage(),
                        options.raw() ? "raw (the same serialized bytes to every configuration, reads checked by hash)" : "pages (Trino's serializer and deserializer in the loops)",
                        options.sinks(),
                        options.partitions(),
                        DataSize.succinctBytes(options.dataBytes()),
                        options.rounds(),
                        options.fork() ? ", every measurement in a JVM of its own after %s warm-up passes".formatted(options.warmups()) : ", all in one JVM after %s warm-up passes of each".formatted(options.warmups())));
        table.append("CPU s: CPU time of the phase (medians) in the measuring JVM%s.%n%n".formatted(storeHasProcess() ? " + in the storage server's process" : ", kernel time included"));
        table.append("| configuration | write MB/s | read MB/s | write+read MB/s | write CPU s | read CPU s | stored | peak sink memory / pool |\n");
        table.append("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Configuration configuration : configurations) {
            double[] median = medians.get(configuration.name());
            Result last = results.get(configuration.name()).getLast();
            String memory = last.sinkMemoryPool() == 0 ? "—" : "%s / %s".formatted(DataSize.succinctBytes(last.peakSinkMemory()), DataSize.succinctBytes(last.sinkMemoryPool()));
            CpuTime[] cpu = cpuMedians.get(configuration.name());
            String description = configuration.plugin().isPresent() ? configuration.description() : BenchmarkStorage.baselineDescription(options.storage());
            table.append(String.format(
                    Locale.ENGLISH,
                    "| %s — %s | %.0f | %.0f | %.0f | %s | %s | %s | %s |%n",
                    configuration.name(),
                    description,
                    median[0],
                    median[1],
                    median[2],
                    cpu(cpu[0]),
                    cpu(cpu[1]),
                    DataSize.succinctBytes(last.storageBytes()),
                    memory));
        }
        List<String[]> pairs = new ArrayList<>();
        for (String[] pair : List.of(
                new String[] {"spoolex", "trino", "target ≥ 1.5 write+read, ≥ 1.2 read"},
                new String[] {"spoolex-plain", "trino", "the plugins' own cost"},
                new String[] {"spoolex-plain", "baseline", "target ≥ 0.8"},
                new String[] {"spoolex", "baseline", ""},
                new String[] {"trino", "baseline", ""})) {
            if (medians.containsKey(pair[0]) && medians.containsKey(pair[1])) {
                pairs.add(pair);
            }
        }
        if (!pairs.isEmpty()) {
            table.append("\n| ratio (throughput) | write | read | write+read | write+read per round |\n|---|---:|---:|---:|---|\n");
            for (String[] pair : pairs) {
                double[] numerator = medians.get(pair[0]);
                double[] denominator = medians.get(pair[1]);
                List<Result> numeratorRuns = results.get(pair[0]);
                List<Result> denominatorRuns = results.get(pair[1]);
                StringBuilder perRound = new StringBuilder();
                for (int round = 0; round < numeratorRuns.size(); round++) {
                    // throughput ratio = inverse ratio of the seconds the two took in the same round
                    perRound.append(perRound.isEmpty() ? "" : ", ").append(String.format(Locale.ENGLISH, "%.2f", denominatorRuns.get(round).seconds() / numeratorRuns.get(round).seconds()));
                }
                table.append(String.format(
                        Locale.ENGLISH,
                        "| %s / %s%s | %.2f | %.2f | %.2f | %s |%n",
                        pair[0],
                        pair[1],
                        pair[2].isEmpty() ? "" : " (" + pair[2] + ")",
                        numerator[0] / denominator[0],
                        numerator[1] / denominator[1],
                        numerator[2] / denominator[2],
                        perRound));
            }
        }
        System.out.println();
        System.out.print(table);
        Path output = Path.of("target/benchmarks");
        Files.createDirectories(output);
        Files.writeString(output.resolve(label + ".md"), table.toString());
        if (pairs.isEmpty()) {
            return;
        }

        List<BarChart.Group> groups = new ArrayList<>();
        String[] phases = {"write", "read", "write+read"};
        for (int phase = 0; phase < phases.length; phase++) {
            int index = phase;
            groups.add(new BarChart.Group(phases[phase], pairs.stream()
                    .map(pair -> new BarChart.Bar(pair[0] + " / " + pair[1], medians.get(pair[0])[index] / medians.get(pair[1])[index]))
                    .toList()));
        }
        BarChart.write(output.resolve(label + ".png"),
                "Exchange SPI throughput, %s storage, %s workload, K=%s, P=%s (both plugins loaded as Trino loads them)".formatted(options.storage(), options.workload(), options.sinks(), options.partitions()),
                "ratio of MB/s of page bytes, medians of %s rounds (higher: the first is faster)".formatted(options.rounds()),
                groups,
                List.of(0.8, 1.0, 1.5));
        System.out.println("Wrote " + output.resolve(label + ".md") + " and " + output.resolve(label + ".png"));
    }

    private static double median(double[] values)
    {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
