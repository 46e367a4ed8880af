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

import io.airlift.compress.v3.lz4.Lz4Compressor;
import io.airlift.compress.v3.lz4.Lz4Decompressor;
import io.airlift.compress.v3.lz4.Lz4JavaCompressor;
import io.airlift.compress.v3.lz4.Lz4JavaDecompressor;
import io.airlift.compress.v3.lz4.Lz4NativeCompressor;
import io.airlift.compress.v3.lz4.Lz4NativeDecompressor;
import io.airlift.slice.Slice;
import io.spoolex.format.SpoolFileFormat;
import io.spoolex.plugin.PluginArchive;
import io.trino.execution.buffer.CompressionCodec;
import io.trino.execution.buffer.PageSerializer;
import io.trino.execution.buffer.PagesSerdes;
import io.trino.plugin.tpch.DecimalTypeMapping;
import io.trino.plugin.tpch.TpchRecordSet;
import io.trino.spi.connector.RecordPageSource;
import io.trino.spi.connector.SourcePage;
import io.trino.spi.predicate.TupleDomain;
import io.trino.tpch.TpchTable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;
import static com.google.common.collect.MoreCollectors.onlyElement;
import static io.trino.metadata.InternalBlockEncodingSerde.TESTING_BLOCK_ENCODING_SERDE;

