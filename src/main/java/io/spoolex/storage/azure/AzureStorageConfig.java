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

import io.airlift.configuration.Config;
import io.airlift.configuration.ConfigDescription;
import io.airlift.configuration.ConfigSecuritySensitive;
import io.airlift.units.DataSize;
import io.airlift.units.Duration;
import io.airlift.units.MaxDataSize;
import io.airlift.units.MaxDuration;
import io.airlift.units.MinDataSize;
import io.airlift.units.MinDuration;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;

import static com.google.common.base.MoreObjects.toStringHelper;
import static io.airlift.units.DataSize.Unit.MEGABYTE;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.MINUTES;
import static java.util.concurrent.TimeUnit.SECONDS;

/**
 * The {@code exchange.azure.*} properties: those of Trino 483's Azure exchange storage, with its names, defaults and
 * bounds, and Spoolex's own for how long and how fast requests are retried.
 */
public class AzureStorageConfig
{
    public static final String CONNECTION_STRING = "exchange.azure.connection-string";
    public static final String ENDPOINT = "exchange.azure.endpoint";
    public static final String BLOCK_SIZE = "exchange.azure.block-size";
    public static final String MAX_ERROR_RETRIES = "exchange.azure.max-error-retries";
    public static final String MAX_CONNECTIONS = "exchange.azure.max-connections";
    public static final String PENDING_ACQUIRE_MAX_COUNT = "exchange.azure.pending-acquire-max-count";
    public static final String CONNECTION_ACQUISITION_TIMEOUT = "exchange.azure.connection-acquisition-timeout";
    public static final String RETRY_TIME = "exchange.azure.retry-time";
    public static final String RETRY_DELAY = "exchange.azure.retry-delay";
    public static final String THROTTLED_RETRY_DELAY = "exchange.azure.throttled-retry-delay";
    public static final String MAX_RETRY_DELAY = "exchange.azure.max-retry-delay";

    private String connectionString;
    private String endpoint;
    private DataSize blockSize = DataSize.of(4, MEGABYTE);
    private int maxErrorRetries = 10;
    private int maxConnections = 500;
    private int pendingAcquireMaxCount = 1000;
    private Duration connectionAcquisitionTimeout = new Duration(1, MINUTES);
    // as the S3 backend's: an outage of up to 30 s costs time, not the task
    private Duration retryTime = new Duration(30, SECONDS);
    private Duration retryDelay = new Duration(100, MILLISECONDS);
    private Duration throttledRetryDelay = new Duration(1, SECONDS);
    private Duration maxRetryDelay = new Duration(5, SECONDS);

    public Optional<String> getConnectionString()
    {
        return Optional.ofNullable(connectionString);
    }

    @Config(CONNECTION_STRING)
    @ConfigSecuritySensitive
    @ConfigDescription("Azure Storage connection string (account name and key, or a SAS); exactly one of this and exchange.azure.endpoint")
    public AzureStorageConfig setConnectionString(String connectionString)
    {
        this.connectionString = connectionString;
        return this;
    }

    public Optional<String> getEndpoint()
    {
        return Optional.ofNullable(endpoint);
    }

    @Config(ENDPOINT)
    @ConfigSecuritySensitive
    @ConfigDescription("Blob endpoint of the storage account, e.g. https://account.blob.core.windows.net, used with the default Azure credential chain (or with the SAS in its query)")
    public AzureStorageConfig setEndpoint(String endpoint)
    {
        this.endpoint = endpoint == null ? null : endpoint.trim();
        return this;
    }

    @NotNull
    @MinDataSize("4MB")
    @MaxDataSize("256MB")
    public DataSize getBlockSize()
    {
        return blockSize;
    }

    @Config(BLOCK_SIZE)
    @ConfigDescription("Block size of block blobs, and the size of a sink's write buffers")
    public AzureStorageConfig setBlockSize(DataSize blockSize)
    {
        this.blockSize = blockSize;
        return this;
    }

    @Min(0)
    public int getMaxErrorRetries()
    {
        return maxErrorRetries;
    }

    @Config(MAX_ERROR_RETRIES)
    @ConfigDescription("Attempts a failing Azure Storage request gets at least, counting the first (0 and 1 both mean one); see also exchange.azure.retry-time")
    public AzureStorageConfig setMaxErrorRetries(int maxErrorRetries)
    {
        this.maxErrorRetries = maxErrorRetries;
        return this;
    }

    /**
     * What the Azure SDK calls max tries: Trino passes this property there, so 10 means one attempt and nine retries
     * (Spoolex retries itself, with this as the least number of attempts).
     */
    public int maxTries()
    {
        return Math.max(1, maxErrorRetries);
    }

    @Min(1)
    public int getMaxConnections()
    {
        return maxConnections;
    }

    @Config(MAX_CONNECTIONS)
    @ConfigDescription("Most HTTP connections to Azure Storage in use at once")
    public AzureStorageConfig setMaxConnections(int maxConnections)
    {
        this.maxConnections = maxConnections;
        return this;
    }

