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

import com.google.common.collect.ImmutableMap;
import com.google.common.collect.Sets;
import io.airlift.units.DataSize;
import io.airlift.units.Duration;
import io.spoolex.exchange.ExchangeTestKit;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.services.s3.model.StorageClass;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.airlift.configuration.testing.ConfigAssertions.assertFullMapping;
import static io.airlift.configuration.testing.ConfigAssertions.assertRecordedDefaults;
import static io.airlift.configuration.testing.ConfigAssertions.recordDefaults;
import static io.airlift.units.DataSize.Unit.MEGABYTE;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The exchange.s3.* and exchange.gcs.* properties: Trino's names and defaults, and the errors bad values start with.
 * Nothing here talks to a server (creating an exchange manager makes no S3 request).
 */
public class TestS3StorageConfig
{
    @Test
    public void testDefaults()
    {
        assertRecordedDefaults(recordDefaults(S3StorageConfig.class)
                .setAwsAccessKey(null)
                .setAwsSecretKey(null)
                .setIamRole(null)
                .setExternalId(null)
                .setRegion(null)
                .setEndpoint(null)
                .setMaxErrorRetries(10)
                .setRetryTime(new Duration(30, SECONDS))
                .setUploadPartSize(DataSize.of(5, MEGABYTE))
                .setStorageClass(StorageClass.STANDARD)
                .setRetryMode(RetryMode.ADAPTIVE_V2)
                .setAsyncClientConcurrency(100)
                .setAsyncClientMaxPendingConnectionAcquires(10_000)
                .setAsyncClientConnectionAcquisitionTimeout(new Duration(1, TimeUnit.MINUTES))
                .setPathStyleAccess(false)
                .setSseType(S3SseType.NONE)
                .setSseKmsKeyId(null)
                .setChecksumMode(S3ChecksumMode.WHEN_REQUIRED)
                .setGcsJsonKeyFilePath(null)
                .setGcsJsonKey(null));
    }

    @Test
    public void testExplicitPropertyMappings()
    {
        // some properties exclude each other: map them in two valid halves
        Set<String> secondHalf = Set.of("exchange.s3.iam-role", "exchange.s3.external-id", "exchange.gcs.json-key");
        Map<String, String> properties = ImmutableMap.<String, String>builder()
                .put("exchange.s3.aws-access-key", "access")
                .put("exchange.s3.aws-secret-key", "secret")
                .put("exchange.s3.region", "ap-northeast-2")
                .put("exchange.s3.endpoint", "https://s3.ap-northeast-2.amazonaws.com")
                .put("exchange.s3.max-error-retries", "3")
                .put("exchange.s3.retry-time", "2m")
                .put("exchange.s3.upload.part-size", "16MB")
                .put("exchange.s3.storage-class", "INTELLIGENT_TIERING")
                .put("exchange.s3.retry-mode", "STANDARD")
                .put("exchange.s3.async-client-concurrency", "50")
                .put("exchange.s3.async-client-max-pending-connection-acquires", "500")
                .put("exchange.s3.async-client-connection-acquisition-timeout", "30s")
                .put("exchange.s3.path-style-access", "true")
                .put("exchange.s3.sse.type", "KMS")
                .put("exchange.s3.sse.kms-key-id", "alias/exchange")
                .put("exchange.s3.checksum-mode", "WHEN_SUPPORTED")
                .put("exchange.gcs.json-key-file-path", "/etc/trino/gcs.json")
                .buildOrThrow();
        S3StorageConfig expected = new S3StorageConfig()
                .setAwsAccessKey("access")
                .setAwsSecretKey("secret")
                .setRegion("ap-northeast-2")
                .setEndpoint("https://s3.ap-northeast-2.amazonaws.com")
                .setMaxErrorRetries(3)
                .setRetryTime(new Duration(2, TimeUnit.MINUTES))
                .setUploadPartSize(DataSize.of(16, MEGABYTE))
                .setStorageClass(StorageClass.INTELLIGENT_TIERING)
                .setRetryMode(RetryMode.STANDARD)
                .setAsyncClientConcurrency(50)
                .setAsyncClientMaxPendingConnectionAcquires(500)
                .setAsyncClientConnectionAcquisitionTimeout(new Duration(30, SECONDS))
                .setPathStyleAccess(true)
                .setSseType(S3SseType.KMS)
                .setSseKmsKeyId("alias/exchange")
                .setChecksumMode(S3ChecksumMode.WHEN_SUPPORTED)
                .setGcsJsonKeyFilePath("/etc/trino/gcs.json");
        assertFullMapping(properties, expected, secondHalf);

        Map<String, String> roleProperties = Map.of(
                "exchange.s3.iam-role", "arn:aws:iam::123456789012:role/exchange",
                "exchange.s3.external-id", "external",
                "exchange.gcs.json-key", "{}");
        S3StorageConfig expectedRole = new S3StorageConfig()
                .setIamRole("arn:aws:iam::123456789012:role/exchange")
                .setExternalId("external")
                .setGcsJsonKey("{}");
        assertFullMapping(roleProperties, expectedRole, Sets.difference(properties.keySet(), secondHalf));
    }

