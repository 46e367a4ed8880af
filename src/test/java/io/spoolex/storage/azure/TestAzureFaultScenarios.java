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

import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.models.BlobItem;
import com.google.common.collect.ImmutableList;
import io.spoolex.faults.AbstractFaultScenarioTest;
import io.spoolex.faults.ExchangeCycle;
import io.spoolex.faults.FaultInjectingHttpProxy;
import io.spoolex.faults.FaultInjector;
import io.spoolex.faults.FaultScenario;
import io.spoolex.faults.FaultScenarios;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * The representative fault scenarios on Azure Blob Storage (Azurite, the one every Azure test of the JVM shares,
 * behind the fault proxy with Azure's dialect), in the default test run, plus the Azure-only blob batch scenario;
 * {@link TestAzureFaultMatrix} runs them all.
 */
public class TestAzureFaultScenarios
        extends AbstractFaultScenarioTest
{
    static final List<String> CONTAINERS = List.of("spoolex-faults-one", "spoolex-faults-two");
    private static final String HOST = AzuriteServer.ACCOUNT + ".dfs.core.windows.net";

    private BlobServiceClient client;
    private FaultInjectingHttpProxy proxy;

    @BeforeAll
    public void startProxy()
            throws IOException
    {
        AzuriteServer server = AzuriteServer.shared();
        server.createContainers(CONTAINERS);
        client = server.createClient();
        proxy = new FaultInjectingHttpProxy(server.blobEndpoint(), AzureHttpDialect.AZURE);
    }

    @AfterAll
    public void stopProxy()
            throws IOException
    {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Override
    protected List<FaultScenario> scenarios()
    {
        return ImmutableList.<FaultScenario>builder()
                .addAll(FaultScenarios.fast())
                .add(FaultScenarios.BATCH_THROTTLING_AT_CLOSE)
                .build();
    }

    @Override
    protected FaultInjector injector()
    {
        return proxy;
    }

    @Override
    protected ExchangeCycle.StorageInspector inspector()
    {
        return () -> storedBlobs(client, CONTAINERS);
    }

    /**
     * The blobs in the containers, as {@code abfs://container@account.../name}. Blocks staged and never committed
     * (an aborted writer's) make no blob: Azure lists them only when asked for uncommitted blobs, and drops them a
     * week after they were staged.
     */
    static List<String> storedBlobs(BlobServiceClient client, List<String> containers)
    {
        ImmutableList.Builder<String> blobs = ImmutableList.builder();
        for (String container : containers) {
            for (BlobItem blob : client.getBlobContainerClient(container).listBlobs()) {
                blobs.add("abfs://%s@%s/%s".formatted(container, HOST, blob.getName()));
            }
        }
        return blobs.build();
    }

    @Override
    protected Map<String, String> storageProperties()
    {
        return properties(proxy.endpoint());
    }

    static Map<String, String> properties(URI endpoint)
    {
        return Map.of(
                "exchange.base-directories", "abfs://%s@%s/spool,abfs://%s@%s/nested/spool".formatted(CONTAINERS.get(0), HOST, CONTAINERS.get(1), HOST),
                AzureStorageConfig.CONNECTION_STRING, AzuriteServer.connectionString(URI.create(endpoint + "/" + AzuriteServer.ACCOUNT)));
    }

    @Override
    protected Map<String, String> retryProperties(FaultScenario.RetryLimits limits)
    {
        return retryLimits(limits);
    }

    static Map<String, String> retryLimits(FaultScenario.RetryLimits limits)
    {
        return Map.of(
                AzureStorageConfig.MAX_ERROR_RETRIES, Integer.toString(limits.attempts()),
                AzureStorageConfig.RETRY_TIME, limits.time().toMillis() + "ms");
    }
}
