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
package io.spoolex.storage.gcs;

import com.google.common.collect.ImmutableMap;
import com.google.common.util.concurrent.ListenableFuture;
import io.airlift.bootstrap.Bootstrap;
import io.airlift.slice.Slices;
import io.spoolex.config.BaseDirectories;
import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.exchange.SpoolexExchangeManagerFactory;
import io.spoolex.metrics.SpoolexJmxModule;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.SpoolStorageModule;
import io.spoolex.storage.local.LocalStorageBackend;
import io.spoolex.storage.s3.S3ProxyServer;
import io.spoolex.storage.s3.S3StorageBackend;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeManagerFactory;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How {@code gs://} starts: the mode chosen by the configuration, the credentials of {@code exchange.gcs.*} (a key
 * file, an inline key, both at once refused, unreadable or malformed keys refused naming the property and never the
 * content), {@code exchange.s3.*} properties without meaning in native mode refused by name, and the
 * S3-interoperability mode's deletes as JSON-API batches (data on S3Proxy, the JSON API a local recorder).
 */
public class TestGcsConfiguration
{
    private static final Path KEYS = Path.of(System.getProperty("java.io.tmpdir"), "gcs-keys");
    private static final String SECRET_MARKER = "MIIEvQIBADANBg-spoolex-never-shown";

    private static Map<String, String> nativeMode(Map<String, String> extra)
    {
        Map<String, String> properties = new HashMap<>();
        properties.put("exchange.base-directories", "gs://spoolex-config/spool");
        properties.put("exchange.startup-check", "OFF");
        properties.putAll(extra);
        return properties;
    }

    private static ExchangeManager create(ExchangeManagerFactory factory, Map<String, String> properties)
    {
        return factory.create(properties, new ExchangeManagerContext() {});
    }

    @Test
    public void testUnreadableKeyFileFailsNamingThePropertyAndThePath()
    {
        String missing = KEYS.resolve("does-not-exist.json").toString();
        assertThatThrownBy(() -> create(ExchangeTestKit.filesystemFactory(), nativeMode(Map.of("exchange.gcs.json-key-file-path", missing))))
                .hasMessageContaining("exchange.gcs.json-key-file-path")
                .hasMessageContaining(missing);
    }

    @Test
    public void testMalformedKeysFailNamingThePropertyNotTheContent()
    {
        String malformed = "{\"type\": \"service_account\", \"private_key\": \"-----BEGIN PRIVATE KEY-----" + SECRET_MARKER + "\"";
        Path file = GcsTestKeys.writeKeyFile(KEYS, malformed);
        assertThatThrownBy(() -> create(ExchangeTestKit.filesystemFactory(), nativeMode(Map.of("exchange.gcs.json-key-file-path", file.toString()))))
                .hasMessageContaining("exchange.gcs.json-key-file-path")
                .hasMessageContaining(file.toString())
                .satisfies(e -> assertThat(fullText(e)).doesNotContain(SECRET_MARKER));
        assertThatThrownBy(() -> create(ExchangeTestKit.filesystemFactory(), nativeMode(Map.of("exchange.gcs.json-key", malformed))))
                .hasMessageContaining("exchange.gcs.json-key")
                .satisfies(e -> assertThat(fullText(e)).doesNotContain(SECRET_MARKER));
        // the same in the S3-interoperability mode
        assertThatThrownBy(() -> create(ExchangeTestKit.filesystemFactory(), interoperability(Map.of("exchange.gcs.json-key", malformed), URI.create("http://127.0.0.1:9"))))
                .hasMessageContaining("exchange.gcs.json-key")
                .satisfies(e -> assertThat(fullText(e)).doesNotContain(SECRET_MARKER));
    }

