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
package io.spoolex.format;

import io.spoolex.exchange.TestPages;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * How {@link Lz4Implementation} chooses, on the test class path (the plugin class loader case is
 * {@code io.spoolex.plugin.PluginLz4IT}).
 */
public class TestLz4Implementation
{
    private static final String ALREADY_LOADED = "Native Library /tmp/liblz4-java-1.so already loaded in another classloader";

    @Test
    public void testNativeWhereTheLibraryLoads()
    {
        assumeTrue(nativeLoads(), "lz4-java has no native library for this platform");
        Lz4Implementation implementation = Lz4Implementation.get();
        assertThat(implementation.name()).isEqualTo("JNI");
        assertThat(implementation.isNative()).isTrue();
        assertThat(implementation.fallbackReason()).isEmpty();
        assertThat(implementation.toString()).isEqualTo("JNI");
        assertThat(Lz4Implementation.get()).as("chosen once per class loader").isSameAs(implementation);
    }

    @Test
    public void testFallbackNamesTheReasonInOneWarning()
    {
        List<LogRecord> records = new ArrayList<>();
        Lz4Implementation implementation = withLogRecords(records, () -> Lz4Implementation.choose(
                () -> {
                    throw new UnsatisfiedLinkError(ALREADY_LOADED);
                },
                LZ4Factory::fastestJavaInstance));

        // lz4-java 1.13's fastest Java implementation is the safe one: unsafeInstance() returns it too
        assertThat(implementation.name()).isEqualTo("JavaSafe");
        assertThat(implementation.isNative()).isFalse();
        assertThat(implementation.fallbackReason()).contains("java.lang.UnsatisfiedLinkError: " + ALREADY_LOADED);
        assertThat(implementation.toString()).startsWith("JavaSafe (native LZ4 not available: java.lang.UnsatisfiedLinkError: ");
        assertThat(records).hasSize(1);
        assertThat(records.getFirst().getLevel()).isEqualTo(Level.WARNING);
        assertThat(records.getFirst().getMessage())
                .contains("Native LZ4 (lz4-java JNI) did not load")
                .contains("pure-Java JavaSafe implementation")
                .contains("from java.library.path (not there; ")
                .contains("java.io.tmpdir")
                .contains(ALREADY_LOADED);
        assertRoundTrip(implementation, implementation);
    }

    @Test
    public void testFallbackReasonFollowsTheCauses()
    {
        // what lz4-java throws when it cannot unpack its library into java.io.tmpdir
        Lz4Implementation implementation = withLogRecords(new ArrayList<>(), () -> Lz4Implementation.choose(
                () -> {
                    IOException cause = new IOException("No such file or directory");
                    throw new ExceptionInInitializerError(new IOException("Cannot unpack liblz4-java: " + cause, cause));
                },
                LZ4Factory::fastestJavaInstance));
        // the innermost IOException is part of lz4-java's message already: said once
        assertThat(implementation.fallbackReason()).contains(
                "java.lang.ExceptionInInitializerError, caused by java.io.IOException: Cannot unpack liblz4-java: java.io.IOException: No such file or directory");

        Lz4Implementation unsupported = withLogRecords(new ArrayList<>(), () -> Lz4Implementation.choose(
                () -> {
                    throw new UnsupportedOperationException("Unsupported OS/arch, cannot find /net/jpountz/util/linux/sparc/liblz4-java.so. Please try building from source.");
                },
                LZ4Factory::fastestJavaInstance));
        assertThat(unsupported.fallbackReason().orElseThrow()).startsWith("java.lang.UnsupportedOperationException: Unsupported OS/arch");

        // LZ4Factory wraps a failure to set up its implementation classes in an AssertionError
        Lz4Implementation wrapped = withLogRecords(new ArrayList<>(), () -> Lz4Implementation.choose(
                () -> {
                    throw new AssertionError(new NoSuchFieldException("INSTANCE"));
                },
                LZ4Factory::fastestJavaInstance));
        assertThat(wrapped.name()).isEqualTo("JavaSafe");
        assertThat(wrapped.fallbackReason().orElseThrow()).isEqualTo("java.lang.AssertionError: java.lang.NoSuchFieldException: INSTANCE");
    }

