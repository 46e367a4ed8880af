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
package io.spoolex.plugin;

import com.google.common.base.Splitter;
import io.spoolex.plugin.PluginArchive.LoadedPlugin;
import io.trino.spi.exchange.ExchangeManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static io.spoolex.plugin.PluginLoaderProbe.compressorClass;
import static io.spoolex.plugin.PluginLoaderProbe.decompressorClass;
import static io.spoolex.plugin.PluginLoaderProbe.lz4Implementation;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Which LZ4 implementation Spoolex uses when the plugin archive is loaded as Trino loads it (see {@link PluginArchive}),
 * and that spool data round-trips whichever it is. Before {@code Lz4Implementation}, Spoolex asked lz4-java for
 * {@code fastestInstance()}, which in a plugin class loader is the pure-Java {@code JavaSafe}.
 */
public class PluginLz4IT
{
    private static final String WARNING = "Native LZ4 (lz4-java JNI) did not load";
    private static final String JNI_COMPRESSOR = "net.jpountz.lz4.LZ4JNICompressor";
    private static final String JNI_DECOMPRESSOR = "net.jpountz.lz4.LZ4JNISafeDecompressor";
    private static final String JAVA_SAFE_COMPRESSOR = "net.jpountz.lz4.LZ4JavaSafeCompressor";

    private static PluginArchive archive;

    private final List<ExchangeManager> managers = new ArrayList<>();

    @BeforeAll
    public static void unpackArchive()
    {
        archive = PluginArchive.unpackBuiltArchive();
    }

    @AfterEach
    public void shutDownManagers()
    {
        managers.forEach(ExchangeManager::shutdown);
        managers.clear();
    }

    @Test
    public void testPluginClassLoaderUsesNativeLz4()
            throws Exception
    {
        LoadedPlugin plugin = archive.load();
        // the condition of the defect: in this loader lz4-java's own choice is the pure-Java implementation
        assertThat(factory(plugin, "fastestInstance"))
                .as("lz4-java's fastestInstance() in a plugin class loader (if lz4-java now picks JNI itself, this check has done its job)")
                .isEqualTo("LZ4Factory:JavaSafe");

        Path spool = spoolDirectory("native");
        ExchangeManager manager = createManager(plugin, spool);
        String implementation = jmxLz4Implementation(plugin.classLoader());
        if (!implementation.equals("JNI")) {
            // a Java fallback is wrong wherever the native library loads in a plugin class loader
            Optional<String> nativeFailure = nativeInstanceFailure(archive.load());
            assumeTrue(nativeFailure.isEmpty(), () -> "lz4-java's native library does not load in a plugin class loader here: " + nativeFailure.orElseThrow());
            fail("Spoolex uses LZ4 %s in its plugin class loader, but LZ4Factory.nativeInstance() loads there", implementation);
        }
        assertThat(lz4Implementation(manager)).as("SpoolexStats of the manager").isEqualTo("JNI");
        assertThat(compressorClass(plugin)).isEqualTo(JNI_COMPRESSOR);
        assertThat(decompressorClass(plugin)).isEqualTo(JNI_DECOMPRESSOR);

        SpoolRoundTrip.Result result = SpoolRoundTrip.run(manager, spool);
        assertThat(result.storedBytes()).as("blocks were compressed").isLessThan(result.pageBytes() * 3 / 4);
    }

