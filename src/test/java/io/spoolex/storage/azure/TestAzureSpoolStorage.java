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
package io.spoolex.storage.azure;

import io.spoolex.storage.AbstractSpoolStorageTest;
import io.spoolex.storage.SpoolStorageBackend;
import org.junit.jupiter.api.BeforeAll;

import java.util.List;
import java.util.Map;

/**
 * The storage contract on Azurite (the Blob API: Put Blob, staged blocks, ranged Get Blob, listing, blob batches),
 * two containers as base directories, with the smallest block size Trino allows.
 */
public class TestAzureSpoolStorage
        extends AbstractSpoolStorageTest
{
    private static final List<String> CONTAINERS = List.of("spoolex-storage-one", "spoolex-storage-two");

    private static AzuriteServer server;

    @BeforeAll
    public static void startServer()
    {
        server = AzuriteServer.shared();
        server.createContainers(CONTAINERS);
    }

    @Override
    protected SpoolStorageBackend backend()
    {
        return new AzureStorageBackend();
    }

    @Override
    protected List<String> baseDirectories()
    {
        return List.of(
                "abfs://" + CONTAINERS.get(0) + "@" + AzuriteServer.ACCOUNT + ".dfs.core.windows.net/spool",
                "abfs://" + CONTAINERS.get(1) + "@" + AzuriteServer.ACCOUNT + ".blob.core.windows.net/nested/spool");
    }

    @Override
    protected Map<String, String> backendProperties()
    {
        return Map.of(
                "exchange.azure.connection-string", server.connectionString(),
                "exchange.azure.block-size", "4MB");
    }
}
