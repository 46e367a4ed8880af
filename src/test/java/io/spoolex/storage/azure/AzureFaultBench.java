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
import io.spoolex.faults.FaultScenario;

import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * What the fault benchmark ({@code bin/bench faults --storage azure}) needs of the Azure test setup, the same the
 * fault scenarios use.
 */
public final class AzureFaultBench
{
    public static final List<String> CONTAINERS = TestAzureFaultScenarios.CONTAINERS;

    private AzureFaultBench() {}

    public static List<String> storedBlobs(BlobServiceClient client)
    {
        return TestAzureFaultScenarios.storedBlobs(client, CONTAINERS);
    }

    public static void wipe(BlobServiceClient client)
    {
        for (String container : CONTAINERS) {
            for (BlobItem blob : client.getBlobContainerClient(container).listBlobs()) {
                client.getBlobContainerClient(container).getBlobClient(blob.getName()).deleteIfExists();
            }
        }
    }

    public static Map<String, String> properties(URI proxyEndpoint)
    {
        return TestAzureFaultScenarios.properties(proxyEndpoint);
    }

    public static Map<String, String> retryLimits(FaultScenario.RetryLimits limits)
    {
        return TestAzureFaultScenarios.retryLimits(limits);
    }
}
