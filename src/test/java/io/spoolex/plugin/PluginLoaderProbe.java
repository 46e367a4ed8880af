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

import io.spoolex.plugin.PluginArchive.LoadedPlugin;
import io.trino.spi.exchange.ExchangeManager;

import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * Loads an unpacked plugin folder into several plugin class loaders of one JVM, one exchange manager each (all open
 * at once), and prints for each loader the LZ4 implementation its Spoolex uses and an exchange round trip:
 * <pre>
 * loader-1 lz4=JNI compressor=net.jpountz.lz4.LZ4JNICompressor
 * loader-1 round-trip pages=80 page-bytes=24117248 stored-bytes=9568256
 * </pre>
 * Run as {@code PluginLoaderProbe <plugin folder> <spool directory> <loaders>} by {@link PluginLz4IT} in a JVM of its
 * own, whose {@code java.library.path} and {@code java.io.tmpdir} the test chooses. The static helpers read what a
 * plugin loaded in a plugin class loader uses, by reflection on that loader's classes.
 */
public final class PluginLoaderProbe
{
    private PluginLoaderProbe() {}

    public static void main(String[] args)
            throws Exception
    {
        checkArgument(args.length == 3, "usage: PluginLoaderProbe <plugin folder> <spool directory> <loaders>");
        PluginArchive archive = PluginArchive.unpacked(Path.of(args[0]));
        Path spool = Path.of(args[1]);
        int loaders = Integer.parseInt(args[2]);
        List<ExchangeManager> managers = new ArrayList<>();
        try {
            for (int loader = 1; loader <= loaders; loader++) {
                LoadedPlugin plugin = archive.load();
                Path baseDirectory = Files.createDirectories(spool.resolve("loader-" + loader));
                ExchangeManager manager = plugin.createExchangeManager("filesystem", Map.of("exchange.base-directories", baseDirectory.toString()));
                managers.add(manager);
                System.out.printf("loader-%s lz4=%s compressor=%s%n", loader, lz4Implementation(manager), compressorClass(plugin));
                SpoolRoundTrip.Result result = SpoolRoundTrip.run(manager, baseDirectory);
                System.out.printf("loader-%s round-trip pages=%s page-bytes=%s stored-bytes=%s%n", loader, result.pages(), result.pageBytes(), result.storedBytes());
            }
        }
        finally {
            managers.forEach(ExchangeManager::shutdown);
        }
        System.out.flush();
    }

    /**
     * What the manager's statistics report as its LZ4 implementation (the JMX attribute {@code Lz4Implementation}).
     */
    public static String lz4Implementation(ExchangeManager manager)
    {
        Object stats = invoke(manager, "getStats");
        return (String) invoke(stats, "getLz4Implementation");
    }

    /**
     * The class of the LZ4 compressor spool files are written with in the plugin's class loader.
     */
    public static String compressorClass(LoadedPlugin plugin)
    {
        Object implementation = invoke(plugin.loadClass("io.spoolex.format.Lz4Implementation"), null, "get");
        return invoke(implementation, "compressor").getClass().getName();
    }

    /**
     * The class of the LZ4 decompressor spool files are read with in the plugin's class loader.
     */
    public static String decompressorClass(LoadedPlugin plugin)
    {
        Object implementation = invoke(plugin.loadClass("io.spoolex.format.Lz4Implementation"), null, "get");
        return invoke(implementation, "decompressor").getClass().getName();
    }

    private static Object invoke(Object target, String method)
    {
        return invoke(target.getClass(), target, method);
    }

    private static Object invoke(Class<?> type, Object target, String method)
    {
        try {
            return type.getMethod(method).invoke(target);
        }
        catch (InvocationTargetException e) {
            throw new RuntimeException("%s.%s() failed".formatted(type.getName(), method), e.getCause());
        }
        catch (ReflectiveOperationException e) {
            throw new IllegalStateException("%s has no public %s()".formatted(type.getName(), method), e);
        }
    }
}