/**
 * LZ4 block compression and decompression on one core, MB/s of uncompressed bytes, for the implementations Spoolex
 * could use: lz4-java's JNI binding and its pure-Java fallback, both loaded from the plugin archive's own jars in a
 * Trino plugin class loader (which decides between them: there {@code LZ4Factory.fastestInstance()} is the Java
 * one), and Trino's own aircompressor (its FFM-based native LZ4 and its pure-Java one, from the test class path).
 * The same 16 MB in 256 KB blocks for all: the codec benchmark's synthetic page records, and real TPC-H lineitem pages
 * as Trino's serializer writes them with its own codec off (Spoolex's recommended setup).
 * <p>
 * {@code bin/bench lz4 [--rounds 3] [--codecs a,b] [--data synthetic,lineitem] [--block-size 262144] [--archive PATH]}:
 * each round runs every implementation (one JMH fork per implementation, operation and data set), in an order that
 * rotates from round to round; the table has the median of the rounds and their spread. See docs/benchmarks.md.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class Lz4ImplementationBenchmark
{
    static final String PLUGIN_DIRECTORY_PROPERTY = "spoolex.bench.plugin-directory";
    private static final int DATA_BYTES = 16 * 1024 * 1024;
    private static final List<String> CODECS = List.of("lz4-java-jni", "lz4-java-jni-fast-reset", "lz4-java-java", "aircompressor-native", "aircompressor-java");
    private static final Map<String, String> DESCRIPTIONS = Map.of(
            "lz4-java-jni", "lz4-java JNI, plugin class loader (`nativeInstance()`; what Spoolex uses now)",
            "lz4-java-jni-fast-reset", "lz4-java JNI with `fastResetCompressor()` (native state kept between blocks; one per thread, must be closed), plugin class loader",
            "lz4-java-java", "lz4-java JavaSafe, plugin class loader (`fastestInstance()` there; what Spoolex used before, and its fallback)",
            "aircompressor-native", "aircompressor-v3 3.7 native (FFM), test class path",
            "aircompressor-java", "aircompressor-v3 3.7 pure Java, test class path");

    /**
     * One LZ4 block implementation, as the benchmark calls it.
     */
    interface BlockCodec
    {
        String describe();

        int maxCompressedLength(int length);

        int compress(byte[] input, int inputOffset, int length, byte[] output, int outputOffset, int maxOutputLength);

        int decompress(byte[] input, int inputOffset, int length, byte[] output, int outputOffset, int maxOutputLength);
    }

    @State(Scope.Thread)
    public static class Blocks
    {
        @Param({"lz4-java-jni", "lz4-java-jni-fast-reset", "lz4-java-java", "aircompressor-native", "aircompressor-java"})
        public String codec;

        @Param({"synthetic", "lineitem"})
        public String data;

        @Param("262144")
        public int blockSize;

        BlockCodec implementation;
        byte[] raw;
        int[] blockOffsets;
        int[] blockLengths;
        byte[] compressed;
        int[] compressedOffsets;
        int[] compressedLengths;
        byte[] output;
        int compressedBytes;

        @Setup(Level.Trial)
        public void setup()
                throws ReflectiveOperationException
        {
            implementation = codec(codec);
            raw = data.equals("lineitem") ? lineitemRecords() : CodecBenchmark.pageRecords();
            int blocks = (raw.length + blockSize - 1) / blockSize;
            blockOffsets = new int[blocks];
            blockLengths = new int[blocks];
            compressedOffsets = new int[blocks];
            compressedLengths = new int[blocks];
            compressed = new byte[blocks * implementation.maxCompressedLength(blockSize)];
            output = new byte[implementation.maxCompressedLength(blockSize)];
            int position = 0;
            for (int block = 0; block < blocks; block++) {
                blockOffsets[block] = block * blockSize;
                blockLengths[block] = Math.min(blockSize, raw.length - blockOffsets[block]);
                compressedOffsets[block] = position;
                compressedLengths[block] = implementation.compress(raw, blockOffsets[block], blockLengths[block], compressed, position, compressed.length - position);
                position += compressedLengths[block];
            }
            // every block comes back as it was, and in a format any LZ4 block decoder reads
            BlockCodec reference = new AircompressorCodec("reference", new Lz4JavaCompressor(), new Lz4JavaDecompressor());
            for (int block = 0; block < blocks; block++) {
                for (BlockCodec decoder : List.of(implementation, reference)) {
                    int length = decoder.decompress(compressed, compressedOffsets[block], compressedLengths[block], output, 0, blockLengths[block]);
                    checkState(length == blockLengths[block] && Arrays.equals(output, 0, length, raw, blockOffsets[block], blockOffsets[block] + length), "%s: block %s does not round-trip", codec, block);
                }
            }
            compressedBytes = position;
            System.out.printf("%n%s: %s; %s data, %s bytes in %s blocks, compressed to %.1f%%%n", codec, implementation.describe(), data, raw.length, blocks, 100.0 * position / raw.length);
        }
    }

    @Benchmark
    public int compress(Blocks state)
    {
        int total = 0;
        for (int block = 0; block < state.blockOffsets.length; block++) {
            total += state.implementation.compress(state.raw, state.blockOffsets[block], state.blockLengths[block], state.output, 0, state.output.length);
        }
        return total;
    }

    @Benchmark
    public int decompress(Blocks state)
    {
        int total = 0;
        for (int block = 0; block < state.blockOffsets.length; block++) {
            total += state.implementation.decompress(state.compressed, state.compressedOffsets[block], state.compressedLengths[block], state.output, 0, state.blockLengths[block]);
        }
        return total;
    }

    static BlockCodec codec(String name)
            throws ReflectiveOperationException
    {
        return switch (name) {
            case "lz4-java-jni" -> Lz4JavaCodec.inPluginClassLoader("nativeInstance", "fastCompressor");
            case "lz4-java-jni-fast-reset" -> Lz4JavaCodec.inPluginClassLoader("nativeInstance", "fastResetCompressor");
            case "lz4-java-java" -> {
                Lz4JavaCodec codec = Lz4JavaCodec.inPluginClassLoader("fastestInstance", "fastCompressor");
                checkState(codec.factory.equals("LZ4Factory:JavaSafe"), "fastestInstance() in the plugin class loader is %s now, not JavaSafe", codec.factory);
                yield codec;
            }
            case "aircompressor-native" -> {
                checkState(Lz4NativeCompressor.isEnabled() && Lz4NativeDecompressor.isEnabled(), "aircompressor's native LZ4 is not available here");
                yield new AircompressorCodec("aircompressor Lz4NativeCompressor/Lz4NativeDecompressor", new Lz4NativeCompressor(), new Lz4NativeDecompressor());
            }
            case "aircompressor-java" -> new AircompressorCodec("aircompressor Lz4JavaCompressor/Lz4JavaDecompressor", new Lz4JavaCompressor(), new Lz4JavaDecompressor());
            default -> throw new IllegalArgumentException("unknown codec " + name);
        };
    }

    /**
     * lz4-java from the plugin archive's jar, in a Trino plugin class loader: its classes are not ours, so called through method handles.
     */
    private static final class Lz4JavaCodec
            implements BlockCodec
    {
        private final String factory;
        private final String description;
        private final MethodHandle compress;
        private final MethodHandle decompress;
        private final MethodHandle maxCompressedLength;

        private Lz4JavaCodec(String factory, String description, MethodHandle compress, MethodHandle decompress, MethodHandle maxCompressedLength)
        {
            this.factory = factory;
            this.description = description;
            this.compress = compress;
            this.decompress = decompress;
            this.maxCompressedLength = maxCompressedLength;
        }

        static Lz4JavaCodec inPluginClassLoader(String factoryMethod, String compressorMethod)
                throws ReflectiveOperationException
        {
            String directory = System.getProperty(PLUGIN_DIRECTORY_PROPERTY);
            checkState(directory != null, "system property %s (the unpacked plugin folder) is not set: run through main()", PLUGIN_DIRECTORY_PROPERTY);
            ClassLoader loader = PluginArchive.unpacked(Path.of(directory)).newClassLoader();
            Class<?> factoryClass = Class.forName("net.jpountz.lz4.LZ4Factory", true, loader);
            checkState(loader.equals(factoryClass.getClassLoader()), "lz4-java did not come from the plugin class loader");
            Object factory = factoryClass.getMethod(factoryMethod).invoke(null);
            Object compressor = factoryClass.getMethod(compressorMethod).invoke(factory);
            Object decompressor = factoryClass.getMethod("safeDecompressor").invoke(factory);
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            MethodType blockCall = MethodType.methodType(int.class, byte[].class, int.class, int.class, byte[].class, int.class, int.class);
            Class<?> compressorType = Class.forName("net.jpountz.lz4.LZ4Compressor", false, loader);
            Class<?> decompressorType = Class.forName("net.jpountz.lz4.LZ4SafeDecompressor", false, loader);
            return new Lz4JavaCodec(
                    factory.toString(),
                    "LZ4Factory.%s().%s() in %s = %s, %s / %s".formatted(factoryMethod, compressorMethod, loader, factory, compressor.getClass().getSimpleName(), decompressor.getClass().getSimpleName()),
                    lookup.findVirtual(compressorType, "compress", blockCall).bindTo(compressor),
                    lookup.findVirtual(decompressorType, "decompress", blockCall).bindTo(decompressor),
                    lookup.findVirtual(compressorType, "maxCompressedLength", MethodType.methodType(int.class, int.class)).bindTo(compressor));
        }

        @Override
        public String describe()
        {
            return description;
        }

        @Override
        public int maxCompressedLength(int length)
        {
            try {
                return (int) maxCompressedLength.invokeExact(length);
            }
            catch (Throwable e) {
                throw propagate(e);
            }
        }

        @Override
        public int compress(byte[] input, int inputOffset, int length, byte[] output, int outputOffset, int maxOutputLength)
        {
            try {
                return (int) compress.invokeExact(input, inputOffset, length, output, outputOffset, maxOutputLength);
            }
            catch (Throwable e) {
                throw propagate(e);
            }
        }

        @Override
        public int decompress(byte[] input, int inputOffset, int length, byte[] output, int outputOffset, int maxOutputLength)
        {
            try {
                return (int) decompress.invokeExact(input, inputOffset, length, output, outputOffset, maxOutputLength);
            }
            catch (Throwable e) {
                throw propagate(e);
            }
        }

        private static RuntimeException propagate(Throwable e)
        {
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e instanceof Error error) {
                throw error;
            }
            throw new RuntimeException(e);
        }
    }

    private record AircompressorCodec(String describe, Lz4Compressor compressor, Lz4Decompressor decompressor)
            implements BlockCodec
    {
        @Override
        public int maxCompressedLength(int length)
        {
            return compressor.maxCompressedLength(length);
        }

        @Override
        public int compress(byte[] input, int inputOffset, int length, byte[] output, int outputOffset, int maxOutputLength)
        {
            return compressor.compress(input, inputOffset, length, output, outputOffset, maxOutputLength);
        }

        @Override
        public int decompress(byte[] input, int inputOffset, int length, byte[] output, int outputOffset, int maxOutputLength)
        {
            return decompressor.decompress(input, inputOffset, length, output, outputOffset, maxOutputLength);
        }
    }

    /**
     * 16 MB of TPC-H lineitem pages (sf1) as length-prefixed records, serialized by Trino's page serializer with its
     * codec off: the bytes a Spoolex sink gets with the engine's exchange compression off.
     */
    static byte[] lineitemRecords()
    {
        PageSerializer serializer = PagesSerdes.createSpillingPagesSerdeFactory(TESTING_BLOCK_ENCODING_SERDE, CompressionCodec.NONE).createSerializer(Optional.empty());
        byte[] records = new byte[DATA_BYTES];
        int position = 0;
        RecordPageSource source = new RecordPageSource(TpchRecordSet.createTpchRecordSet(TpchTable.LINE_ITEM, DecimalTypeMapping.DECIMAL, 1, 1, 1, TupleDomain.all()));
        while (!source.isFinished() && position < records.length) {
            SourcePage page = source.getNextSourcePage();
            if (page == null) {
                continue;
            }
            Slice serialized = serializer.serialize(page.getPage());
            int length = Math.min(serialized.length(), records.length - position - 4);
            if (length <= 0) {
                break;
            }
            SpoolFileFormat.putPageLength(records, position, length);
            serialized.getBytes(0, records, position + 4, length);
            position += 4 + length;
        }
        return Arrays.copyOf(records, position);
    }

    private record Measurement(String codec, String operation, String data, double megabytesPerSecond) {}

    public static void main(String[] args)
            throws RunnerException, IOException, ReflectiveOperationException
    {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            checkArgument(args[i].startsWith("--") && i + 1 < args.length, "expected --option value, got %s", args[i]);
            options.put(args[i].substring(2), args[i + 1]);
        }
        int rounds = Integer.parseInt(options.getOrDefault("rounds", "3"));
        List<String> codecs = List.of(options.getOrDefault("codecs", String.join(",", CODECS)).split(","));
        codecs.forEach(codec -> checkArgument(CODECS.contains(codec), "unknown codec %s (known: %s)", codec, CODECS));
        String[] data = options.getOrDefault("data", "synthetic,lineitem").split(",");
        String blockSize = options.getOrDefault("block-size", "262144");
        int warmups = Integer.parseInt(options.getOrDefault("warmups", "4"));
        int iterations = Integer.parseInt(options.getOrDefault("iterations", "5"));
        Path archive = options.containsKey("archive") ? Path.of(options.get("archive")) : builtArchive();
        PluginArchive plugin = PluginArchive.unpack(archive, Path.of("target/benchmarks/plugin-archive"));
        System.out.printf("Plugin archive %s unpacked into %s%n", archive, plugin.pluginDirectory());
        System.setProperty(PLUGIN_DIRECTORY_PROPERTY, plugin.pluginDirectory().toString());

        // the bytes one operation goes through, and what each implementation makes of them: the forks make the same
        Map<String, Integer> dataBytes = new HashMap<>();
        Map<String, Double> storedShares = new HashMap<>();
        for (String dataSet : data) {
            for (String codec : codecs) {
                Blocks blocks = new Blocks();
                blocks.codec = codec;
                blocks.data = dataSet;
                blocks.blockSize = Integer.parseInt(blockSize);
                blocks.setup();
                dataBytes.put(dataSet, blocks.raw.length);
                storedShares.put(codec + "/" + dataSet, (double) blocks.compressedBytes / blocks.raw.length);
            }
        }

        List<Measurement> measurements = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (int index = 0; index < codecs.size(); index++) {
                String codec = codecs.get((index + round) % codecs.size());
                Options jmh = new OptionsBuilder()
                        .include(Lz4ImplementationBenchmark.class.getName() + "\\.")
                        .param("codec", codec)
                        .param("data", data)
                        .param("blockSize", blockSize)
                        .forks(1)
                        .warmupIterations(warmups)
                        .warmupTime(TimeValue.seconds(1))
                        .measurementIterations(iterations)
                        .measurementTime(TimeValue.seconds(1))
                        .jvmArgsAppend("-D" + PLUGIN_DIRECTORY_PROPERTY + "=" + plugin.pluginDirectory())
                        .verbosity(VerboseMode.SILENT)
                        .build();
                for (RunResult result : new Runner(jmh).run()) {
                    String operation = result.getParams().getBenchmark().replaceAll(".*\\.", "");
                    String dataSet = result.getParams().getParam("data");
                    // bytes per operation: the whole data set, measured in the fork; the same 16 MB for every codec
                    double megabytesPerSecond = result.getPrimaryResult().getScore() * dataBytes.get(dataSet) / 1_000_000.0;
                    measurements.add(new Measurement(codec, operation, dataSet, megabytesPerSecond));
                    System.out.printf("round %s/%s  %-22s %-10s %-10s %8.0f MB/s%n", round + 1, rounds, codec, operation, dataSet, megabytesPerSecond);
                }
            }
        }
        String table = table(measurements, storedShares, codecs, List.of(data), rounds, blockSize);
        System.out.println();
        System.out.println(table);
        Path output = Path.of("target/benchmarks/lz4-implementations.md");
        Files.createDirectories(output.getParent());
        Files.writeString(output, table);
        System.out.printf("Written to %s%n", output);
    }

    private static Path builtArchive()
            throws IOException
    {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(file -> file.getFileName().toString().matches("spoolex-.*-exchange-filesystem\\.tar\\.gz"))
                    .collect(onlyElement());
        }
    }

    private static String table(List<Measurement> measurements, Map<String, Double> storedShares, List<String> codecs, List<String> data, int rounds, String blockSize)
    {
        StringBuilder table = new StringBuilder();
        table.append("Measured %s UTC: %s rounds, each running every implementation in its own JMH fork (%s KB blocks, one thread), in an order rotated per round; median of the rounds (min–max). MB/s of uncompressed bytes on one core.%n%n"
                .formatted(Instant.now().truncatedTo(ChronoUnit.SECONDS), rounds, Integer.parseInt(blockSize) / 1024));
        for (String dataSet : data) {
            table.append("**%s**%n%n".formatted(dataSet.equals("lineitem") ? "TPC-H lineitem pages (Trino's serializer, engine codec off)" : "Synthetic page records (the codec benchmark's data)"));
            table.append("| implementation | compress MB/s | decompress MB/s | compress vs lz4-java JNI | decompress vs lz4-java JNI | stored |%n|---|---:|---:|---:|---:|---:|%n".formatted());
            double jniCompress = median(values(measurements, "lz4-java-jni", "compress", dataSet));
            double jniDecompress = median(values(measurements, "lz4-java-jni", "decompress", dataSet));
            for (String codec : codecs) {
                double[] compress = values(measurements, codec, "compress", dataSet);
                double[] decompress = values(measurements, codec, "decompress", dataSet);
                table.append("| %s | %s | %s | %s | %s | %.1f%% |%n".formatted(
                        DESCRIPTIONS.get(codec),
                        cell(compress),
                        cell(decompress),
                        ratio(median(compress), jniCompress),
                        ratio(median(decompress), jniDecompress),
                        100 * storedShares.get(codec + "/" + dataSet)));
            }
            table.append("%n".formatted());
        }
        return table.toString();
    }

    private static String ratio(double value, double reference)
    {
        return Double.isNaN(value) || Double.isNaN(reference) ? "—" : "%.2f×".formatted(value / reference);
    }

    private static double[] values(List<Measurement> measurements, String codec, String operation, String data)
    {
        return measurements.stream()
                .filter(measurement -> measurement.codec().equals(codec) && measurement.operation().equals(operation) && measurement.data().equals(data))
                .mapToDouble(Measurement::megabytesPerSecond)
                .toArray();
    }

    private static String cell(double[] values)
    {
        if (values.length == 0) {
            return "—";
        }
        return "%.0f (%.0f–%.0f)".formatted(median(values), Arrays.stream(values).min().orElseThrow(), Arrays.stream(values).max().orElseThrow());
    }

    private static double median(double[] values)
    {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}
