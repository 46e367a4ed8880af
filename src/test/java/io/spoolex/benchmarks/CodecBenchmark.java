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

import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.config.CompressionCodec;
import io.spoolex.exchange.TestPages;
import io.spoolex.format.AdaptiveCompression;
import io.spoolex.format.ExchangeKey;
import io.spoolex.format.Lz4Implementation;
import io.spoolex.format.PageAssembler;
import io.spoolex.format.SharedCompressionScratch;
import io.spoolex.format.SpoolFileDecoder;
import io.spoolex.format.SpoolFileEncoder;
import io.spoolex.format.SpoolFileFormat;
import io.spoolex.format.SpoolFileId;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4SafeDecompressor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.io.ByteArrayOutputStream;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Throughput of the spool codec on one core, in MB/s of page bytes: encode (compress + seal) and decode (verify +
 * decompress + cut pages), next to plain LZ4 and a plain copy of the same bytes in the same run.
 * Run with {@code bin/bench codec}; see docs/benchmarks.md.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-XX:+UseG1GC"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class CodecBenchmark
{
    static final int DATA_BYTES = 16 * 1024 * 1024;
    private static final int READ_BYTES = 1024 * 1024;
    // the implementation the encoder and decoder use
    private static final LZ4Compressor LZ4 = Lz4Implementation.get().compressor();
    private static final LZ4SafeDecompressor LZ4_DECOMPRESSOR = Lz4Implementation.get().decompressor();
    private static final SpoolFileId FILE = new SpoolFileId("benchmark", 0, 0, 0, 0);

    /**
     * The page bytes cut into blocks, for the baselines.
     */
    @State(Scope.Thread)
    public static class Blocks
    {
        @Param({"65536", "262144", "1048576", "4194304"})
        public int blockSize;

        byte[] records;
        byte[] output;
        byte[] lz4Blocks;
        int[] lz4BlockLengths;
        int[] rawBlockLengths;

        @Setup(Level.Trial)
        public void setup()
        {
            records = pageRecords();
            output = new byte[SpoolFileFormat.headerBytes(true) + SpoolFileEncoder.encodeBufferBytes(blockSize, true) + SpoolFileFormat.trailerBytes(true)];
            int blocks = (records.length + blockSize - 1) / blockSize;
            lz4Blocks = new byte[blocks * LZ4.maxCompressedLength(blockSize)];
            lz4BlockLengths = new int[blocks];
            rawBlockLengths = new int[blocks];
            int position = 0;
            for (int block = 0; block < blocks; block++) {
                int length = Math.min(blockSize, records.length - block * blockSize);
                rawBlockLengths[block] = length;
                lz4BlockLengths[block] = LZ4.compress(records, block * blockSize, length, lz4Blocks, position);
                position += lz4BlockLengths[block];
            }
        }
    }

    /**
     * The page bytes as a spool file of each format.
     */
    @State(Scope.Thread)
    public static class SpoolFile
    {
        @Param({"65536", "262144", "1048576", "4194304"})
        public int blockSize;

        @Param({"LZ4+AES", "LZ4+CRC", "NONE+AES", "NONE+CRC"})
        public String format;

        byte[] records;
        byte[] output;
        Optional<ExchangeKey> key;
        CompressionCodec codec;
        byte[] encodedFile;
        int encodedChecksum;
        final SecureRandom random = new SecureRandom();
        // reused across invocations, as a sink reuses its pool's buffers
        final SharedCompressionScratch scratch = new SharedCompressionScratch();

        @Setup(Level.Trial)
        public void setup()
        {
            records = pageRecords();
            codec = format.startsWith("LZ4") ? CompressionCodec.LZ4 : CompressionCodec.NONE;
            key = format.endsWith("AES") ? Optional.of(ExchangeKey.random(random)) : Optional.empty();
            output = new byte[SpoolFileFormat.headerBytes(true) + SpoolFileEncoder.encodeBufferBytes(blockSize, true) + SpoolFileFormat.trailerBytes(true)];
            ByteArrayOutputStream file = new ByteArrayOutputStream();
            SpoolFileEncoder encoder = new SpoolFileEncoder(FILE, key, codec, AdaptiveCompression.tryingEveryBlock(), random, scratch);
            file.write(output, 0, encoder.writeHeader(output, 0));
            for (int offset = 0; offset < records.length; offset += blockSize) {
                file.write(output, 0, encoder.encodeBlock(records, offset, Math.min(blockSize, records.length - offset), output, 0));
            }
            file.write(output, 0, encoder.writeTrailer(output, 0));
            encodedFile = file.toByteArray();
            encodedChecksum = encoder.fileChecksum();
        }
    }

    /**
     * 16 MB of length-prefixed page records of 8 KB to 1 MB, with the compressibility of serialized TPC-H pages.
     */
    static byte[] pageRecords()
    {
        Random random = new Random(20261121);
        byte[] records = new byte[DATA_BYTES];
        int position = 0;
        while (position + 8 < records.length) {
            int length = Math.min(records.length - position - 4, 8192 + random.nextInt(1024 * 1024));
            SpoolFileFormat.putPageLength(records, position, length);
            byte[] page = new byte[length];
            TestPages.fill(page, random);
            System.arraycopy(page, 0, records, position + 4, length);
            position += 4 + length;
        }
        return Arrays.copyOf(records, position);
    }

    @Benchmark
    public int copy(Blocks state)
    {
        int sum = 0;
        for (int offset = 0; offset < state.records.length; offset += state.blockSize) {
            int length = Math.min(state.blockSize, state.records.length - offset);
            System.arraycopy(state.records, offset, state.output, 0, length);
            sum += state.output[length - 1];
        }
        return sum;
    }

    @Benchmark
    public int lz4Compress(Blocks state)
    {
        int total = 0;
        for (int offset = 0; offset < state.records.length; offset += state.blockSize) {
            total += LZ4.compress(state.records, offset, Math.min(state.blockSize, state.records.length - offset), state.output, 0);
        }
        return total;
    }

    @Benchmark
    public int lz4Decompress(Blocks state)
    {
        int total = 0;
        int position = 0;
        for (int block = 0; block < state.lz4BlockLengths.length; block++) {
            byte[] raw = new byte[state.rawBlockLengths[block]];
            total += LZ4_DECOMPRESSOR.decompress(state.lz4Blocks, position, state.lz4BlockLengths[block], raw, 0);
            position += state.lz4BlockLengths[block];
        }
        return total;
    }

    @Benchmark
    public long encode(SpoolFile state)
    {
        SpoolFileEncoder encoder = new SpoolFileEncoder(FILE, state.key, state.codec, AdaptiveCompression.tryingEveryBlock(), state.random, state.scratch);
        encoder.writeHeader(state.output, 0);
        for (int offset = 0; offset < state.records.length; offset += state.blockSize) {
            encoder.encodeBlock(state.records, offset, Math.min(state.blockSize, state.records.length - offset), state.output, 0);
        }
        encoder.writeTrailer(state.output, 0);
        return encoder.fileBytes();
    }

    /**
     * Includes one copy of the stored bytes per 1 MB read into a reused buffer, as a ranged read from storage does.
     */
    @Benchmark
    public long decode(SpoolFile state, Blackhole blackhole)
    {
        SpoolFileDecoder decoder = new SpoolFileDecoder("benchmark.spool", FILE, state.key, state.encodedFile.length, state.encodedChecksum);
        PageAssembler assembler = new PageAssembler("benchmark.spool", 64 * 1024 * 1024, blackhole::consume);
        byte[] file = state.encodedFile;
        byte[] buffer = new byte[READ_BYTES];
        for (int offset = 0; offset < file.length; offset += READ_BYTES) {
            int length = Math.min(file.length - offset, READ_BYTES);
            System.arraycopy(file, offset, buffer, 0, length);
            Slice chunk = Slices.wrappedBuffer(buffer, 0, length);
            decoder.decode(chunk, assembler);
        }
        decoder.finish();
        assembler.finish();
        return assembler.pages();
    }

    public static void main(String[] args)
            throws RunnerException, CommandLineOptionException
    {
        Options options = new OptionsBuilder()
                .parent(new CommandLineOptions(args))
                .include(CodecBenchmark.class.getName() + "\\.")
                .build();
        Collection<RunResult> results = new Runner(options).run();
        printSummary(results);
    }

    private static void printSummary(Collection<RunResult> results)
    {
        // block size -> column -> MB/s
        Map<Integer, Map<String, Double>> table = new TreeMap<>();
        List<String> columns = new ArrayList<>();
        for (RunResult result : results) {
            String benchmark = result.getParams().getBenchmark().replaceAll(".*\\.", "");
            int block = Integer.parseInt(result.getParams().getParam("blockSize"));
            String format = result.getParams().getParam("format");
            String column = format == null ? benchmark : benchmark + " " + format;
            double megabytesPerSecond = result.getPrimaryResult().getScore() * DATA_BYTES / 1_000_000.0;
            table.computeIfAbsent(block, _ -> new TreeMap<>()).merge(column, megabytesPerSecond, Math::max);
            if (!columns.contains(column)) {
                columns.add(column);
            }
        }
        columns.sort(null);
        System.out.println();
        System.out.println("MB/s of page bytes on one core (higher is better)");
        System.out.printf("%-10s", "block");
        columns.forEach(column -> System.out.printf(" %16s", column));
        System.out.println();
        table.forEach((block, row) -> {
            System.out.printf("%-10s", (block / 1024) + "KB");
            columns.forEach(column -> System.out.printf(" %16s", row.containsKey(column) ? "%.0f".formatted(row.get(column)) : "-"));
            System.out.println();
        });
        System.out.println();
        System.out.println("Ratios to plain LZ4 of the same block size (encode / lz4Compress, decode / lz4Decompress):");
        table.forEach((block, row) -> row.forEach((column, value) -> {
            String baseline = column.startsWith("encode") ? "lz4Compress" : column.startsWith("decode") ? "lz4Decompress" : null;
            if (baseline != null && row.containsKey(baseline)) {
                System.out.printf("  %6s %-16s %.2fx%n", (block / 1024) + "KB", column, value / row.get(baseline));
            }
        }));
    }
}
