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
package io.spoolex;

import com.google.common.base.Throwables;
import com.google.common.collect.ImmutableList;
import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.storage.gcs.GcsTestKeys;
import io.spoolex.storage.s3.S3StorageConfig;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import static com.google.common.io.MoreFiles.deleteRecursively;
import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Configurations a new user might write that can never work, each refused by {@code ExchangeManagerFactory.create}
 * (the server's start) with a message naming the property (and the value, where the value is the problem), and
 * none of them, refused or not, puts a secret into a message or a log record.
 */
public class TestMalformedConfigurations
{
    private static final String SECRET = "wJalrXUtnFEMI-K7MDENG-secret-never-shown";
    private static final String GCS_SECRET = "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBg-never-shown";

    private static Path directory;
    private static Path regularFile;

    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler()
    {
        @Override
        public void publish(LogRecord record)
        {
            records.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    public record Malformed(String why, Map<String, String> properties, List<String> named)
    {
        @Override
        public String toString()
        {
            return why;
        }
    }

    @BeforeAll
    public static void createFiles()
            throws IOException
    {
        directory = Files.createTempDirectory("spoolex-malformed");
        regularFile = Files.writeString(directory.resolve("a-regular-file"), "not a directory");
    }

    @AfterAll
    public static void deleteFiles()
            throws IOException
    {
        deleteRecursively(directory, ALLOW_INSECURE);
    }

    @BeforeEach
    public void captureLog()
    {
        Logger.getLogger("").addHandler(handler);
    }

    @AfterEach
    public void stopCapturing()
    {
        Logger.getLogger("").removeHandler(handler);
    }

    public static List<Malformed> malformed()
    {
        String local = directory.toString();
        String file = regularFile.toString();
        return ImmutableList.of(
                // where the data goes
                malformed("no base directory", Map.of(), "exchange.base-directories"),
                malformed("an empty base directory list", Map.of("exchange.base-directories", " , "), "exchange.base-directories"),
                malformed("a relative path", Map.of("exchange.base-directories", "relative/dir"), "exchange.base-directories", "relative/dir"),
                malformed("an opaque file: URI", Map.of("exchange.base-directories", "file:relative"), "exchange.base-directories", "file:relative"),
                malformed("a URI with a space", Map.of("exchange.base-directories", "s3://bu cket/spool"), "exchange.base-directories", "s3://bu cket/spool"),
                malformed("an s3:// URI without a bucket", s3(Map.of("exchange.base-directories", "s3:///spool")), "exchange.base-directories", "s3:///spool"),
                malformed("a gs:// URI without a bucket", gcs(Map.of("exchange.base-directories", "gs:///spool")), "exchange.base-directories", "gs:///spool"),
                malformed("a file: URI naming a host", Map.of("exchange.base-directories", "file://spoolhost/path"), "exchange.base-directories", "file://spoolhost/path"),
                malformed("a regular file as the base directory", Map.of("exchange.base-directories", file), "exchange.base-directories", file),
                malformed("a base directory below a regular file", Map.of("exchange.base-directories", file + "/spool"), "exchange.base-directories", file + "/spool"),
                malformed("a scheme no backend serves", Map.of("exchange.base-directories", "ftp://host/dir"), "exchange.base-directories", "ftp"),
                malformed("hdfs:// under the filesystem exchange manager", Map.of("exchange.base-directories", "hdfs://namenode:9000/spool"), "exchange.base-directories", "hdfs"),
                malformed("two schemes at once", Map.of("exchange.base-directories", "s3://bucket/a," + local), "exchange.base-directories", "s3", "file"),
                malformed("both names of the base directories, disagreeing", Map.of("exchange.base-directories", local, "exchange.base-directory", local + "/other"), "exchange.base-directories", "exchange.base-directory", local + "/other"),
                // core sizes and counts
                malformed("a page size that is not a size", local(Map.of("exchange.max-page-storage-size", "abc")), "exchange.max-page-storage-size", "abc"),
                malformed("pages larger than 1GB", local(Map.of("exchange.max-page-storage-size", "2GB", "exchange.sink-max-file-size", "4GB")), "exchange.max-page-storage-size", "1GB"),
                malformed("tiny spool files", local(Map.of("exchange.sink-max-file-size", "10B")), "exchange.sink-max-file-size"),
                malformed("files smaller than a page", local(Map.of("exchange.sink-max-file-size", "1MB")), "exchange.sink-max-file-size", "exchange.max-page-storage-size"),
                malformed("one buffer per partition", local(Map.of("exchange.sink-buffers-per-partition", "1")), "exchange.sink-buffers-per-partition"),
                malformed("a negative pool", local(Map.of("exchange.sink-buffer-pool-min-size", "-1")), "exchange.sink-buffer-pool-min-size"),
                malformed("no readers", local(Map.of("exchange.source-concurrent-readers", "0")), "exchange.source-concurrent-readers"),
                malformed("thousands of readers", local(Map.of("exchange.source-concurrent-readers", "5000")), "exchange.source-concurrent-readers"),
                malformed("no files per reader", local(Map.of("exchange.source-max-files-per-reader", "0")), "exchange.source-max-files-per-reader"),
                malformed("no output partitions", local(Map.of("exchange.max-output-partition-count", "0")), "exchange.max-output-partition-count"),
                malformed("no listing parallelism", local(Map.of("exchange.file-listing-parallelism", "0")), "exchange.file-listing-parallelism"),
                malformed("empty source handles", local(Map.of("exchange.source-handle-target-data-size", "0B")), "exchange.source-handle-target-data-size"),
                malformed("encryption neither on nor off", local(Map.of("exchange.encryption-enabled", "maybe")), "exchange.encryption-enabled", "maybe"),
                malformed("a codec Spoolex does not have", local(Map.of("exchange.spool-compression-codec", "ZSTD")), "exchange.spool-compression-codec", "ZSTD"),
                malformed("compression on and off at once", local(Map.of("exchange.compression-enabled", "true", "exchange.spool-compression-codec", "NONE")), "exchange.compression-enabled", "exchange.spool-compression-codec"),
                malformed("a negative cleanup retry time", local(Map.of("exchange.cleanup-retry-time", "-1s")), "exchange.cleanup-retry-time"),
                malformed("a cleanup retry time that is not a duration", local(Map.of("exchange.cleanup-retry-time", "forever")), "exchange.cleanup-retry-time", "forever"),
                malformed("a negative orphan age", local(Map.of("exchange.cleanup.orphan-age", "-1d")), "exchange.cleanup.orphan-age"),
                malformed("an orphan age that is not a duration", local(Map.of("exchange.cleanup.orphan-age", "two days")), "exchange.cleanup.orphan-age", "two days"),
                malformed("an orphan sweep interval of zero", local(Map.of("exchange.cleanup.orphan-sweep-interval", "0s")), "exchange.cleanup.orphan-sweep-interval"),
                malformed("a probe interval below a second", local(Map.of("exchange.base-directory-probe-interval", "100ms")), "exchange.base-directory-probe-interval"),
                malformed("a negative probe interval", local(Map.of("exchange.base-directory-probe-interval", "-1s")), "exchange.base-directory-probe-interval"),
                malformed("a probe interval that is not a duration", local(Map.of("exchange.base-directory-probe-interval", "often")), "exchange.base-directory-probe-interval", "often"),
                malformed("a recovery time of zero", local(Map.of("exchange.base-directory-recovery-time", "0s")), "exchange.base-directory-recovery-time"),
                malformed("a recovery time over a day", local(Map.of("exchange.base-directory-recovery-time", "2d")), "exchange.base-directory-recovery-time"),
                malformed("a misspelt property", local(Map.of("exchange.sink-max-filesize", "1GB")), "exchange.sink-max-filesize"),
                malformed("an S3 secret on local storage", local(Map.of("exchange.s3.aws-secret-key", SECRET)), "exchange.s3.aws-secret-key"),
                malformed("an S3 region on local storage", local(Map.of("exchange.s3.region", "us-east-1")), "exchange.s3.region"),
                // S3
                malformed("a region with spaces", s3(Map.of("exchange.s3.region", "ap northeast 2")), "exchange.s3.region", "ap northeast 2"),
                malformed("a URL as the region", s3(Map.of("exchange.s3.region", "https://s3.ap-northeast-2.amazonaws.com")), "exchange.s3.region", "https://s3.ap-northeast-2.amazonaws.com"),
                malformed("a region that is not AWS's, without an endpoint", s3(Map.of("exchange.s3.region", "moon-base")), "exchange.s3.region", "moon-base", "exchange.s3.endpoint"),
                malformed("a blank region", s3(Map.of("exchange.s3.region", "  ")), "exchange.s3.region"),
                malformed("an endpoint without a scheme", s3(Map.of("exchange.s3.endpoint", "minio:9000")), "exchange.s3.endpoint"),
                malformed("an ftp:// endpoint", s3(Map.of("exchange.s3.endpoint", "ftp://minio:9000")), "exchange.s3.endpoint"),
                malformed("parts below S3's minimum", s3(Map.of("exchange.s3.upload.part-size", "4MB")), "exchange.s3.upload.part-size"),
                malformed("parts above the maximum", s3(Map.of("exchange.s3.upload.part-size", "257MB")), "exchange.s3.upload.part-size"),
                malformed("files needing more than 10,000 parts", s3(Map.of("exchange.sink-max-file-size", "60GB")), "exchange.sink-max-file-size", "exchange.s3.upload.part-size"),
                malformed("negative attempts", s3(Map.of("exchange.s3.max-error-retries", "-1")), "exchange.s3.max-error-retries"),
                malformed("a negative retry time", s3(Map.of("exchange.s3.retry-time", "-5s")), "exchange.s3.retry-time"),
                malformed("a retry time over an hour", s3(Map.of("exchange.s3.retry-time", "2h")), "exchange.s3.retry-time"),
                malformed("a retry mode the SDK does not have", s3(Map.of("exchange.s3.retry-mode", "SOMETIMES")), "exchange.s3.retry-mode", "SOMETIMES"),
                malformed("a storage class the SDK does not know", s3(Map.of("exchange.s3.storage-class", "COLD")), "exchange.s3.storage-class"),
                malformed("an SSE type that does not exist", s3(Map.of("exchange.s3.sse.type", "AES")), "exchange.s3.sse.type", "AES"),
                malformed("a KMS key without KMS", s3(Map.of("exchange.s3.sse.kms-key-id", "alias/exchange")), "exchange.s3.sse.kms-key-id", "exchange.s3.sse.type"),
                malformed("an access key without its secret", s3Without(Map.of("exchange.s3.aws-access-key", "AKIAEXAMPLE"), "exchange.s3.aws-secret-key"), "exchange.s3.aws-access-key", "exchange.s3.aws-secret-key"),
                malformed("a secret without its access key", s3Without(Map.of("exchange.s3.aws-secret-key", SECRET), "exchange.s3.aws-access-key"), "exchange.s3.aws-access-key", "exchange.s3.aws-secret-key"),
                malformed("an external id without a role", s3(Map.of("exchange.s3.external-id", "trino-prod")), "exchange.s3.external-id", "exchange.s3.iam-role"),
                malformed("a role and static keys", s3(Map.of("exchange.s3.iam-role", "arn:aws:iam::123456789012:role/trino")), "exchange.s3.iam-role", "exchange.s3.aws-access-key"),
                malformed("a checksum mode that does not exist", s3(Map.of("exchange.s3.checksum-mode", "ALWAYS")), "exchange.s3.checksum-mode", "ALWAYS"),
                malformed("no connections", s3(Map.of("exchange.s3.async-client-concurrency", "0")), "exchange.s3.async-client-concurrency"),
                malformed("no pending connection acquires", s3(Map.of("exchange.s3.async-client-max-pending-connection-acquires", "0")), "exchange.s3.async-client-max-pending-connection-acquires"),
                malformed("a zero connection acquisition timeout", s3(Map.of("exchange.s3.async-client-connection-acquisition-timeout", "0ms")), "exchange.s3.async-client-connection-acquisition-timeout"),
                malformed("both GCS keys", gcs(Map.of("exchange.gcs.json-key-file-path", "/etc/trino/gcs.json", "exchange.gcs.json-key", "{\"private_key\": \"" + GCS_SECRET + "\"}")), "exchange.gcs.json-key-file-path", "exchange.gcs.json-key"),
                malformed("a malformed inline GCS key", gcs(Map.of("exchange.gcs.json-key", "{\"private_key\": \"" + GCS_SECRET + "\"}")), "exchange.gcs.json-key"),
                malformed("a GCS key file that does not exist", gcs(Map.of("exchange.gcs.json-key-file-path", "/nonexistent/gcs-key.json")), "exchange.gcs.json-key-file-path", "/nonexistent/gcs-key.json"),
                malformed("a malformed inline GCS key in native mode", gcsNative(Map.of("exchange.gcs.json-key", "{\"private_key\": \"" + GCS_SECRET + "\"}")), "exchange.gcs.json-key"),
                malformed("an S3 property without meaning in native gs:// mode", gcsNative(Map.of("exchange.s3.storage-class", "STANDARD")), "exchange.s3.storage-class"),
                malformed("a misspelt S3 property", s3(Map.of("exchange.s3.regoin", "us-east-1")), "exchange.s3.regoin"));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    public void testRefusedAtCreationNamingTheProperty(Malformed malformed)
    {
        assertThatThrownBy(() -> create(malformed.properties()))
                .as(malformed.why())
                .satisfies(failure -> {
                    String text = Throwables.getStackTraceAsString(failure);
                    for (String name : malformed.named()) {
                        assertThat(text).as("%s: the error names %s", malformed.why(), name).contains(name);
                    }
                    assertThat(text).doesNotContain(SECRET).doesNotContain(GCS_SECRET);
                });
        assertNoSecretLogged();
    }

    @Test
    public void testTheTableIsLongEnough()
    {
        assertThat(malformed()).hasSizeGreaterThanOrEqualTo(40);
        assertThat(malformed().stream().map(Malformed::why).distinct().count()).as("no row twice").isEqualTo(malformed().size());
    }

    @Test
    public void testWorkingConfigurationsLogNoSecret()
    {
        ExchangeManager s3 = create(s3(Map.of()));
        // a real (generated) service-account key: the start parses it; its private key never shows
        String key = GcsTestKeys.serviceAccountKey();
        String privateKey = key.substring(key.indexOf(GcsTestKeys.PRIVATE_KEY_HEADER) + GcsTestKeys.PRIVATE_KEY_HEADER.length(), key.indexOf("-----END"));
        ExchangeManager gcs = create(gcs(Map.of("exchange.gcs.json-key", key)));
        try {
            assertThat(s3.toString()).doesNotContain(SECRET);
            assertThat(gcs.toString()).doesNotContain(SECRET).doesNotContain(privateKey.substring(10, 50));
        }
        finally {
            s3.shutdown();
            gcs.shutdown();
        }
        assertThat(records).as("the start logs its properties").isNotEmpty();
        assertNoSecretLogged();
        SimpleFormatter formatter = new SimpleFormatter();
        for (LogRecord record : records) {
            assertThat(formatter.format(record)).doesNotContain(privateKey.substring(10, 50));
        }
    }

    @Test
    public void testConfigurationToStringShowsNoSecret()
    {
        S3StorageConfig config = new S3StorageConfig()
                .setAwsAccessKey("AKIAEXAMPLE")
                .setAwsSecretKey(SECRET)
                .setGcsJsonKey("{\"private_key\": \"" + GCS_SECRET + "\"}");
        assertThat(config.toString()).contains("AKIAEXAMPLE").doesNotContain(SECRET).doesNotContain(GCS_SECRET);
    }

    private void assertNoSecretLogged()
    {
        SimpleFormatter formatter = new SimpleFormatter();
        for (LogRecord record : records) {
            String text = formatter.format(record);
            assertThat(text).doesNotContain(SECRET).doesNotContain(GCS_SECRET);
        }
    }

    private static Malformed malformed(String why, Map<String, String> properties, String... named)
    {
        return new Malformed(why, properties, List.of(named));
    }

    private static Map<String, String> local(Map<String, String> properties)
    {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("exchange.base-directories", directory.toString());
        all.putAll(properties);
        return all;
    }

    private static Map<String, String> s3(Map<String, String> properties)
    {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("exchange.base-directories", "s3://trino-exchange/spool");
        all.put("exchange.s3.region", "us-east-1");
        all.put("exchange.s3.aws-access-key", "AKIAEXAMPLE");
        all.put("exchange.s3.aws-secret-key", SECRET);
        // no probe of the base directory: it would go to Google's endpoint
        all.put("exchange.startup-check", "OFF");
        all.putAll(properties);
        return all;
    }

    private static Map<String, String> s3Without(Map<String, String> properties, String left)
    {
        Map<String, String> all = new HashMap<>(s3(properties));
        all.remove(left);
        return all;
    }

    private static Map<String, String> gcs(Map<String, String> properties)
    {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("exchange.base-directories", "gs://exchange-spooling-bucket");
        all.put("exchange.s3.aws-access-key", "GOOG1EEXAMPLE");
        all.put("exchange.s3.aws-secret-key", SECRET);
        // no probe of the base directory: it would go to Google's endpoint
        all.put("exchange.startup-check", "OFF");
        all.putAll(properties);
        return all;
    }

    private static Map<String, String> gcsNative(Map<String, String> properties)
    {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("exchange.base-directories", "gs://exchange-spooling-bucket");
        all.putAll(properties);
        return all;
    }

    private static ExchangeManager create(Map<String, String> properties)
    {
        return ExchangeTestKit.filesystemFactory().create(properties, new ExchangeManagerContext() {});
    }
}
