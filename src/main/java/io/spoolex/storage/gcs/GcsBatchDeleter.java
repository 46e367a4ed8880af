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

import com.google.cloud.BatchResult;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.StorageBatch;
import com.google.cloud.storage.StorageBatchResult;
import com.google.cloud.storage.StorageException;
import com.google.common.collect.Lists;
import com.google.common.util.concurrent.ListenableFuture;
import io.airlift.concurrent.AsyncSemaphore;
import io.airlift.log.Logger;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static com.google.common.util.concurrent.Futures.immediateVoidFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.MoreFutures.asVoid;
import static java.util.Objects.requireNonNull;

/**
 * Deletes objects of one bucket with JSON-API batch requests of at most {@value #MAX_OPERATIONS} deletes each (GCS's
 * limit per batch). Each delete's own answer counts: gone already (404) is deleted; a delete answered 429 or 5xx is
 * sent again, alone with the others that failed so, in the next attempt of the batch (with the policy's backoff);
 * any other answer fails the batch naming the object.
 */
final class GcsBatchDeleter
{
    private static final Logger log = Logger.get(GcsBatchDeleter.class);

    /**
     * The most operations one batch request may carry.
     */
    static final int MAX_OPERATIONS = 100;
    /**
     * Batch requests in flight per call.
     */
    private static final int PARALLELISM = 4;

    private final GcsClients clients;
    private final GcsStorageStats stats;
    // a Storage service without batch requests (Google's in-memory fake) deletes one object per request
    private final AtomicBoolean batchUnsupported = new AtomicBoolean();

    GcsBatchDeleter(GcsClients clients, GcsStorageStats stats)
    {
        this.clients = requireNonNull(clients, "clients is null");
        this.stats = requireNonNull(stats, "stats is null");
    }

    /**
     * Deletes the objects; completes when every one is gone.
     *
     * @param directory the directory being deleted, for messages
     */
    ListenableFuture<Void> delete(URI directory, String bucket, List<String> names)
    {
        if (names.isEmpty()) {
            return immediateVoidFuture();
        }
        return asVoid(AsyncSemaphore.processAll(Lists.partition(names, MAX_OPERATIONS), batch -> deleteBatch(directory, bucket, batch), PARALLELISM, directExecutor()));
    }

    private ListenableFuture<Void> deleteBatch(URI directory, String bucket, List<String> names)
    {
        Set<String> pending = ConcurrentHashMap.newKeySet();
        pending.addAll(names);
        return clients.call(stats.getBatchRequests(), "delete", directory, () -> {
            attempt(bucket, pending);
            return null;
        });
    }

    /**
     * Sends the deletes still pending; what succeeds (or was gone) leaves the set. Throws the failure of one that did
     * not, which the retrier reads: a retryable one brings the next attempt, with only what is still pending.
     */
    private void attempt(String bucket, Set<String> pending)
    {
        List<String> names = new ArrayList<>(pending);
        if (batchUnsupported.get()) {
            deleteOneByOne(bucket, names, pending);
            return;
        }
        StorageBatch batch;
        try {
            batch = clients.storage().batch();
        }
        catch (UnsupportedOperationException e) {
            if (batchUnsupported.compareAndSet(false, true)) {
                log.info("This GCS Storage service has no batch requests: objects are deleted one request each");
            }
            deleteOneByOne(bucket, names, pending);
            return;
        }
        Map<String, StorageException> failures = new ConcurrentHashMap<>();
        for (String name : names) {
            StorageBatchResult<Boolean> result = batch.delete(BlobId.of(bucket, name));
            result.notify(new BatchResult.Callback<>()
            {
                @Override
                public void success(Boolean deleted)
                {
                    // false: it was gone already
                    pending.remove(name);
                    if (Boolean.TRUE.equals(deleted)) {
                        stats.getDeletedObjects().update(1);
                    }
                }

                @Override
                public void error(StorageException exception)
                {
                    if (exception.getCode() == 404) {
                        pending.remove(name);
                    }
                    else {
                        failures.put(name, exception);
                    }
                }
            });
        }
        batch.submit();
        if (pending.isEmpty()) {
            return;
        }
        // a permanent failure first: no retry helps the batch then
        StorageException first = failures.values().stream()
                .filter(exception -> !GcsFailures.classify(exception).retryable())
                .findFirst()
                .orElseGet(() -> failures.values().stream().findFirst().orElse(null));
        if (first == null) {
            // no answer for some deletes at all: try them again
            throw new StorageException(0, "the batch answered %s of %s deletes".formatted(names.size() - pending.size(), names.size()));
        }
        String failedName = failures.entrySet().stream().filter(entry -> entry.getValue() == first).map(Map.Entry::getKey).findFirst().orElse("");
        throw new StorageException(first.getCode(), "gs://%s/%s: %s".formatted(bucket, failedName, first.getMessage()), first.getReason(), first);
    }

    private void deleteOneByOne(String bucket, List<String> names, Set<String> pending)
    {
        for (String name : names) {
            stats.getSingleDeletes().update(1);
            if (clients.storage().delete(BlobId.of(bucket, name))) {
                stats.getDeletedObjects().update(1);
            }
            pending.remove(name);
        }
    }
}
