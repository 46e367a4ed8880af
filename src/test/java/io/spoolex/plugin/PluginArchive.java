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

import com.google.common.collect.ImmutableList;
import io.trino.server.PluginClassLoader;
import io.trino.server.PluginManager;
import io.trino.spi.Plugin;
import io.trino.spi.classloader.ThreadContextClassLoader;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeManagerFactory;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;
import static com.google.common.collect.ImmutableList.toImmutableList;
import static com.google.common.collect.MoreCollectors.onlyElement;
import static java.util.Objects.requireNonNull;

/**
 * A plugin archive operators install ({@code target/spoolex-<version>-exchange-filesystem.tar.gz} or
 * {@code target/spoolex-<version>-exchange-hdfs.tar.gz}, or the {@code .zip} of the same content), loaded the way a
 * Trino 483 server loads a plugin folder:
 * <ul>
 * <li>unpacked, and every file of its one folder ({@code exchange-filesystem/} or {@code exchange-hdfs/}), sorted by
 * name, on a class loader made by
 * Trino's own {@link PluginManager#createClassLoader}: its parent is the platform class loader, and only Trino's SPI
 * packages ({@code io.trino.spi}, Slice, Jackson annotations, OpenTelemetry API) come from this JVM's class path;</li>
 * <li>the {@link Plugin} found by {@link ServiceLoader} in that loader, with the loader as thread context class loader,
 * and exchange managers created with it as thread context class loader too, as Trino's
 * {@code ExchangeManagerRegistry} does.</li>
 * </ul>
 * Classes loaded this way are not the classes of the test class path, even where the names are the same: drive them
 * through the SPI interfaces, which are shared, or by reflection. Behaviour that depends on class loading (native
 * libraries, {@link ServiceLoader}, resources, the thread context class loader) is what this is for.
 * <p>
 * Each {@link #load()} creates a new class loader over the same unpacked folder, independent of the others, as two
 * plugin folders holding the same jars get on one server.
 * <pre>{@code
 * PluginArchive archive = PluginArchive.unpackBuiltArchive();
 * PluginArchive.LoadedPlugin plugin = archive.load();
 * ExchangeManager manager = plugin.createExchangeManager("filesystem", Map.of("exchange.base-directories", "/tmp/spool"));
 *
 * PluginArchive hdfs = PluginArchive.unpackBuiltArchive(BuiltArchive.EXCHANGE_HDFS);
 * }</pre>
 */
public final class PluginArchive
{
    /**
     * System property with the path of the built exchange-filesystem archive; Failsafe sets it (see pom.xml).
     */
    public static final String ARCHIVE_PROPERTY = "spoolex.plugin.archive";
    /**
     * System property with the path of the built exchange-hdfs archive; Failsafe sets it (see pom.xml).
     */
    public static final String HDFS_ARCHIVE_PROPERTY = "spoolex.plugin.hdfs-archive";
    /**
     * The exchange-filesystem archive's single top-level folder, the plugin's name on a server.
     */
    public static final String PLUGIN_FOLDER = "exchange-filesystem";

    /**
     * The archives the build makes: each unpacks into one folder named after what it replaces on a Trino server.
     */
    public enum BuiltArchive
    {
        EXCHANGE_FILESYSTEM(PLUGIN_FOLDER, ARCHIVE_PROPERTY),
        EXCHANGE_HDFS("exchange-hdfs", HDFS_ARCHIVE_PROPERTY);

        private final String folder;
        private final String property;

        BuiltArchive(String folder, String property)
        {
            this.folder = folder;
            this.property = property;
        }

        /**
         * The folder it unpacks into, the plugin's name on a server.
         */
        public String folder()
        {
            return folder;
        }

        /**
         * The system property with its path.
         */
        public String property()
        {
            return property;
        }

        /**
         * The built archive's path, from the system property Failsafe sets.
         */
        public Path path()
        {
            String archive = System.getProperty(property);
            checkState(archive != null, "System property %s is not set: run through Failsafe (bin/test), or set it to target/spoolex-<version>-%s.tar.gz", property, folder);
            return Path.of(archive).toAbsolutePath();
        }
    }

