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
import com.azure.storage.common.sas.AccountSasPermission;
import com.azure.storage.common.sas.AccountSasResourceType;
import com.azure.storage.common.sas.AccountSasService;
import com.azure.storage.common.sas.AccountSasSignatureValues;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.Sets;
import io.airlift.units.DataSize;
import io.airlift.units.Duration;
import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.exchange.SpoolexExchangeManager;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.airlift.configuration.testing.ConfigAssertions.assertFullMapping;
import static io.airlift.configuration.testing.ConfigAssertions.assertRecordedDefaults;
import static io.airlift.configuration.testing.ConfigAssertions.recordDefaults;
import static io.airlift.units.DataSize.Unit.MEGABYTE;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The exchange.azure.* properties: Trino 483's names, defaults and bounds, the errors bad values start with, and
 * Trino's documented Azure configuration starting unchanged (against Azurite).
 */
public class TestAzureStorageConfig
{
    private static final String CONTAINER = "spoolex-config";

    private static AzuriteServer server;

    @BeforeAll
    public static void startServer()
    {
        server = AzuriteServer.shared();
        server.createContainers(List.of(CONTAINER, "container-name"));
    }

    @Test
    public void testDefaults()
    {
        assertRecordedDefaults(recordDefaults(AzureStorageConfig.class)
                .setConnectionString(null)
                .setEndpoint(null)
                .setBlockSize(DataSize.of(4, MEGABYTE))
                .setMaxErrorRetries(10)
                .setMaxConnections(500)
                .setPendingAcquireMaxCount(1000)
                .setConnectionAcquisitionTimeout(new Duration(1, TimeUnit.MINUTES))
                .setRetryTime(new Duration(30, SECONDS))
                .setRetryDelay(new Duration(100, MILLISECONDS))
                .setThrottledRetryDelay(new Duration(1, SECONDS))
                .setMaxRetryDelay(new Duration(5, SECONDS)));
    }

