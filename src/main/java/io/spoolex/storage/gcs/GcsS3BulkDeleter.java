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

import com.google.common.util.concurrent.ListenableFuture;
import io.spoolex.storage.s3.S3BulkDeleter;
import io.spoolex.storage.s3.S3StorageConfig;

import java.net.URI;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The deletes of {@code gs://} in S3-interoperability mode, as Trino makes them: GCS's XML API has no multi-object
 * delete, so objects go in JSON-API batch requests of up to 100, retried by the S3 properties' policy.
 */
final class GcsS3BulkDeleter
        implements S3BulkDeleter
{
    private final GcsClients clients;
    private final GcsBatchDeleter deleter;

    GcsS3BulkDeleter(S3StorageConfig config, GcsCredentials credentials, GcsServiceFactory serviceFactory)
    {
        requireNonNull(config, "config is null");
        GcsStorageStats stats = new GcsStorageStats();
        this.clients = new GcsClients(
                credentials,
                GcsClients.retryPolicy(config.maxAttempts(), config.getRetryTime(), S3StorageConfig.MAX_ERROR_RETRIES, S3StorageConfig.RETRY_TIME),
                serviceFactory,
                stats,
                "spoolex-gcs-delete");
        this.deleter = new GcsBatchDeleter(clients, stats);
    }

    @Override
    public ListenableFuture<Void> deleteObjects(URI directory, String bucket, List<String> keys)
    {
        return deleter.delete(directory, bucket, keys);
    }

    @Override
    public String describe()
    {
        return "JSON-API batch requests of up to %s deletes, %s".formatted(GcsBatchDeleter.MAX_OPERATIONS, clients);
    }

    @Override
    public void close()
    {
        clients.close();
    }
}