    @Min(1)
    public int getPendingAcquireMaxCount()
    {
        return pendingAcquireMaxCount;
    }

    @Config(PENDING_ACQUIRE_MAX_COUNT)
    @ConfigDescription("Most requests waiting for a connection when all exchange.azure.max-connections are in use; more fail at once")
    public AzureStorageConfig setPendingAcquireMaxCount(int pendingAcquireMaxCount)
    {
        this.pendingAcquireMaxCount = pendingAcquireMaxCount;
        return this;
    }

    @NotNull
    public Duration getConnectionAcquisitionTimeout()
    {
        return connectionAcquisitionTimeout;
    }

    @Config(CONNECTION_ACQUISITION_TIMEOUT)
    @ConfigDescription("How long a request may wait for a connection")
    public AzureStorageConfig setConnectionAcquisitionTimeout(Duration connectionAcquisitionTimeout)
    {
        this.connectionAcquisitionTimeout = connectionAcquisitionTimeout;
        return this;
    }

    @NotNull
    @MinDuration("0s")
    @MaxDuration("1h")
    public Duration getRetryTime()
    {
        return retryTime;
    }

    @Config(RETRY_TIME)
    @ConfigDescription("How long after its first failure an Azure Storage request that fails with a retryable error (throttling, 5xx, network failures, answers cut short) is still retried: the outage a task rides out")
    public AzureStorageConfig setRetryTime(Duration retryTime)
    {
        this.retryTime = retryTime;
        return this;
    }

    @NotNull
    @MinDuration("1ms")
    public Duration getRetryDelay()
    {
        return retryDelay;
    }

    @Config(RETRY_DELAY)
    @ConfigDescription("Backoff before the first retry of a request that failed on the server (500 and other 5xx) or on the network; doubled for each further retry")
    public AzureStorageConfig setRetryDelay(Duration retryDelay)
    {
        this.retryDelay = retryDelay;
        return this;
    }

    @NotNull
    @MinDuration("1ms")
    public Duration getThrottledRetryDelay()
    {
        return throttledRetryDelay;
    }

    @Config(THROTTLED_RETRY_DELAY)
    @ConfigDescription("Backoff before the first retry of a throttled request (429, 503 ServerBusy); doubled for each further retry")
    public AzureStorageConfig setThrottledRetryDelay(Duration throttledRetryDelay)
    {
        this.throttledRetryDelay = throttledRetryDelay;
        return this;
    }

    @NotNull
    @MinDuration("1ms")
    public Duration getMaxRetryDelay()
    {
        return maxRetryDelay;
    }

    @Config(MAX_RETRY_DELAY)
    @ConfigDescription("Longest wait between two attempts of a request")
    public AzureStorageConfig setMaxRetryDelay(Duration maxRetryDelay)
    {
        this.maxRetryDelay = maxRetryDelay;
        return this;
    }

    @AssertTrue(message = "exchange.azure.retry-delay must not exceed exchange.azure.max-retry-delay")
    public boolean isRetryDelayWithinMax()
    {
        return retryDelay == null || maxRetryDelay == null || retryDelay.compareTo(maxRetryDelay) <= 0;
    }

    @AssertTrue(message = "exchange.azure.throttled-retry-delay must not exceed exchange.azure.max-retry-delay")
    public boolean isThrottledRetryDelayWithinMax()
    {
        return throttledRetryDelay == null || maxRetryDelay == null || throttledRetryDelay.compareTo(maxRetryDelay) <= 0;
    }

    @AssertTrue(message = "Exactly one of exchange.azure.connection-string or exchange.azure.endpoint must be set")
    public boolean isExactlyOneAccountSetting()
    {
        return (connectionString == null) != (endpoint == null);
    }

    @AssertTrue(message = "exchange.azure.endpoint must be an absolute http:// or https:// URL, such as https://account.blob.core.windows.net")
    public boolean isEndpointValid()
    {
        if (endpoint == null) {
            return true;
        }
        try {
            URI uri = new URI(endpoint);
            return uri.getScheme() != null
                    && (uri.getScheme().equalsIgnoreCase("http") || uri.getScheme().equalsIgnoreCase("https"))
                    && uri.getHost() != null;
        }
        catch (URISyntaxException e) {
            return false;
        }
    }

    @Override
    public String toString()
    {
        // never the connection string or the endpoint: either may carry a key or a SAS
        return toStringHelper(this)
                .omitNullValues()
                .add("connectionString", connectionString == null ? null : "***")
                .add("endpoint", endpoint == null ? null : "***")
                .add("blockSize", blockSize)
                .add("maxErrorRetries", maxErrorRetries)
                .add("maxConnections", maxConnections)
                .add("pendingAcquireMaxCount", pendingAcquireMaxCount)
                .add("connectionAcquisitionTimeout", connectionAcquisitionTimeout)
                .add("retryTime", retryTime)
                .add("retryDelay", retryDelay)
                .add("throttledRetryDelay", throttledRetryDelay)
                .add("maxRetryDelay", maxRetryDelay)
                .toString();
    }
}