    @Test
    public void testBothKeysAreRefused()
    {
        Path file = GcsTestKeys.writeKeyFile(KEYS, GcsTestKeys.serviceAccountKey());
        assertThatThrownBy(() -> create(ExchangeTestKit.filesystemFactory(), nativeMode(Map.of("exchange.gcs.json-key-file-path", file.toString(), "exchange.gcs.json-key", GcsTestKeys.serviceAccountKey()))))
                .hasMessageContaining("exchange.gcs.json-key-file-path and exchange.gcs.json-key are mutually exclusive")
                .satisfies(e -> assertThat(fullText(e)).doesNotContain(GcsTestKeys.PRIVATE_KEY_HEADER));
    }

    @Test
    public void testS3PropertiesWithoutMeaningInNativeModeAreRefusedByName()
    {
        assertThatThrownBy(() -> create(ExchangeTestKit.filesystemFactory(), nativeMode(Map.of("exchange.s3.region", "us-east-1", "exchange.s3.upload.part-size", "16MB"))))
                .hasMessageContaining("exchange.s3.region has no meaning for gs:// without an HMAC key")
                .hasMessageContaining("exchange.s3.upload.part-size has no meaning");
    }

    @Test
    public void testNativeModeWithoutCredentialsFailsSayingWhatToSet()
    {
        // no key, and no application-default credentials on this machine (the build keeps the metadata server out)
        assertThatThrownBy(() -> create(ExchangeTestKit.filesystemFactory(), nativeMode(Map.of())))
                .hasMessageContaining("no credentials were found")
                .hasMessageContaining("exchange.gcs.json-key-file-path");
    }

    @Test
    public void testKeyFileAndInlineKeyAuthenticateTheRequests()
            throws Exception
    {
        try (GcsJsonApiServer server = new GcsJsonApiServer()) {
            String key = GcsTestKeys.serviceAccountKey(server.host() + "/token");
            Path file = GcsTestKeys.writeKeyFile(KEYS, key);
            for (Map<String, String> credentials : List.of(Map.of("exchange.gcs.json-key-file-path", file.toString()), Map.of("exchange.gcs.json-key", key))) {
                server.clear();
                // the key's own credentials, sent to the local server instead of Google's
                ExchangeManagerFactory factory = new SpoolexExchangeManagerFactory("filesystem", List.of(
                        new LocalStorageBackend(),
                        new S3StorageBackend(),
                        GcsStorageBackend.withServiceFactory(options -> options.setHost(server.host()).build().getService())));
                ExchangeManager manager = create(factory, nativeMode(credentials));
                try {
                    assertThat(manager.toString()).doesNotContain(GcsTestKeys.PRIVATE_KEY_HEADER);
                    SpoolStorage storage = storage(nativeMode(credentials), GcsStorageBackend.withServiceFactory(options -> options.setHost(server.host()).build().getService()));
                    try {
                        storage.putFile(URI.create("gs://spoolex-config/spool/authenticated.spool"), List.of(Slices.utf8Slice("content"))).get(60, TimeUnit.SECONDS);
                        assertThat(storage.toString()).doesNotContain(GcsTestKeys.PRIVATE_KEY_HEADER).contains("credentials: ");
                    }
                    finally {
                        storage.close();
                    }
                }
                finally {
                    manager.shutdown();
                }
                assertThat(server.requests()).anySatisfy(request -> assertThat(request.path()).isEqualTo("/token"));
                assertThat(server.requests().stream().filter(request -> request.path().startsWith("/upload/")))
                        .isNotEmpty()
                        .allSatisfy(request -> assertThat(request.authorization()).contains("Bearer " + GcsJsonApiServer.ACCESS_TOKEN));
            }
        }
    }

