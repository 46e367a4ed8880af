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

import io.spoolex.storage.AbstractSpoolStorageTest;
import io.spoolex.storage.SpoolStorageBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;

import java.net.URI;
import java.util.List;
import java.util.Map;

import static com.google.common.collect.ImmutableList.toImmutableList;

/**
 * The storage contract on S3Proxy (the S3 protocol, multipart uploads included), two buckets.
 */
public class TestS3SpoolStorage
        extends AbstractSpoolStorageTest
{
    private static final List<String> BUCKETS = List.of("spoolex-storage-one", "spoolex-storage-two");

    private static S3ProxyServer server;
    private static S3Client client;

    @BeforeAll
    public static void startServer()
    {
        server = S3ProxyServer.shared();
        client = server.createClient();
        S3ProxyServer.createBuckets(client, BUCKETS);
    }

    @AfterAll
    public static void closeClient()
    {
        client.close();
    }

    @Override
    protected SpoolStorageBackend backend()
    {
        return new S3StorageBackend();
    }

    @Override
    protected List<String> baseDirectories()
    {
        return List.of("s3://" + BUCKETS.get(0) + "/spool", "s3://" + BUCKETS.get(1) + "/nested/spool");
    }

    @Override
    protected Map<String, String> backendProperties()
    {
        return Map.of(
                "exchange.s3.endpoint", server.endpoint().toString(),
                "exchange.s3.region", S3ProxyServer.REGION,
                "exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY,
                "exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY,
                "exchange.s3.path-style-access", "true");
    }

    @Override
    protected List<String> uploadsInProgress(URI directory)
    {
        S3Location location = S3Location.of(directory);
        return client.listMultipartUploadsPaginator(request -> request.bucket(location.bucket()).prefix(location.directoryPrefix())).uploads().stream()
                .map(MultipartUpload::key)
                .collect(toImmutableList());
    }
}
