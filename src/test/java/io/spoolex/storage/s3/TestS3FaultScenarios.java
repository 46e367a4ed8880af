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
import io.spoolex.faults.AbstractFaultScenarioTest;
import io.spoolex.faults.ExchangeCycle;
import io.spoolex.faults.FaultInjectingHttpProxy;
import io.spoolex.faults.FaultInjector;
import io.spoolex.faults.FaultScenario;
import io.spoolex.faults.FaultScenarios;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The representative fault scenarios on S3 (S3Proxy behind the fault proxy), in the default test run;
 * {@link TestS3FaultMatrix} runs them all.
 */
public class TestS3FaultScenarios
        extends AbstractFaultScenarioTest
{
    private static final List<String> BUCKETS = List.of("spoolex-faults-one", "spoolex-faults-two");

    private S3Client client;
    private FaultInjectingHttpProxy proxy;

    @BeforeAll
    public void startProxy()
            throws IOException
    {
        S3ProxyServer server = S3ProxyServer.shared();
        client = server.createClient();
        S3ProxyServer.createBuckets(client, BUCKETS);
        proxy = new FaultInjectingHttpProxy(server.endpoint(), S3HttpDialect.S3);
    }

    @AfterAll
    public void stopProxy()
            throws IOException
    {
        if (proxy != null) {
            proxy.close();
        }
        if (client != null) {
            client.close();
        }
    }

    /**
     * S3's DeleteObjects answers per key, but the proxy cannot refuse single keys faithfully: the request is signed
     * as a whole (SigV4 over its body), so it can neither be split into single deletes nor have keys taken out, and
     * refusing keys the server did delete would test nothing. Azure's blob batch signs each sub-request on its own.
     */
    @Override
    protected Map<String, String> excludedScenarios()
    {
        return Map.of(FaultScenarios.BATCH_THROTTLING_AT_CLOSE.name(), "the proxy cannot refuse single keys of a signed DeleteObjects request");
    }

    @Override
    protected FaultInjector injector()
    {
        return proxy;
    }

    @Override
    protected ExchangeCycle.StorageInspector inspector()
    {
        return () -> storedItems(client, BUCKETS);
    }

    /**
     * Objects and pending multipart uploads in the buckets, as {@code s3://bucket/key} and {@code upload s3://...}.
     */
    static List<String> storedItems(S3Client client, List<String> buckets)
    {
        ImmutableList.Builder<String> items = ImmutableList.builder();
        for (String bucket : buckets) {
            for (S3Object object : client.listObjectsV2Paginator(request -> request.bucket(bucket)).contents()) {
                items.add("s3://%s/%s".formatted(bucket, object.key()));
            }
            for (MultipartUpload upload : client.listMultipartUploads(request -> request.bucket(bucket)).uploads()) {
                items.add("upload s3://%s/%s".formatted(bucket, upload.key()));
            }
        }
        return items.build();
    }

    @Override
    protected Map<String, String> storageProperties()
    {
        return Map.of(
                "exchange.base-directories", "s3://%s/spool,s3://%s/nested/spool".formatted(BUCKETS.get(0), BUCKETS.get(1)),
                "exchange.s3.endpoint", proxy.endpoint().toString(),
                "exchange.s3.region", S3ProxyServer.REGION,
                "exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY,
                "exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY,
                "exchange.s3.path-style-access", "true");
    }

    @Override
    protected Map<String, String> retryProperties(FaultScenario.RetryLimits limits)
    {
        return Map.of(
                S3StorageConfig.MAX_ERROR_RETRIES, Integer.toString(limits.attempts()),
                S3StorageConfig.RETRY_TIME, limits.time().toMillis() + "ms");
    }
}