    /**
     * Two plugin class loaders over the same jars, both open. lz4-java 1.13 unpacks a copy of its library per class
     * loader (a new file in java.io.tmpdir each time), so the JVM's rule that one library file loads into one class
     * loader does not get in the way: both use JNI, and neither warns.
     */
    @Test
    public void testTwoPluginClassLoadersInOneJvm()
            throws Exception
    {
        List<LogRecord> records = new ArrayList<>();
        try (LogCapture _ = new LogCapture(records, "io.spoolex.format.Lz4Implementation", "io.spoolex.exchange.SpoolexExchangeManagerFactory")) {
            LoadedPlugin first = archive.load();
            LoadedPlugin second = archive.load();
            assertThat(first.classLoader()).isNotSameAs(second.classLoader());
            assertThat(first.loadClass("net.jpountz.lz4.LZ4Factory")).as("each loader has lz4-java classes of its own")
                    .isNotSameAs(second.loadClass("net.jpountz.lz4.LZ4Factory"));

            Path firstSpool = spoolDirectory("first");
            Path secondSpool = spoolDirectory("second");
            ExchangeManager firstManager = createManager(first, firstSpool);
            ExchangeManager secondManager = createManager(second, secondSpool);
            Optional<String> nativeFailure = nativeInstanceFailure(archive.load());
            assumeTrue(nativeFailure.isEmpty(), () -> "lz4-java's native library does not load in a plugin class loader here: " + nativeFailure.orElseThrow());

            // JMX has the first manager's statistics (the first of a JVM keeps the name); the second's by reflection
            assertThat(jmxLz4Implementation(first.classLoader())).isEqualTo("JNI");
            assertThat(lz4Implementation(firstManager)).isEqualTo("JNI");
            assertThat(lz4Implementation(secondManager)).isEqualTo("JNI");
            assertThat(compressorClass(first)).isEqualTo(JNI_COMPRESSOR);
            assertThat(compressorClass(second)).isEqualTo(JNI_COMPRESSOR);

            for (SpoolRoundTrip.Result result : List.of(SpoolRoundTrip.run(firstManager, firstSpool), SpoolRoundTrip.run(secondManager, secondSpool))) {
                assertThat(result.storedBytes()).as("blocks were compressed").isLessThan(result.pageBytes() * 3 / 4);
            }
        }
        assertThat(records).filteredOn(record -> record.getLevel().equals(Level.WARNING)).isEmpty();
        assertThat(records).filteredOn(record -> record.getLevel().equals(Level.INFO))
                .extracting(LogRecord::getMessage)
                .hasSize(2)
                .allSatisfy(message -> assertThat(message).contains("compression LZ4 (JNI)"));
    }

    /**
     * The case in which a second plugin class loader cannot have the native library: the library is on
     * {@code java.library.path}, where the first loader takes it ({@code System.loadLibrary}; the JVM refuses the same
     * file to the second: "already loaded in another classloader"), and lz4-java cannot unpack a copy of its own
     * because {@code java.io.tmpdir} does not exist. A JVM of its own, as those settings are the JVM's.
     */
    @Test
    public void testSecondClassLoaderFallsBackWhenTheLibraryIsTaken()
            throws Exception
    {
        Path work = Files.createTempDirectory(archive.pluginDirectory().getParent(), "library-taken-");
        Path libraryPath = Files.createDirectories(work.resolve("java-library-path"));
        Optional<Path> library = extractBundledLibrary(libraryPath);
        assumeTrue(library.isPresent(), "lz4-java has no native library for " + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));