    @Test
    public void testMaxAttempts()
    {
        assertThat(new S3StorageConfig().maxAttempts()).isEqualTo(10);
        assertThat(new S3StorageConfig().setMaxErrorRetries(1).maxAttempts()).isEqualTo(1);
        assertThat(new S3StorageConfig().setMaxErrorRetries(0).maxAttempts()).isEqualTo(1);
    }

    @Test
    public void testToStringHidesSecrets()
    {
        S3StorageConfig config = new S3StorageConfig()
                .setAwsAccessKey("AKIAEXAMPLE")
                .setAwsSecretKey("wJalrXUtnFEMI-secret")
                .setGcsJsonKey("{\"private_key\": \"-----BEGIN PRIVATE KEY-----abc\"}");
        assertThat(config.toString())
                .contains("AKIAEXAMPLE")
                .doesNotContain("wJalrXUtnFEMI-secret")
                .doesNotContain("PRIVATE KEY");
    }

    @ParameterizedTest
    @MethodSource("badProperties")
    public void testBadPropertiesFailStartNamingThem(Map<String, String> properties, String expectedMessage)
    {
        Map<String, String> all = new HashMap<>();
        all.put("exchange.base-directories", "s3://bucket/spool");
        all.put("exchange.s3.region", "us-east-1");
        all.putAll(properties);
        assertThatThrownBy(() -> create(all)).hasMessageContaining(expectedMessage);
    }

    static Stream<Arguments> badProperties()
    {
        return Stream.of(
                arguments(Map.of("exchange.s3.upload.part-size", "4MB"), "exchange.s3.upload.part-size"),
                arguments(Map.of("exchange.s3.upload.part-size", "257MB"), "must be less than or equal to 256MB"),
                arguments(Map.of("exchange.s3.max-error-retries", "-1"), "exchange.s3.max-error-retries"),
                arguments(Map.of("exchange.s3.async-client-concurrency", "0"), "exchange.s3.async-client-concurrency"),
                arguments(Map.of("exchange.s3.async-client-max-pending-connection-acquires", "0"), "exchange.s3.async-client-max-pending-connection-acquires"),
                arguments(Map.of("exchange.s3.retry-mode", "SOMETIMES"), "exchange.s3.retry-mode"),
                arguments(Map.of("exchange.s3.storage-class", "COLD"), "exchange.s3.storage-class"),
                arguments(Map.of("exchange.s3.sse.type", "AES"), "exchange.s3.sse.type"),
                arguments(Map.of("exchange.s3.sse.kms-key-id", "alias/x"), "exchange.s3.sse.kms-key-id can only be set together with exchange.s3.sse.type=KMS"),
                arguments(Map.of("exchange.s3.sse.type", "S3", "exchange.s3.sse.kms-key-id", "alias/x"), "exchange.s3.sse.kms-key-id can only be set together with exchange.s3.sse.type=KMS"),
                arguments(Map.of("exchange.s3.aws-access-key", "a"), "exchange.s3.aws-access-key and exchange.s3.aws-secret-key must be set together"),
                arguments(Map.of("exchange.s3.aws-secret-key", "b"), "exchange.s3.aws-access-key and exchange.s3.aws-secret-key must be set together"),
                arguments(Map.of("exchange.s3.external-id", "x"), "exchange.s3.external-id is only used with exchange.s3.iam-role"),
                arguments(Map.of("exchange.s3.iam-role", "arn:aws:iam::1:role/r", "exchange.s3.aws-access-key", "a", "exchange.s3.aws-secret-key", "b"), "exchange.s3.iam-role cannot be combined with exchange.s3.aws-access-key"),
                arguments(Map.of("exchange.gcs.json-key-file-path", "/k.json", "exchange.gcs.json-key", "{}"), "exchange.gcs.json-key-file-path and exchange.gcs.json-key are mutually exclusive"),
                arguments(Map.of("exchange.s3.endpoint", "minio:9000"), "exchange.s3.endpoint must be an absolute http:// or https:// URL"),
                arguments(Map.of("exchange.s3.checksum-mode", "ALWAYS"), "exchange.s3.checksum-mode"),
                arguments(Map.of("exchange.sink-max-file-size", "60GB"), "more than the storage takes for one file (10000)"),
                arguments(Map.of("exchange.s3.regoin", "us-east-1"), "exchange.s3.regoin' was not used"));
    }

