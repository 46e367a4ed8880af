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

import io.trino.plugin.exchange.filesystem.AbstractTestExchangeManager;
import io.trino.spi.exchange.ExchangeManager;
import org.junit.jupiter.api.AfterAll;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Trino 483's own exchange-manager suite ({@code AbstractTestExchangeManager}, from trino-exchange-filesystem's
 * tests jar) against the built plugin archive loaded as a Trino server loads it, on local storage with two base
 * directories and the settings of Trino's {@code TestLocalFileSystemExchangeManager}.
 */
public class TrinoExchangeSuiteOnLocalIT
        extends AbstractTestExchangeManager
{
    private ExchangeManager manager;

    @Override
    protected ExchangeManager createExchangeManager()
    {
        Path root;
        try {
            root = Files.createTempDirectory("trino-exchange-suite");
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        manager = PluginArchive.unpackBuiltArchive().load().createExchangeManager("filesystem", Map.of(
                "exchange.base-directories", root.resolve("one") + "," + root.resolve("two"),
                "exchange.sink-max-file-size", "16MB",
                "exchange.source-handle-target-data-size", "1MB"));
        return manager;
    }

    @AfterAll
    public void shutDownManager()
    {
        if (manager != null) {
            manager.shutdown();
        }
    }
}
