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
package io.spoolex.exchange;

import io.spoolex.storage.s3.S3ProxyServer;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The startup check ({@code exchange.startup-check}) on local storage and on S3Proxy: a usable directory is probed and
 * left as it was; an unusable one is reported in one error line naming the directory, the operation and the
 * storage's error, and in JMX; FAIL stops the start; OFF sends nothing.
 */
public class TestStartupCheck
{
    private static final String BUCKET = "spoolex-startup-check";

    private final List<ExchangeManager> managers = new ArrayList<>();
    private final List<LogRecord> records = new ArrayList<>();
    private final Handler capture = new Handler()
    {
        @Override
        public void publish(LogRecord record)
        {
            synchronized (records) {
                records.add(record);
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private final Logger checkLogger = Logger.getLogger(StartupCheck.class.getName());

    {
        checkLogger.addHandler(capture);
    }

    @AfterEach
    public void tearDown()
    {
        managers.forEach(ExchangeManager::shutdown);
        managers.clear();
        checkLogger.removeHandler(capture);
    }

    @Test
    public void testUsableLocalDirectoryIsProbedAndLeftAsItWas()
            throws Exception
    {
        Path directory = Files.createTempDirectory("spoolex-startup-check");
        manager(Map.of("exchange.base-directories", directory.toString()));
        awaitState(directory.toUri(), "HEALTHY");
        assertThat(listFiles(directory)).isEmpty();
        assertThat(errors()).isEmpty();
    }

    @Test
    public void testUnwritableLocalDirectoryIsReportedAndTheServerStarts()
    {
        // a directory that cannot be created, even by root: /proc takes no new entries
        URI directory = URI.create("file:///proc/spoolex-startup-check/");
        manager(Map.of("exchange.base-directories", directory.toString()));
        awaitState(directory, "UNHEALTHY");
        assertThat(lastFailure(directory)).contains("write " + directory.resolve(StartupCheck.PROBE_PREFIX));
        assertThat(errors()).singleElement().satisfies(message -> assertThat(message)
                .contains("Base directory " + directory + " failed the startup check")
                .contains("write"));
    }

    @Test
    public void testReadOnlyLocalDirectoryNamesThePermission()
            throws IOException
    {
        assumeFalse("root".equals(System.getProperty("user.name")), "permissions do not stop root");
        Path directory = Files.createTempDirectory("spoolex-read-only");
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            manager(Map.of("exchange.base-directories", directory.toString()));
            awaitState(directory.toUri(), "UNHEALTHY");
            assertThat(lastFailure(directory.toUri())).contains("permission denied").contains("needs write permission");
        }
        finally {
            Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    public void testMissingBucketFailsTheStartUnderFail()
    {
        S3ProxyServer server = S3ProxyServer.shared();
        assertThatThrownBy(() -> manager(s3Properties(server, "s3://spoolex-no-such-bucket/spool", Map.of("exchange.startup-check", "FAIL"))))
                .hasMessageContaining("Spool storage is not usable (exchange.startup-check=FAIL")
                .hasMessageContaining("s3://spoolex-no-such-bucket/spool/: write s3://spoolex-no-such-bucket/spool/" + StartupCheck.PROBE_PREFIX)
                .hasMessageContaining("S3 NoSuchBucket (HTTP 404): the bucket does not exist");
    }

    @Test
    public void testWrongCredentialsAreReportedUnderWarn()
    {
        S3ProxyServer server = S3ProxyServer.shared();
        try (S3Client client = server.createClient()) {
            S3ProxyServer.createBuckets(client, List.of(BUCKET));
        }
        URI directory = URI.create("s3://" + BUCKET + "/wrong-credentials/");
        manager(s3Properties(server, directory.toString(), Map.of("exchange.s3.aws-secret-key", "not-the-secret")));
        awaitState(directory, "UNHEALTHY");
        assertThat(lastFailure(directory)).contains("write").contains("the credentials are not accepted");
        assertThat(errors()).singleElement().satisfies(message -> assertThat(message).doesNotContain("not-the-secret").doesNotContain(S3ProxyServer.SECRET_KEY));
    }

    @Test
    public void testUsableBucketPassesUnderFailAndNothingIsLeft()
    {
        S3ProxyServer server = S3ProxyServer.shared();
        try (S3Client client = server.createClient()) {
            S3ProxyServer.createBuckets(client, List.of(BUCKET));
            URI directory = URI.create("s3://" + BUCKET + "/usable/");
            manager(s3Properties(server, directory.toString(), Map.of("exchange.startup-check", "FAIL")));
            assertThat(state(directory)).isEqualTo("HEALTHY");
            assertThat(client.listObjectsV2Paginator(request -> request.bucket(BUCKET).prefix("usable/")).contents().stream().map(S3Object::key).toList()).isEmpty();
        }
    }

    @Test
    public void testOffSendsNothing()
            throws Exception
    {
        Path directory = Files.createTempDirectory("spoolex-startup-check-off");
        manager(Map.of("exchange.base-directories", directory.toString(), "exchange.startup-check", "OFF"));
        TimeUnit.MILLISECONDS.sleep(500);
        assertThat(state(directory.toUri())).isEqualTo("UNCHECKED");
        assertThat(records).isEmpty();
    }

    private Map<String, String> s3Properties(S3ProxyServer server, String baseDirectory, Map<String, String> extra)
    {
        Map<String, String> properties = new HashMap<>();
        properties.put("exchange.base-directories", baseDirectory);
        properties.put("exchange.s3.endpoint", server.endpoint().toString());
        properties.put("exchange.s3.region", S3ProxyServer.REGION);
        properties.put("exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY);
        properties.put("exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY);
        properties.put("exchange.s3.path-style-access", "true");
        // fail fast: the outcome of a probe does not change with retries here
        properties.put("exchange.s3.max-error-retries", "1");
        properties.putAll(extra);
        return properties;
    }

    private ExchangeManager manager(Map<String, String> properties)
    {
        ExchangeManager manager = ExchangeTestKit.filesystemFactory().create(properties, new ExchangeManagerContext() {});
        managers.add(manager);
        return manager;
    }

    private List<String> errors()
    {
        synchronized (records) {
            return records.stream().filter(record -> record.getLevel().intValue() >= Level.SEVERE.intValue()).map(LogRecord::getMessage).toList();
        }
    }

    private static void awaitState(URI directory, String expected)
    {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!expected.equals(state(directory)) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeException(e);
            }
        }
        assertThat(state(directory)).as("health of %s", directory).isEqualTo(expected);
    }

    private static String state(URI directory)
    {
        return (String) attribute(directory, "State");
    }

    private static String lastFailure(URI directory)
    {
        return (String) attribute(directory, "LastFailure");
    }

    private static Object attribute(URI directory, String attribute)
    {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            return server.getAttribute(new ObjectName("io.spoolex:type=BaseDirectoryHealth,name=filesystem,directory=" + ObjectName.quote(directory.toString())), attribute);
        }
        catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    private static List<Path> listFiles(Path directory)
            throws IOException
    {
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }
}
