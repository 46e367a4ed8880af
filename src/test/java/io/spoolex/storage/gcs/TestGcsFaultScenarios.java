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

import com.google.cloud.NoCredentials;
import com.google.common.collect.ImmutableList;
import io.spoolex.exchange.SpoolexExchangeManagerFactory;
import io.spoolex.faults.AbstractFaultScenarioTest;
import io.spoolex.faults.ExchangeCycle;
import io.spoolex.faults.FaultInjectingHttpProxy;
import io.spoolex.faults.FaultInjector;
import io.spoolex.faults.FaultScenario;
import io.spoolex.faults.FaultScenarios;
import io.spoolex.storage.SpoolStorageBackend;
import io.trino.spi.exchange.ExchangeManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * The representative fault scenarios on the native GCS mode (every request through the JSON API), in the default test
 * run, plus the batch-delete scenario; {@link TestGcsFaultMatrix} runs them all. The storage is the test tree's own
 * JSON-API server ({@link GcsJsonApiServer}), not GCS: Google has no emulator of the JSON API with resumable uploads
 * and batches, so what this shows is how Spoolex meets the faults, not how GCS itself behaves under them.
 */
public class TestGcsFaultScenarios
        extends AbstractFaultScenarioTest
{
    private static final List<String> BUCKETS = List.of("spoolex-faults-one", "spoolex-faults-two");

    private GcsJsonApiServer server;
    private FaultInjectingHttpProxy proxy;

    @BeforeAll
    public void startProxy()
            throws IOException
    {
        server = new GcsJsonApiServer();
        proxy = new FaultInjectingHttpProxy(URI.create(server.host()), GcsHttpDialect.GCS);
    }

    @AfterAll
    public void stopProxy()
            throws IOException
    {
        if (proxy != null) {
            proxy.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Override
    protected List<FaultScenario> scenarios()
    {
        return ImmutableList.<FaultScenario>builder()
                .addAll(FaultScenarios.fast())
                .add(FaultScenarios.BATCH_THROTTLING_AT_CLOSE)
                .build();
    }

    @Override
    protected ExchangeManagerFactory exchangeManagerFactory()
    {
        // the JSON API's host is no property: the backend's test hook points the client at the proxy
        GcsStorageBackend backend = GcsStorageBackend.withServiceFactory(options -> options
                .setHost(proxy.endpoint().toString())
                .setCredentials(NoCredentials.getInstance())
                .setProjectId("spoolex-test")
                .build()
                .getService());
        return new SpoolexExchangeManagerFactory("filesystem", List.<SpoolStorageBackend>of(backend));
    }

    @Override
    protected FaultInjector injector()
    {
        return proxy;
    }

    /**
     * The objects in the buckets, as {@code gs://bucket/name}, and the resumable upload sessions neither completed nor
     * cancelled, as {@code upload gs://bucket/name}: GCS shows no such session to anyone but the client holding its
     * URI, but keeps it for a week, and the server here can tell.
     */
    @Override
    protected ExchangeCycle.StorageInspector inspector()
    {
        return () -> {
            ImmutableList.Builder<String> items = ImmutableList.builder();
            for (String key : server.objects().keySet()) {
                if (BUCKETS.stream().anyMatch(bucket -> key.startsWith(bucket + "/"))) {
                    items.add("gs://" + key);
                }
            }
            for (String key : server.unfinishedUploads()) {
                items.add("upload gs://" + key);
            }
            return items.build();
        };
    }

    @Override
    protected Map<String, String> storageProperties()
    {
        return Map.of("exchange.base-directories", "gs://%s/spool,gs://%s/nested/spool".formatted(BUCKETS.get(0), BUCKETS.get(1)));
    }

    @Override
    protected Map<String, String> retryProperties(FaultScenario.RetryLimits limits)
    {
        return Map.of(
                GcsStorageConfig.MAX_ERROR_RETRIES, Integer.toString(limits.attempts()),
                GcsStorageConfig.RETRY_TIME, limits.time().toMillis() + "ms");
    }
}
