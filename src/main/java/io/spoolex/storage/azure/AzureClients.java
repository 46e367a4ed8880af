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

import com.azure.core.credential.TokenCredential;
import com.azure.core.util.ClientOptions;
import com.azure.identity.DefaultAzureCredentialBuilder;
import com.azure.storage.blob.BlobContainerAsyncClient;
import com.azure.storage.blob.BlobServiceAsyncClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.batch.BlobBatchAsyncClient;
import com.azure.storage.blob.batch.BlobBatchClientBuilder;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import com.azure.storage.file.datalake.DataLakeFileSystemAsyncClient;
import com.azure.storage.file.datalake.DataLakeServiceAsyncClient;
import com.azure.storage.file.datalake.DataLakeServiceClientBuilder;
import io.trino.spi.TrinoException;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static com.google.common.base.Preconditions.checkState;
import static io.airlift.concurrent.Threads.daemonThreadsNamed;
import static io.trino.spi.StandardErrorCode.CONFIGURATION_INVALID;
import static java.util.Objects.requireNonNull;

/**
 * The Azure SDK clients of one storage account (the configured connection string's or endpoint's), all on one
 * {@link AzureHttpClient}, and the {@link AzureCalls} every request goes through. The SDK makes one try per call:
 * Spoolex retries (by time as well as attempts, each request on its own timer), and two retry policies on top of
 * each other would multiply their attempts.
 */
final class AzureClients
        implements AutoCloseable
{
    private static final String APPLICATION_ID = "spoolex-exchange";

    private final ScheduledExecutorService timer;
    private final AzureHttpClient httpClient;
    private final ConnectionSlots slots;
    private final BlobServiceAsyncClient blobService;
    private final DataLakeServiceAsyncClient dataLakeService;
    private final String credentials;
    private final int maxTries;
    private final AzureCalls calls;

    private final BlobBatchAsyncClient batchClient;

    AzureClients(AzureStorageConfig config, AzureStorageStats stats)
    {
        requireNonNull(config, "config is null");
        requireNonNull(stats, "stats is null");
        this.maxTries = config.maxTries();
        this.calls = new AzureCalls(AzureCalls.retryPolicy(config), stats);
        // one try: AzureCalls retries
        RequestRetryOptions retryOptions = new RequestRetryOptions(
                RetryPolicyType.FIXED,
                1,
                (Duration) null,
                Duration.ofMillis(1),
                Duration.ofMillis(1),
                null);
        this.timer = Executors.newSingleThreadScheduledExecutor(daemonThreadsNamed("spoolex-azure-timer-%s"));
        this.slots = new ConnectionSlots(config.getMaxConnections(), config.getPendingAcquireMaxCount(), config.getConnectionAcquisitionTimeout().toMillis(), timer, stats);
        this.httpClient = new AzureHttpClient(slots);
        AzureRequestCounter requestCounter = new AzureRequestCounter(stats);
        ClientOptions clientOptions = new ClientOptions().setApplicationId(APPLICATION_ID);

        BlobServiceClientBuilder blob = new BlobServiceClientBuilder()
                .httpClient(httpClient)
                .retryOptions(retryOptions)
                .addPolicy(requestCounter)
                .clientOptions(clientOptions);
        DataLakeServiceClientBuilder dataLake = new DataLakeServiceClientBuilder()
                .httpClient(httpClient)
                .retryOptions(retryOptions)
                .addPolicy(requestCounter)
                .clientOptions(clientOptions);
        try {
            if (config.getConnectionString().isPresent()) {
                String connectionString = config.getConnectionString().orElseThrow();
                blob.connectionString(connectionString);
                dataLake.connectionString(connectionString);
                credentials = connectionString.toLowerCase(Locale.ENGLISH).contains("sharedaccesssignature=") ? "connection string with a SAS" : "connection string with the account key";
            }
            else {
                String endpoint = config.getEndpoint().orElseThrow();
                blob.endpoint(endpoint);
                dataLake.endpoint(endpoint);
                if (URI.create(endpoint).getRawQuery() == null) {
                    // managed identity, workload identity, environment, Azure CLI, ... as DefaultAzureCredential tries them
                    TokenCredential credential = new DefaultAzureCredentialBuilder().httpClient(httpClient).build();
                    blob.credential(credential);
                    dataLake.credential(credential);
                    credentials = "the default Azure credential chain";
                }
                else {
                    // the endpoint carries a SAS, which the builders take as the credential
                    credentials = "the endpoint's SAS";
                }
            }
            this.blobService = blob.buildAsyncClient();
            this.dataLakeService = dataLake.buildAsyncClient();
            this.batchClient = new BlobBatchClientBuilder(blobService).buildAsyncClient();
        }
        catch (RuntimeException e) {
            close();
            // never the SDK's message or cause: they may quote the connection string or endpoint, keys and all
            String property = config.getConnectionString().isPresent() ? AzureStorageConfig.CONNECTION_STRING : AzureStorageConfig.ENDPOINT;
            throw new TrinoException(CONFIGURATION_INVALID, "Invalid configuration: %s is not usable as an Azure Storage %s (%s)".formatted(
                    property,
                    property.equals(AzureStorageConfig.CONNECTION_STRING) ? "connection string, e.g. DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net" : "endpoint, e.g. https://account.blob.core.windows.net",
                    e.getClass().getSimpleName()));
        }
    }

    BlobContainerAsyncClient container(String container)
    {
        return blobService.getBlobContainerAsyncClient(container);
    }

    DataLakeFileSystemAsyncClient fileSystem(String container)
    {
        return dataLakeService.getFileSystemAsyncClient(container);
    }

    /**
     * The account's batch client (service-scoped, as Trino's: Azurite serves no container-scoped batches).
     */
    BlobBatchAsyncClient batch()
    {
        return batchClient;
    }

    String accountName()
    {
        return blobService.getAccountName();
    }

    AzureCalls calls()
    {
        return calls;
    }

    ConnectionSlots slots()
    {
        return slots;
    }

    @Override
    public void close()
    {
        if (httpClient != null) {
            httpClient.close();
        }
        timer.shutdownNow();
        // what the client no longer answers, and retries waiting for their turn, fail as closed
        calls.close();
    }

    @Override
    public String toString()
    {
        // the account and how requests authenticate, never the secrets
        checkState(blobService != null, "not built");
        return "AzureClients{account=%s, url=%s, credentials=%s, maxTries=%s}".formatted(
                blobService.getAccountName(),
                Optional.ofNullable(blobService.getAccountUrl()).orElse("?"),
                credentials,
                maxTries);
    }
}