    @Test
    public void testInteroperabilityModeDeletesInJsonApiBatches()
            throws Exception
    {
        S3ProxyServer s3 = S3ProxyServer.shared();
        String bucket = "spoolex-gcs-interop";
        try (S3Client client = s3.createClient()) {
            S3ProxyServer.createBuckets(client, List.of(bucket));
        }
        try (GcsJsonApiServer json = new GcsJsonApiServer()) {
            Path file = GcsTestKeys.writeKeyFile(KEYS, GcsTestKeys.serviceAccountKey(json.host() + "/token"));
            Map<String, String> properties = new HashMap<>(interoperability(Map.of("exchange.gcs.json-key-file-path", file.toString()), s3.endpoint()));
            properties.remove("exchange.base-directories");
            properties.remove("exchange.startup-check");
            SpoolStorage storage = storage(ImmutableMap.<String, String>builder()
                            .put("exchange.base-directories", "gs://" + bucket + "/spool")
                            .putAll(properties)
                            .buildOrThrow(),
                    GcsStorageBackend.withServiceFactory(options -> options.setHost(json.host()).build().getService()));
            try {
                URI directory = URI.create("gs://" + bucket + "/spool/interop-" + System.nanoTime() + "/");
                List<ListenableFuture<Void>> writes = new ArrayList<>();
                for (int i = 0; i < 150; i++) {
                    writes.add(storage.putFile(directory.resolve(i + ".spool"), List.of(Slices.utf8Slice("content " + i))));
                }
                for (ListenableFuture<Void> write : writes) {
                    write.get(60, TimeUnit.SECONDS);
                }
                storage.deleteRecursively(List.of(directory)).get(60, TimeUnit.SECONDS);
                List<GcsJsonApiServer.Request> requests = json.requests();
                // the recorder is not S3Proxy: it answers every delete "not found", which counts as deleted
                assertThat(requests.stream().filter(request -> request.path().startsWith("/batch/"))).hasSize(2);
                assertThat(requests.stream().filter(GcsJsonApiServer.Request::inBatch))
                        .hasSize(150)
                        .allSatisfy(request -> {
                            assertThat(request.method()).isEqualTo("DELETE");
                            assertThat(request.path()).startsWith("/storage/v1/b/" + bucket + "/o/");
                        });
                // the key file's credentials: a token from its token_uri on every delete
                assertThat(requests).anySatisfy(request -> assertThat(request.path()).isEqualTo("/token"));
                assertThat(requests.stream().filter(GcsJsonApiServer.Request::inBatch))
                        .allSatisfy(request -> assertThat(request.authorization()).contains("Bearer " + GcsJsonApiServer.ACCESS_TOKEN));
            }
            finally {
                storage.close();
            }
        }
    }

    private static Map<String, String> interoperability(Map<String, String> extra, URI s3Endpoint)
    {
        Map<String, String> properties = new HashMap<>();
        properties.put("exchange.base-directories", "gs://spoolex-config/spool");
        properties.put("exchange.startup-check", "OFF");
        properties.put("exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY);
        properties.put("exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY);
        properties.put("exchange.s3.endpoint", s3Endpoint.toString());
        properties.put("exchange.s3.region", S3ProxyServer.REGION);
        properties.put("exchange.s3.path-style-access", "true");
        properties.putAll(extra);
        return properties;
    }

    /**
     * A storage made by the GCS backend's module from exchange-manager properties (the base directories among them).
     */
    private static SpoolStorage storage(Map<String, String> properties, GcsStorageBackend backend)
    {
        Map<String, String> storageProperties = new HashMap<>(properties);
        String directories = storageProperties.remove("exchange.base-directories");
        storageProperties.remove("exchange.startup-check");
        SpoolStorageModule module = backend.module(BaseDirectories.parse(List.of(directories.split(",")), backend.schemes(), "filesystem"));
        var injector = new Bootstrap("io.spoolex.storage.test", module, new SpoolexJmxModule("gcs-config-test-" + System.nanoTime()))
                .doNotInitializeLogging()
                .disableSystemProperties()
                .setRequiredConfigurationProperties(storageProperties)
                .initialize();
        // closed by the test; nothing else of the injector needs stopping
        return injector.getInstance(SpoolStorage.class);
    }

    private static String fullText(Throwable failure)
    {
        StringBuilder text = new StringBuilder();
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            text.append(cause).append('\n');
        }
        return text.toString();
    }
}