    private final Path pluginDirectory;
    private final List<Path> files;

    private PluginArchive(Path pluginDirectory)
    {
        this.pluginDirectory = requireNonNull(pluginDirectory, "pluginDirectory is null").toAbsolutePath();
        checkArgument(Files.isDirectory(pluginDirectory), "not a plugin folder: %s", pluginDirectory);
        // Trino puts every file of the folder on the class path, sorted
        try (Stream<Path> listing = Files.list(this.pluginDirectory)) {
            this.files = listing.sorted().collect(toImmutableList());
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        checkArgument(files.stream().anyMatch(file -> file.getFileName().toString().endsWith(".jar")), "no jars in %s", pluginDirectory);
    }

    /**
     * The exchange-filesystem archive named by the system property {@value #ARCHIVE_PROPERTY}, unpacked into a new
     * directory under {@code plugin-archive/} next to it (in {@code target/}).
     */
    public static PluginArchive unpackBuiltArchive()
    {
        return unpackBuiltArchive(BuiltArchive.EXCHANGE_FILESYSTEM);
    }

    /**
     * One of the built archives, unpacked into a new directory under {@code plugin-archive/} next to it (in
     * {@code target/}); it must hold the archive's folder.
     */
    public static PluginArchive unpackBuiltArchive(BuiltArchive builtArchive)
    {
        Path path = builtArchive.path();
        PluginArchive archive = unpack(path, path.getParent().resolve("plugin-archive"));
        checkState(archive.pluginName().equals(builtArchive.folder()), "%s unpacked into %s/, not %s/", path, archive.pluginName(), builtArchive.folder());
        return archive;
    }

    /**
     * Unpacks {@code archive} (a {@code .tar.gz}, {@code .tgz} or {@code .zip}) into a new directory below
     * {@code parentDirectory}; it must hold one folder, the plugin's.
     */
    public static PluginArchive unpack(Path archive, Path parentDirectory)
    {
        checkArgument(Files.isRegularFile(archive), "plugin archive %s does not exist: build it with ./mvnw package", archive);
        String name = archive.getFileName().toString();
        try {
            Files.createDirectories(parentDirectory);
            Path target = Files.createTempDirectory(parentDirectory, "unpacked-");
            if (name.endsWith(".tar.gz") || name.endsWith(".tgz")) {
                untar(archive, target);
            }
            else if (name.endsWith(".zip")) {
                unzip(archive, target);
            }
            else {
                throw new IllegalArgumentException("not a .tar.gz or .zip archive: " + archive);
            }
            List<Path> folders;
            try (Stream<Path> listing = Files.list(target)) {
                folders = listing.collect(toImmutableList());
            }
            checkState(folders.size() == 1 && Files.isDirectory(folders.getFirst()), "%s holds %s at its top, not one plugin folder", archive, folders);
            return new PluginArchive(folders.getFirst());
        }
        catch (IOException e) {
            throw new UncheckedIOException("Cannot unpack " + archive, e);
        }
    }

    /**
     * A plugin folder unpacked before, e.g. by {@link #unpack} in another JVM.
     */
    public static PluginArchive unpacked(Path pluginDirectory)
    {
        return new PluginArchive(pluginDirectory);
    }

    public Path pluginDirectory()
    {
        return pluginDirectory;
    }

    /**
     * The plugin's name on a server: its folder's, e.g. {@code exchange-hdfs}.
     */
    public String pluginName()
    {
        return pluginDirectory.getFileName().toString();
    }

    /**
     * The files of the plugin folder, in the order of the class path Trino gives them.
     */
    public List<Path> files()
    {
        return files;
    }

    /**
     * A new class loader over the plugin folder, made by Trino's own code.
     */
    public PluginClassLoader newClassLoader()
    {
        List<URL> urls = files.stream()
                .map(PluginArchive::toUrl)
                .collect(toImmutableList());
        return PluginManager.createClassLoader(pluginName(), urls);
    }

    /**
     * The plugin, in a class loader of its own (a new one every time).
     */
    public LoadedPlugin load()
    {
        return load(newClassLoader());
    }

    /**
     * The plugin in a class loader over the plugin folder and, after it, {@code testJars}: test-only code the plugin's
     * classes can see, such as an in-memory fake of a storage service made of the plugin's own client library.
     */
    public LoadedPlugin loadWith(List<Path> testJars)
    {
        List<URL> urls = Stream.concat(files.stream(), testJars.stream())
                .map(PluginArchive::toUrl)
                .collect(toImmutableList());
        return load(PluginManager.createClassLoader(pluginName(), urls));
    }

    private LoadedPlugin load(PluginClassLoader classLoader)
    {
        try (ThreadContextClassLoader _ = new ThreadContextClassLoader(classLoader)) {
            List<Plugin> plugins = ImmutableList.copyOf(ServiceLoader.load(Plugin.class, classLoader));
            checkState(!plugins.isEmpty(), "No service providers of type %s in the classpath: %s", Plugin.class.getName(), files);
            return new LoadedPlugin(classLoader, plugins.stream().collect(onlyElement()));
        }
    }

    @Override
    public String toString()
    {
        return pluginDirectory.toString();
    }

    /**
     * One plugin class loader and the plugin it holds.
     */
    public record LoadedPlugin(PluginClassLoader classLoader, Plugin plugin)
    {
        public LoadedPlugin
        {
            requireNonNull(classLoader, "classLoader is null");
            requireNonNull(plugin, "plugin is null");
        }

        public List<ExchangeManagerFactory> exchangeManagerFactories()
        {
            return ImmutableList.copyOf(plugin.getExchangeManagerFactories());
        }

        public ExchangeManagerFactory exchangeManagerFactory(String name)
        {
            return exchangeManagerFactories().stream()
                    .filter(factory -> factory.getName().equals(name))
                    .collect(onlyElement());
        }

        /**
         * An exchange manager of the factory {@code name}, created as Trino's {@code ExchangeManagerRegistry} creates one.
         */
        public ExchangeManager createExchangeManager(String name, Map<String, String> properties)
        {
            return createExchangeManager(name, properties, new ExchangeManagerContext() {});
        }

        /**
         * As {@link #createExchangeManager(String, Map)}, with the engine's context (its OpenTelemetry and tracer).
         */
        public ExchangeManager createExchangeManager(String name, Map<String, String> properties, ExchangeManagerContext context)
        {
            ExchangeManagerFactory factory = exchangeManagerFactory(name);
            try (ThreadContextClassLoader _ = new ThreadContextClassLoader(factory.getClass().getClassLoader())) {
                return factory.create(properties, context);
            }
        }

        /**
         * The class of {@code name} as this plugin's class loader resolves it (for reflection), initialized.
         */
        public Class<?> loadClass(String name)
        {
            try {
                return Class.forName(name, true, classLoader);
            }
            catch (ClassNotFoundException e) {
                throw new IllegalArgumentException("%s is not visible to %s".formatted(name, classLoader), e);
            }
        }
    }

    private static void untar(Path archive, Path target)
            throws IOException
    {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new GZIPInputStream(Files.newInputStream(archive)))) {
            for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
                checkArgument(!entry.isSymbolicLink() && !entry.isLink(), "%s: links are not expected in a plugin archive: %s", archive, entry.getName());
                extract(tar, target, entry.getName(), entry.isDirectory());
            }
        }
    }

    private static void unzip(Path archive, Path target)
            throws IOException
    {
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(archive))) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                extract(zip, target, entry.getName(), entry.isDirectory());
            }
        }
    }

    private static void extract(InputStream content, Path target, String entryName, boolean directory)
            throws IOException
    {
        Path destination = target.resolve(entryName).normalize();
        checkArgument(destination.startsWith(target), "archive entry outside of its folder: %s", entryName);
        if (directory) {
            Files.createDirectories(destination);
            return;
        }
        Files.createDirectories(destination.getParent());
        Files.copy(content, destination);
    }

    private static URL toUrl(Path file)
    {
        try {
            return file.toUri().toURL();
        }
        catch (MalformedURLException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