    @Test
    public void testImplementationsReadEachOthersBlocks()
    {
        assumeTrue(nativeLoads(), "lz4-java has no native library for this platform");
        Lz4Implementation jni = Lz4Implementation.choose(LZ4Factory::nativeInstance, LZ4Factory::fastestJavaInstance);
        Lz4Implementation java = Lz4Implementation.choose(LZ4Factory::safeInstance, LZ4Factory::fastestJavaInstance);
        assertThat(jni.name()).isEqualTo("JNI");
        assertThat(java.name()).isEqualTo("JavaSafe");
        // a node that fell back reads what a native node wrote, and the other way round
        assertRoundTrip(jni, java);
        assertRoundTrip(java, jni);
        assertRoundTrip(jni, jni);
    }

    @Test
    public void testDamagedBlocksFailInEveryImplementation()
    {
        List<Lz4Implementation> implementations = new ArrayList<>();
        implementations.add(Lz4Implementation.choose(LZ4Factory::safeInstance, LZ4Factory::fastestJavaInstance));
        if (nativeLoads()) {
            implementations.add(Lz4Implementation.choose(LZ4Factory::nativeInstance, LZ4Factory::fastestJavaInstance));
        }
        byte[] raw = block(64 * 1024, 7);
        for (Lz4Implementation implementation : implementations) {
            byte[] compressed = new byte[implementation.compressor().maxCompressedLength(raw.length)];
            int length = implementation.compressor().compress(raw, 0, raw.length, compressed, 0, compressed.length);
            byte[] output = new byte[raw.length];
            // SpoolFileDecoder turns LZ4Exception into SPOOL_FILE_CORRUPTED
            assertThatThrownBy(() -> implementation.decompressor().decompress(compressed, 0, length / 2, output, 0, output.length))
                    .as("%s, truncated block", implementation.name())
                    .isInstanceOf(LZ4Exception.class);
            assertThatThrownBy(() -> implementation.decompressor().decompress(compressed, 0, length, output, 0, output.length - 1))
                    .as("%s, destination one byte short", implementation.name())
                    .isInstanceOf(LZ4Exception.class);
        }
    }

    private static void assertRoundTrip(Lz4Implementation writer, Lz4Implementation reader)
    {
        byte[] raw = block(SpoolFileFormat.DEFAULT_BLOCK_SIZE, 42);
        byte[] compressed = new byte[writer.compressor().maxCompressedLength(raw.length)];
        int length = writer.compressor().compress(raw, 0, raw.length, compressed, 0, compressed.length);
        assertThat(length).as("TestPages data compresses").isLessThan(raw.length);
        byte[] output = new byte[raw.length];
        int decompressed = reader.decompressor().decompress(compressed, 0, length, output, 0, output.length);
        assertThat(decompressed).isEqualTo(raw.length);
        assertThat(Arrays.equals(output, raw)).as("%s wrote, %s read", writer.name(), reader.name()).isTrue();
    }

    private static byte[] block(int size, long seed)
    {
        byte[] bytes = new byte[size];
        TestPages.fill(bytes, new Random(seed));
        return bytes;
    }

    private static boolean nativeLoads()
    {
        try {
            LZ4Factory.nativeInstance();
            return true;
        }
        catch (LinkageError | RuntimeException e) {
            return false;
        }
    }

    private static <T> T withLogRecords(List<LogRecord> records, Supplier<T> action)
    {
        Logger logger = Logger.getLogger(Lz4Implementation.class.getName());
        Handler handler = new Handler()
        {
            @Override
            public void publish(LogRecord record)
            {
                records.add(record);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(handler);
        try {
            return action.get();
        }
        finally {
            logger.removeHandler(handler);
        }
    }
}
