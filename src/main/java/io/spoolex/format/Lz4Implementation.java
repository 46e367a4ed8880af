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

import com.google.common.annotations.VisibleForTesting;
import com.google.common.base.Splitter;
import com.google.common.base.Throwables;
import io.airlift.log.Logger;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;
import static java.util.stream.Collectors.joining;

/**
 * The LZ4 block compressor and decompressor of spool files, chosen once per class loader: lz4-java's JNI binding
 * where its native library loads, otherwise lz4-java's fastest pure-Java implementation, with one warning that
 * names the reason.
 * <p>
 * {@code LZ4Factory.fastestInstance()} cannot be used for this inside Trino: it only tries the native library when
 * lz4-java was loaded by the system class loader, which a plugin's class loader is not, so it returns the pure-Java
 * {@code JavaSafe} implementation on every server. {@code LZ4Factory.nativeInstance()} loads the library from any
 * class loader: lz4-java tries {@code System.loadLibrary("lz4-java")} (the {@code java.library.path}) first, then
 * copies the library bundled in its jar into {@code java.io.tmpdir} and loads that copy, so each class loader gets a
 * file of its own (the JVM lets one native library file be loaded by one class loader only). It fails when the jar
 * has no library for the platform, or when the copy cannot be written or mapped (a missing or read-only temporary
 * directory, or one mounted {@code noexec}) while the {@code java.library.path} copy is missing or already taken by
 * another class loader.
 * <p>
 * The fallback is {@code LZ4Factory.fastestJavaInstance()}, which in lz4-java 1.13 is always {@code JavaSafe}: its
 * {@code unsafeInstance()} returns the safe implementation too ({@code sun.misc.Unsafe} code is only reachable through
 * the "insecure" instances, which must not be given untrusted input).
 * <p>
 * All implementations write and read the same LZ4 block format, so spool files written by one node are read by any
 * other. Their compressors and decompressors keep no state between calls and are safe to share between threads.
 */
public final class Lz4Implementation
{
    private static final Logger log = Logger.get(Lz4Implementation.class);
    private static final String FACTORY_PREFIX = "LZ4Factory:";
    private static final String LIBRARY = "lz4-java";

    private final String name;
    private final LZ4Compressor compressor;
    private final LZ4SafeDecompressor decompressor;
    private final Optional<String> fallbackReason;

    private Lz4Implementation(LZ4Factory factory, Optional<String> fallbackReason)
    {
        requireNonNull(factory, "factory is null");
        String description = factory.toString();
        this.name = description.startsWith(FACTORY_PREFIX) ? description.substring(FACTORY_PREFIX.length()) : description;
        this.compressor = factory.fastCompressor();
        this.decompressor = factory.safeDecompressor();
        this.fallbackReason = requireNonNull(fallbackReason, "fallbackReason is null");
    }

    /**
     * The implementation of this class loader, chosen the first time it is asked for.
     */
    public static Lz4Implementation get()
    {
        return Holder.INSTANCE;
    }

    /**
     * {@code nativeFactory}'s implementation if it can be created, else {@code javaFactory}'s, logging one warning
     * with the reason.
     */
    @VisibleForTesting
    static Lz4Implementation choose(Supplier<LZ4Factory> nativeFactory, Supplier<LZ4Factory> javaFactory)
    {
        try {
            return new Lz4Implementation(nativeFactory.get(), Optional.empty());
        }
        catch (LinkageError | AssertionError | RuntimeException e) {
            // UnsatisfiedLinkError: the library file did not load (a noexec temporary directory: "failed to map segment");
            // ExceptionInInitializerError: lz4-java's loader threw (cannot unpack, no library for this platform, native
            // access denied); NoClassDefFoundError: an earlier attempt failed; AssertionError: lz4-java wraps any other
            // failure to set up its JNI classes in one
            Lz4Implementation fallback = new Lz4Implementation(javaFactory.get(), Optional.of(describe(e)));
            String library = System.mapLibraryName(LIBRARY);
            List<Path> onLibraryPath = onLibraryPath(library);
            log.warn("Native LZ4 (lz4-java JNI) did not load, spool files are compressed with lz4-java's pure-Java %s implementation, which is slower. "
                            + "lz4-java loads %s from java.library.path (%s; a library file loads into one class loader per JVM) or unpacks a copy of its own into java.io.tmpdir (%s), "
                            + "which must be writable and not mounted noexec. Reason: %s",
                    fallback.name(),
                    library,
                    onLibraryPath.isEmpty() ? "not there" : "found " + onLibraryPath.stream().map(Path::toString).collect(joining(", ")),
                    System.getProperty("java.io.tmpdir"),
                    fallback.fallbackReason.orElseThrow());
            return fallback;
        }
    }

    private static List<Path> onLibraryPath(String library)
    {
        List<Path> found = new ArrayList<>();
        for (String directory : Splitter.on(File.pathSeparatorChar).omitEmptyStrings().split(System.getProperty("java.library.path", ""))) {
            try {
                Path candidate = Path.of(directory, library);
                if (Files.isRegularFile(candidate)) {
                    found.add(candidate);
                }
            }
            catch (InvalidPathException _) {
                // not a directory of this file system: the JVM cannot load from it either
            }
        }
        return found;
    }

    /**
     * Every error of the chain with its message (lz4-java wraps the failure that matters), each said once.
     */
    private static String describe(Throwable failure)
    {
        StringBuilder description = new StringBuilder();
        for (Throwable cause : Throwables.getCausalChain(failure)) {
            String text = cause.getMessage() == null ? cause.getClass().getName() : cause.getClass().getName() + ": " + cause.getMessage();
            if (description.indexOf(text) >= 0) {
                // lz4-java puts its cause's text into its own message
                continue;
            }
            if (!description.isEmpty()) {
                description.append(", caused by ");
            }
            description.append(text);
        }
        return description.toString();
    }

    /**
     * lz4-java's name of the implementation: {@code JNI}, {@code JavaSafe}.
     */
    public String name()
    {
        return name;
    }

    public boolean isNative()
    {
        return fallbackReason.isEmpty();
    }

    /**
     * Why the native implementation is not used, when it is not.
     */
    public Optional<String> fallbackReason()
    {
        return fallbackReason;
    }

    public LZ4Compressor compressor()
    {
        return compressor;
    }

    public LZ4SafeDecompressor decompressor()
    {
        return decompressor;
    }

    @Override
    public String toString()
    {
        return fallbackReason.map(reason -> "%s (native LZ4 not available: %s)".formatted(name, reason)).orElse(name);
    }

    private static final class Holder
    {
        static final Lz4Implementation INSTANCE = choose(LZ4Factory::nativeInstance, LZ4Factory::fastestJavaInstance);
    }
}
