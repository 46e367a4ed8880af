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
package io.spoolex.storage.s3;

import com.google.common.collect.ImmutableList;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.exchange.ExchangeTestKit;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

import java.net.URI;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.readAll;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exchange contract on MinIO, in a container. Runs where a Docker engine is available (the GitHub workflow);
 * elsewhere JUnit reports the whole class as skipped. MinIO (unlike S3Proxy) implements server-side encryption, so
 * SSE-S3 and SSE-KMS are stored for real here, with a static KMS key.
 */
@Testcontainers(disabledWithoutDocker = true)
public class TestMinioExchangeContract
        extends AbstractS3ExchangeContractTest
{
    private static final String KMS_KEY_NAME = "spoolex-test-key";

    @Container
    private static final MinIOContainer MINIO = new MinIOContainer("minio/minio:RELEASE.2025-04-22T22-12-26Z")
            // MinIO's single static KMS key: name and 32 bytes of key material
            .withEnv("MINIO_KMS_SECRET_KEY", KMS_KEY_NAME + ":" + Base64.getEncoder().encodeToString(kmsKeyMaterial()));

    private static S3Client client;

    private static byte[] kmsKeyMaterial()
    {
        byte[] key = new byte[32];
        new Random(42).nextBytes(key);
        return key;
    }

    @BeforeAll
    public static void createClientAndBuckets()
    {
        client = S3Client.builder()
                .endpointOverride(URI.create(MINIO.getS3URL()))
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(MINIO.getUserName(), MINIO.getPassword())))
                .build();
        createBuckets(client);
    }

    @AfterAll
    public static void closeClient()
    {
        if (client != null) {
            client.close();
        }
    }

    @Override
    protected URI exchangeEndpoint()
    {
        return URI.create(MINIO.getS3URL());
    }

    @Override
    protected S3Client testClient()
    {
        return client;
    }

    @Override
    protected String accessKey()
    {
        return MINIO.getUserName();
    }

    @Override
    protected String secretKey()
    {
        return MINIO.getPassword();
    }

    @Test
    public void testServerSideEncryptionIsStored()
    {
        assertEncryptedRoundTrip(Map.of("exchange.s3.sse.type", "S3"), ServerSideEncryption.AES256);
        assertEncryptedRoundTrip(Map.of("exchange.s3.sse.type", "KMS", "exchange.s3.sse.kms-key-id", KMS_KEY_NAME), ServerSideEncryption.AWS_KMS);
    }

    private void assertEncryptedRoundTrip(Map<String, String> sseProperties, ServerSideEncryption expected)
    {
        ExchangeManager manager = createManager(sseProperties);
        Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
        ExchangeSinkHandle task = exchange.addSink(0);
        exchange.noMoreSinks();
        Random random = new Random(7);
        ImmutableList.Builder<Slice> pages = ImmutableList.builder();
        for (int i = 0; i < 70; i++) {
            byte[] bytes = new byte[100_000];
            random.nextBytes(bytes);
            pages.add(Slices.wrappedBuffer(bytes));
        }
        ExchangeSink sink = createSink(manager, exchange, task, 0);
        write(sink, 0, pages.build());
        finish(sink);
        exchange.sinkFinished(task, 0);
        List<URI> files = listStoredFiles();
        assertThat(files).isNotEmpty();
        for (URI file : files) {
            S3Location location = S3Location.of(file);
            HeadObjectResponse head = client.headObject(request -> request.bucket(location.bucket()).key(location.key()));
            assertThat(head.serverSideEncryption()).as(file.toString()).isEqualTo(expected);
        }
        assertThat(readAll(manager, sourceHandles(exchange), finalSelector(exchange.getId(), Map.of(0, 0), 1))).containsExactlyElementsOf(pages.build());
        exchange.close();
    }
}