    @Test
    public void testExplicitPropertyMappings()
    {
        Map<String, String> properties = ImmutableMap.<String, String>builder()
                .put("exchange.azure.connection-string", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=a2V5;EndpointSuffix=core.windows.net")
                .put("exchange.azure.block-size", "64MB")
                .put("exchange.azure.max-error-retries", "3")
                .put("exchange.azure.max-connections", "100")
                .put("exchange.azure.pending-acquire-max-count", "200")
                .put("exchange.azure.connection-acquisition-timeout", "30s")
                .put("exchange.azure.retry-time", "2m")
                .put("exchange.azure.retry-delay", "50ms")
                .put("exchange.azure.throttled-retry-delay", "2s")
                .put("exchange.azure.max-retry-delay", "10s")
                .buildOrThrow();
        AzureStorageConfig expected = new AzureStorageConfig()
                .setConnectionString("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=a2V5;EndpointSuffix=core.windows.net")
                .setBlockSize(DataSize.of(64, MEGABYTE))
                .setMaxErrorRetries(3)
                .setMaxConnections(100)
                .setPendingAcquireMaxCount(200)
                .setConnectionAcquisitionTimeout(new Duration(30, SECONDS))
                .setRetryTime(new Duration(2, TimeUnit.MINUTES))
                .setRetryDelay(new Duration(50, MILLISECONDS))
                .setThrottledRetryDelay(new Duration(2, SECONDS))
                .setMaxRetryDelay(new Duration(10, SECONDS));
        assertFullMapping(properties, expected, Set.of("exchange.azure.endpoint"));
        // the other credential form: exactly one of the two may be set
        assertFullMapping(
                Map.of("exchange.azure.endpoint", "https://account.blob.core.windows.net"),
                new AzureStorageConfig().setEndpoint("https://account.blob.core.windows.net"),
                Sets.difference(properties.keySet(), Set.of("exchange.azure.endpoint")));
    }

    @Test
    public void testMaxTries()
    {
        assertThat(new AzureStorageConfig().maxTries()).isEqualTo(10);
        assertThat(new AzureStorageConfig().setMaxErrorRetries(1).maxTries()).isEqualTo(1);
        assertThat(new AzureStorageConfig().setMaxErrorRetries(0).maxTries()).isEqualTo(1);
    }

    @Test
    public void testToStringHidesSecrets()
    {
        AzureStorageConfig config = new AzureStorageConfig()
                .setConnectionString("AccountName=a;AccountKey=c2VjcmV0LWtleQ==")
                .setEndpoint("https://a.blob.core.windows.net/?sv=2024&sig=secret-signature");
        assertThat(config.toString())
                .doesNotContain("c2VjcmV0LWtleQ==")
                .doesNotContain("secret-signature")
                .contains("blockSize=4MB");
    }

    @ParameterizedTest
    @MethodSource("badProperties")
    public void testBadPropertiesFailStartNamingThem(Map<String, String> properties, String expectedMessage)
    {
        Map<String, String> all = new HashMap<>();
        all.put("exchange.base-directories", "abfs://%s@%s.dfs.core.windows.net/spool".formatted(CONTAINER, AzuriteServer.ACCOUNT));
        all.put("exchange.azure.connection-string", server.connectionString());
        all.putAll(properties);
        all.values().removeIf(String::isEmpty);
        assertThatThrownBy(() -> create(all)).hasMessageContaining(expectedMessage);
    }

    static Stream<Arguments> badProperties()
    {
        return Stream.of(
                arguments(Map.of("exchange.azure.block-size", "3MB"), "must be greater than or equal to 4MB"),
                arguments(Map.of("exchange.azure.block-size", "257MB"), "must be less than or equal to 256MB"),
                arguments(Map.of("exchange.azure.max-error-retries", "-1"), "exchange.azure.max-error-retries"),
                arguments(Map.of("exchange.azure.max-connections", "0"), "exchange.azure.max-connections"),
                arguments(Map.of("exchange.azure.pending-acquire-max-count", "0"), "exchange.azure.pending-acquire-max-count"),
                arguments(Map.of("exchange.azure.retry-delay", "10s", "exchange.azure.max-retry-delay", "5s"), "exchange.azure.retry-delay must not exceed exchange.azure.max-retry-delay"),
                arguments(Map.of("exchange.azure.throttled-retry-delay", "10s"), "exchange.azure.throttled-retry-delay must not exceed exchange.azure.max-retry-delay"),
                arguments(Map.of("exchange.azure.retry-time", "2h"), "exchange.azure.retry-time"),
                arguments(Map.of("exchange.azure.connection-string", ""), "Exactly one of exchange.azure.connection-string or exchange.azure.endpoint must be set"),
                arguments(Map.of("exchange.azure.endpoint", "https://account.blob.core.windows.net"), "Exactly one of exchange.azure.connection-string or exchange.azure.endpoint must be set"),
                arguments(Map.of("exchange.azure.connection-string", "", "exchange.azure.endpoint", "account.blob.core.windows.net"), "exchange.azure.endpoint must be an absolute http:// or https:// URL"),
                arguments(Map.of("exchange.azure.connection-string", "connection-string"), "exchange.azure.connection-string is not usable as an Azure Storage connection string"),
                arguments(Map.of("exchange.base-directories", "abfs://account.dfs.core.windows.net/spool"), "names no container"),
                arguments(Map.of("exchange.base-directories", "abfs://missing-container@account.dfs.core.windows.net/spool"), "container missing-container of abfs://missing-container@account.dfs.core.windows.net/spool/ does not exist"),
                arguments(Map.of("exchange.sink-max-file-size", "300GB"), "more than the storage takes for one file (50000)"),
                arguments(Map.of("exchange.azure.blocksize", "8MB"), "exchange.azure.blocksize' was not used"));
    }

    @Test
    public void testAzurePropertiesAreRejectedForOtherStorage()
    {
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", "/tmp/spoolex-azure-config", "exchange.azure.connection-string", "AccountName=a;AccountKey=a2V5")))
                .hasMessageContaining("exchange.azure.connection-string' was not used");
    }

    @Test
    public void testTrinoConfigurationStartsUnchanged()
    {
        // Trino's documented example, with Azurite's connection string and a container that exists there; the URI's
        // account names no account (as in Trino, the connection string's account is the one used)
        ExchangeManager manager = create(Map.of(
                "exchange.base-directories", "abfs://container-name@account-name.dfs.core.windows.net",
                "exchange.azure.connection-string", server.connectionString()));
        try {
            assertThat(manager).isInstanceOf(SpoolexExchangeManager.class);
        }
        finally {
            manager.shutdown();
        }
        // every property of Trino 483 at once, abfss and the .blob. host form, two containers
        manager = create(ImmutableMap.<String, String>builder()
                .put("exchange.base-directories", "abfss://container-name@%1$s.blob.core.windows.net/spool,abfss://%2$s@%1$s.dfs.core.windows.net/spool".formatted(AzuriteServer.ACCOUNT, CONTAINER))
                .put("exchange.azure.connection-string", server.connectionString())
                .put("exchange.azure.block-size", "256MB")
                .put("exchange.azure.max-error-retries", "3")
                .put("exchange.azure.max-connections", "50")
                .put("exchange.azure.pending-acquire-max-count", "100")
                .put("exchange.azure.connection-acquisition-timeout", "10s")
                .buildOrThrow());
        manager.shutdown();
    }

    @Test
    public void testEndpointWithSasStarts()
    {
        // the endpoint form with a SAS in its query (the default credential chain needs a real Azure environment)
        BlobServiceClient client = server.createClient();
        String sas = client.generateAccountSas(new AccountSasSignatureValues(
                OffsetDateTime.now().plusHours(1),
                AccountSasPermission.parse("rwdlac"),
                AccountSasService.parse("b"),
                AccountSasResourceType.parse("sco")));
        ExchangeManager manager = create(Map.of(
                "exchange.base-directories", "abfs://%s@%s.dfs.core.windows.net/spool".formatted(CONTAINER, AzuriteServer.ACCOUNT),
                "exchange.azure.endpoint", server.blobEndpoint() + "?" + sas));
        manager.shutdown();
    }

    private static ExchangeManager create(Map<String, String> properties)
    {
        return ExchangeTestKit.filesystemFactory().create(properties, new ExchangeManagerContext() {});
    }
}