        Path output = work.resolve("probe.log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of("-Xmx512m", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"));
        command.add("-Djava.library.path=" + libraryPath);
        command.add("-Djava.io.tmpdir=" + work.resolve("no-such-directory"));
        command.addAll(List.of("-cp", serverClassPath()));
        command.addAll(List.of(PluginLoaderProbe.class.getName(), archive.pluginDirectory().toString(), work.resolve("spool").toString(), "2"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        if (!process.waitFor(180, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("PluginLoaderProbe did not finish in 180 s; output in %s", output);
        }
        String log = Files.readString(output);
        assertThat(process.exitValue()).as("PluginLoaderProbe exit code; its output:%n%s", log).isZero();

        assertThat(log).as(log)
                .contains("loader-1 lz4=JNI compressor=" + JNI_COMPRESSOR)
                .contains("loader-2 lz4=JavaSafe compressor=" + JAVA_SAFE_COMPRESSOR);
        List<String> warnings = log.lines().filter(line -> line.contains(WARNING)).toList();
        assertThat(warnings).as("one warning, from the second loader; output:%n%s", log).hasSize(1);
        assertThat(warnings.getFirst())
                .contains("pure-Java JavaSafe implementation")
                .contains("from java.library.path (found " + library.orElseThrow() + "; a library file loads into one class loader per JVM)")
                .contains("Reason: java.lang.ExceptionInInitializerError, caused by java.io.IOException: Cannot unpack liblz4-java");
        assertThat(log).contains("compression LZ4 (JavaSafe: pure-Java fallback, native LZ4 did not load, see the earlier warning)");

        // both loaders' exchanges returned every page byte for byte (the probe checks), compressed
        Matcher roundTrips = Pattern.compile("loader-(\\d) round-trip pages=(\\d+) page-bytes=(\\d+) stored-bytes=(\\d+)").matcher(log);
        List<String> loaders = new ArrayList<>();
        while (roundTrips.find()) {
            loaders.add(roundTrips.group(1));
            assertThat(Long.parseLong(roundTrips.group(4))).as("loader %s stored bytes", roundTrips.group(1)).isLessThan(Long.parseLong(roundTrips.group(3)) * 3 / 4);
        }
        assertThat(loaders).as(log).containsExactly("1", "2");
    }

    private ExchangeManager createManager(LoadedPlugin plugin, Path spool)
    {
        ExchangeManager manager = plugin.createExchangeManager("filesystem", Map.of("exchange.base-directories", spool.toString()));
        managers.add(manager);
        return manager;
    }

    private static Path spoolDirectory(String name)
            throws IOException
    {
        return Files.createTempDirectory(archive.pluginDirectory().getParent(), "spool-" + name + "-");
    }

    /**
     * The {@code Lz4Implementation} attribute of the one MBean registered by {@code pluginLoader}'s classes.
     */
    private static String jmxLz4Implementation(ClassLoader pluginLoader)
            throws JMException
    {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        List<ObjectName> names = new ArrayList<>();
        for (ObjectName name : server.queryNames(null, null)) {
            if (pluginLoader.equals(server.getClassLoaderFor(name)) && Arrays.stream(server.getMBeanInfo(name).getAttributes()).map(MBeanAttributeInfo::getName).anyMatch("Lz4Implementation"::equals)) {
                names.add(name);
            }
        }
        assertThat(names).as("MBeans of the plugin's class loader with an Lz4Implementation attribute").hasSize(1);
        return (String) server.getAttribute(names.getFirst(), "Lz4Implementation");
    }

    /**
     * {@code LZ4Factory.<method>()} of the plugin's lz4-java, as its {@code toString()}.
     */
    private static String factory(LoadedPlugin plugin, String method)
            throws ReflectiveOperationException
    {
        return plugin.loadClass("net.jpountz.lz4.LZ4Factory").getMethod(method).invoke(null).toString();
    }

    /**
     * Why {@code LZ4Factory.nativeInstance()} fails in that plugin's class loader, if it does.
     */
    private static Optional<String> nativeInstanceFailure(LoadedPlugin plugin)
            throws ReflectiveOperationException
    {
        try {
            factory(plugin, "nativeInstance");
            return Optional.empty();
        }
        catch (InvocationTargetException e) {
            return Optional.of(e.getCause().toString());
        }
    }

    /**
     * Copies lz4-java's library for this platform out of the plugin's lz4-java jar into {@code directory}.
     */
    private static Optional<Path> extractBundledLibrary(Path directory)
            throws IOException
    {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String osDirectory = os.contains("linux") ? "linux" : os.contains("mac") ? "darwin" : os.contains("windows") ? "windows" : os;
        String library = System.mapLibraryName("lz4-java");
        String entryName = "net/jpountz/util/%s/%s/%s".formatted(osDirectory, System.getProperty("os.arch"), library);
        Path jar = archive.files().stream()
                .filter(file -> file.getFileName().toString().contains("lz4-java"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no lz4-java jar in " + archive));
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry entry = zip.getEntry(entryName);
            if (entry == null) {
                return Optional.empty();
            }
            Path target = directory.resolve(library);
            try (InputStream content = zip.getInputStream(entry)) {
                Files.copy(content, target);
            }
            return Optional.of(target);
        }
    }

    /**
     * What a Trino server process has on its class path (trino-main and its dependencies), plus the test classes.
     */
    private static String serverClassPath()
            throws IOException
    {
        Path classPathFile = Path.of(requiredProperty("spoolex.trino.server.classpath"));
        String serverClassPath = Files.readString(classPathFile).strip();
        List<String> entries = new ArrayList<>();
        entries.add(requiredProperty("spoolex.trino.launcher.classes"));
        Splitter.on(File.pathSeparatorChar).omitEmptyStrings().split(serverClassPath).forEach(entries::add);
        assertThat(entries).as("the server class path has no lz4-java, as a Trino server's has none").noneMatch(entry -> entry.contains("lz4-java"));
        return String.join(File.pathSeparator, entries);
    }

    private static String requiredProperty(String name)
    {
        String value = System.getProperty(name);
        assertThat(value).as("system property %s (set by Failsafe, see pom.xml)", name).isNotNull();
        return value;
    }

    /**
     * Collects the records of some java.util.logging loggers (airlift's Logger writes to them) while open.
     */
    private static final class LogCapture
            extends Handler
            implements AutoCloseable
    {
        private final List<LogRecord> records;
        private final List<Logger> loggers;

        LogCapture(List<LogRecord> records, String... loggerNames)
        {
            this.records = records;
            this.loggers = Arrays.stream(loggerNames).map(Logger::getLogger).toList();
            loggers.forEach(logger -> logger.addHandler(this));
        }

        @Override
        public synchronized void publish(LogRecord record)
        {
            records.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close()
        {
            loggers.forEach(logger -> logger.removeHandler(this));
        }
    }
}
