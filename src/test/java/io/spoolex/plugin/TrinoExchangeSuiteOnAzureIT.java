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

import io.spoolex.storage.azure.AzuriteServer;
import io.trino.plugin.exchange.filesystem.AbstractTestExchangeManager;
import io.trino.spi.exchange.ExchangeManager;
import org.junit.jupiter.api.AfterAll;

import java.util.List;
import java.util.Map;

/**
 * Trino 483's own exchange-manager suite against the built plugin archive, loaded as a Trino server loads it, on
 * Azurite (the Blob API of Azure Storage) with two containers as base directories, in the {@code abfs://} form of
 * Trino's Azure exchange-manager test, and Trino's smallest block size so that larger files go as staged blocks.
 */
public class TrinoExchangeSuiteOnAzureIT
        extends AbstractTestExchangeManager
{
    private static final List<String> CONTAINERS = List.of("trino-suite-one", "trino-suite-two");

    private ExchangeManager manager;

    @Override
    protected ExchangeManager createExchangeManager()
    {
        AzuriteServer server = AzuriteServer.shared();
        server.createContainers(CONTAINERS);
        String host = AzuriteServer.ACCOUNT + ".dfs.core.windows.net";
        manager = PluginArchive.unpackBuiltArchive().load().createExchangeManager("filesystem", Map.of(
                "exchange.base-directories", "abfs://%s@%s/spool,abfs://%s@%s".formatted(CONTAINERS.get(0), host, CONTAINERS.get(1), host),
                "exchange.azure.connection-string", server.connectionString(),
                "exchange.azure.block-size", "4MB",
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
