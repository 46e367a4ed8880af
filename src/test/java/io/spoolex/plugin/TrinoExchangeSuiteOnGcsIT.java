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

import com.google.cloud.storage.contrib.nio.testing.LocalStorageHelper;
import io.spoolex.storage.gcs.GcsFake;
import io.trino.plugin.exchange.filesystem.AbstractTestExchangeManager;
import io.trino.spi.classloader.ThreadContextClassLoader;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeManagerFactory;
import org.junit.jupiter.api.AfterAll;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Trino 483's own exchange-manager suite against the built plugin archive, loaded as a Trino server loads it, on
 * the native {@code gs://} mode with two buckets. The JSON API is Google's in-memory fake ({@link GcsFake}), made
 * of the archive's own google-cloud-storage classes: google-cloud-nio's jar sits on the plugin's class loader after
 * the archive's jars, and the GCS backend is handed the fake through its Java-only test hook. So the archive's
 * client library, with the gRPC transport and the rest left out, builds its options, uploads (single-request and
 * resumable), reads, lists and deletes in the plugin's class loader.
 */
public class TrinoExchangeSuiteOnGcsIT
        extends AbstractTestExchangeManager
{
    private ExchangeManager manager;

    @Override
    protected ExchangeManager createExchangeManager()
    {
        PluginArchive.LoadedPlugin plugin = PluginArchive.unpackBuiltArchive().loadWith(List.of(jarOf(LocalStorageHelper.class)));
        GcsFake fake = GcsFake.create(plugin.classLoader());
        try (ThreadContextClassLoader _ = new ThreadContextClassLoader(plugin.classLoader())) {
            ExchangeManagerFactory factory = (ExchangeManagerFactory) plugin.loadClass("io.spoolex.exchange.SpoolexExchangeManagerFactory")
                    .getConstructor(String.class, List.class)
                    .newInstance("filesystem", List.of(fake.backend()));
            manager = factory.create(Map.of(
                    "exchange.base-directories", "gs://trino-suite-one/spool,gs://trino-suite-two",
                    "exchange.sink-max-file-size", "16MB",
                    "exchange.source-handle-target-data-size", "1MB"), new ExchangeManagerContext() {});
        }
        catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        return manager;
    }

    private static Path jarOf(Class<?> type)
    {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        }
        catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    public void shutDownManager()
    {
        if (manager != null) {
            manager.shutdown();
        }
    }
}
