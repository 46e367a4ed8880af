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
package io.spoolex.plugin;

import io.spoolex.storage.s3.S3ProxyServer;
import io.trino.plugin.exchange.filesystem.AbstractTestExchangeManager;
import io.trino.spi.exchange.ExchangeManager;
import org.junit.jupiter.api.AfterAll;
import software.amazon.awssdk.services.s3.S3Client;

import java.util.List;
import java.util.Map;

/**
 * Trino 483's own exchange-manager suite against the built plugin archive, loaded as a Trino server loads it, on
 * S3Proxy (the S3 protocol) with two buckets and the settings of Trino's S3 exchange-manager test.
 */
public class TrinoExchangeSuiteOnS3IT
        extends AbstractTestExchangeManager
{
    private static final List<String> BUCKETS = List.of("trino-suite-one", "trino-suite-two");

    private ExchangeManager manager;

    @Override
    protected ExchangeManager createExchangeManager()
    {
        S3ProxyServer server = S3ProxyServer.shared();
        try (S3Client client = server.createClient()) {
            S3ProxyServer.createBuckets(client, BUCKETS);
        }
        manager = PluginArchive.unpackBuiltArchive().load().createExchangeManager("filesystem", Map.of(
                "exchange.base-directories", "s3://" + BUCKETS.get(0) + "/spool,s3://" + BUCKETS.get(1),
                "exchange.s3.endpoint", server.endpoint().toString(),
                "exchange.s3.region", S3ProxyServer.REGION,
                "exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY,
                "exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY,
                "exchange.s3.path-style-access", "true",
                "exchange.sink-max-file-size", "16MB",
                "exchange.source-handle-target-data-size", "1MB"));
        return manager;
    }

    @AfterAll
    public void shutDownManager()
    {
        if (manager != null) {
            manager.shutdown();
        }
    }
}
