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

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.models.BlobItem;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMultiset;
import com.google.common.collect.Multiset;
import io.spoolex.exchange.AbstractExchangeContractTest;
import io.spoolex.faults.FaultInjectingHttpProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exchange contract on Azurite, two containers as base directories ({@code abfss://}, at different depths) and
 * the smallest block size Trino allows, so that files of more than 4 MB go through staged blocks; through the fault
 * proxy (without faults) that counts the requests of each test by operation (printed at the end, see the test's output file).
 */
public class TestAzureExchangeContract
        extends AbstractExchangeContractTest
{
    private static final List<String> CONTAINERS = List.of("spoolex-contract-one", "spoolex-contract-two");
    private static final String HOST = AzuriteServer.ACCOUNT + ".dfs.core.windows.net";

    private static AzuriteServer server;
    private static FaultInjectingHttpProxy relay;
    private static BlobServiceClient client;
    private static final Map<String, Multiset<AzureOperation>> requestsByTest = new TreeMap<>();
    private String currentTest;

    @BeforeAll
    public static void startServer()
            throws IOException
    {
        server = AzuriteServer.shared();
        relay = new FaultInjectingHttpProxy(server.blobEndpoint(), AzureHttpDialect.AZURE);
        client = server.createClient();
        server.createContainers(CONTAINERS);
    }

    @AfterAll
    public static void stopRelay()
            throws IOException
    {
        try {
            StringBuilder report = new StringBuilder("Azure Storage requests of the exchange contract on Azurite, by test:%n".formatted());
            requestsByTest.forEach((test, requests) -> report.append("  %s: %s%n".formatted(test, requests)));
            System.out.print(report);
        }
        finally {
            if (relay != null) {
                relay.close();
            }
        }
    }

    @BeforeEach
    public void startCounting(TestInfo testInfo)
    {
        currentTest = testInfo.getTestMethod().map(method -> method.getName()).orElse(testInfo.getDisplayName());
        relay.clear();
    }

    @Override
    protected Map<String, String> storageProperties()
    {
        return properties(
                "exchange.base-directories",
                "abfss://%s@%s/spool,abfss://%s@%s/nested/spool".formatted(CONTAINERS.get(0), HOST, CONTAINERS.get(1), HOST),
                "exchange.azure.connection-string",
                AzuriteServer.connectionString(URI.create(relay.endpoint() + "/" + AzuriteServer.ACCOUNT)),
                "exchange.azure.block-size",
                "4MB");
    }

    @Override
    protected List<URI> listStoredFiles()
    {
        ImmutableList.Builder<URI> files = ImmutableList.builder();
        for (String container : CONTAINERS) {
            for (BlobItem blob : client.getBlobContainerClient(container).listBlobs()) {
                files.add(URI.create("abfss://%s@%s/%s".formatted(container, HOST, blob.getName())));
            }
        }
        return files.build();
    }

    @Override
    protected byte[] readStoredFile(URI file)
    {
        AzureLocation location = AzureLocation.of(file);
        return client.getBlobContainerClient(location.container()).getBlobClient(location.path()).downloadContent().toBytes();
    }

    @Override
    protected void writeStoredFile(URI file, byte[] content)
    {
        AzureLocation location = AzureLocation.of(file);
        client.getBlobContainerClient(location.container()).getBlobClient(location.path()).upload(BinaryData.fromBytes(content), true);
    }

    @Override
    protected void deleteStoredFile(URI file)
    {
        AzureLocation location = AzureLocation.of(file);
        client.getBlobContainerClient(location.container()).getBlobClient(location.path()).delete();
    }

    @Override
    protected void cleanUpStorage()
    {
        // the managers are shut down by now: everything the test made Spoolex send has been sent
        Multiset<AzureOperation> operations = operations();
        synchronized (requestsByTest) {
            requestsByTest.put(currentTest, operations);
        }
        for (String container : CONTAINERS) {
            for (BlobItem blob : client.getBlobContainerClient(container).listBlobs()) {
                client.getBlobContainerClient(container).getBlobClient(blob.getName()).deleteIfExists();
            }
        }
    }

    private static Multiset<AzureOperation> operations()
    {
        return relay.requests().stream().map(AzureHttpDialect::operation).collect(ImmutableMultiset.toImmutableMultiset());
    }

    @Test
    public void testLargeFilesAreStagedBlocks()
            throws InterruptedException
    {
        // the contract's large pages must really have gone through staged blocks, or the suite proves less than it seems
        testPageSizesAcrossBlockBufferAndFileBoundaries();
        Multiset<AzureOperation> operations = operations();
        assertThat(operations.count(AzureOperation.PUT_BLOCK_LIST)).isPositive();
        assertThat(operations.count(AzureOperation.PUT_BLOCK)).isGreaterThan(operations.count(AzureOperation.PUT_BLOCK_LIST));
        assertThat(operations.count(AzureOperation.PUT_BLOB)).isPositive();
        assertThat(operations.count(AzureOperation.GET_BLOB)).isPositive();
        // the exchange's close deletes its files with blob batches (in the background), never blob by blob
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (operations().count(AzureOperation.BLOB_BATCH) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(operations().count(AzureOperation.BLOB_BATCH)).isPositive();
        assertThat(operations().count(AzureOperation.DELETE_BLOB)).isZero();
    }
}