    @Test
    public void testS3PropertiesAreRejectedForOtherStorage()
    {
        // the S3 config is bound only for s3:// and gs:// with an HMAC key, so a leftover S3 property on local storage is an error
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", "/tmp/spoolex-s3-config", "exchange.s3.region", "us-east-1")))
                .hasMessageContaining("exchange.s3.region' was not used");
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", "/tmp/spoolex-s3-config", "exchange.gcs.json-key-file-path", "/k.json")))
                .hasMessageContaining("exchange.gcs.json-key-file-path' was not used");
    }

    @Test
    public void testRegionOrEndpointRequiredForS3()
    {
        withSystemProperties(Map.of("aws.disableEc2Metadata", "true", "aws.configFile", "/nonexistent/aws-config", "aws.sharedCredentialsFile", "/nonexistent/aws-credentials"), () -> {
            // neither property, and no region anywhere the SDK looks: the error names both properties
            assertThatThrownBy(() -> create(Map.of("exchange.base-directories", "s3://bucket/spool")))
                    .hasMessageContaining("exchange.s3.region")
                    .hasMessageContaining("exchange.s3.endpoint");
            // a region from the environment, as on an EC2 instance or with AWS_REGION: Trino's documented two-bucket example starts
            withSystemProperties(Map.of("aws.region", "eu-west-1"), () -> create(Map.of(
                    "exchange.base-directories", "s3://trino-exchange-1/spool,s3://trino-exchange-2/spool",
                    "exchange.compression-enabled", "true")).shutdown());
            // either property alone is enough
            create(Map.of("exchange.base-directories", "s3://bucket/spool", "exchange.s3.region", "us-east-2")).shutdown();
            create(Map.of("exchange.base-directories", "s3://bucket/spool", "exchange.s3.endpoint", "http://127.0.0.1:9")).shutdown();
            // gs:// with an HMAC key goes to GCS's XML API unless told otherwise (no probe: it would go to Google)
            create(Map.of("exchange.base-directories", "gs://bucket/spool", "exchange.s3.aws-access-key", "GOOG1EEXAMPLE", "exchange.s3.aws-secret-key", "secret", "exchange.startup-check", "OFF")).shutdown();
        });
    }

    static void withSystemProperties(Map<String, String> properties, Runnable action)
    {
        Map<String, String> previous = new HashMap<>();
        properties.forEach((name, value) -> previous.put(name, System.setProperty(name, value)));
        try {
            action.run();
        }
        finally {
            previous.forEach((name, value) -> {
                if (value == null) {
                    System.clearProperty(name);
                }
                else {
                    System.setProperty(name, value);
                }
            });
        }
    }

    private static ExchangeManager create(Map<String, String> properties)
    {
        return ExchangeTestKit.filesystemFactory().create(properties, new ExchangeManagerContext() {});
    }
}
