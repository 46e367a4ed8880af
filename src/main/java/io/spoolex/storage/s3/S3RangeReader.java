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
import com.google.common.collect.Sets;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.slice.Slice;
import io.spoolex.storage.SpoolFileReader;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.util.concurrent.Futures.immediateVoidFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.spoolex.storage.StorageErrors.storageError;
import static java.util.Objects.requireNonNull;

/**
 * Ranged GETs of one object. Every response is checked against the size the manifest recorded (its
 * {@code Content-Range} carries the object's size), so a replaced, truncated or extended object fails whichever
 * read sees it first. Closing cancels the reads still in flight.
 */
final class S3RangeReader
        implements SpoolFileReader
{
    private final S3Calls calls;
    private final S3AsyncClient client;
    private final S3Location location;
    private final long expectedBytes;
    private final S3StorageStats stats;

    @GuardedBy("this")
    private final Set<ListenableFuture<Void>> inFlight = Sets.newIdentityHashSet();
    @GuardedBy("this")
    private boolean closed;

    S3RangeReader(S3Calls calls, S3AsyncClient client, S3Location location, long expectedBytes, S3StorageStats stats)
    {
        this.calls = requireNonNull(calls, "calls is null");
        this.client = requireNonNull(client, "client is null");
        this.location = requireNonNull(location, "location is null");
        this.expectedBytes = expectedBytes;
        this.stats = requireNonNull(stats, "stats is null");
    }

    @Override
    public ListenableFuture<Void> read(long position, Slice target)
    {
        int length = target.length();
        checkArgument(position >= 0 && position + length <= expectedBytes,
                "range %s+%s is outside the %s bytes of %s",
                position,
                length,
                expectedBytes,
                location);
        if (length == 0) {
            return immediateVoidFuture();
        }
        GetObjectRequest request = GetObjectRequest.builder()
                .bucket(location.bucket())
                .key(location.key())
                .range("bytes=%s-%s".formatted(position, position + length - 1))
                .build();
        synchronized (this) {
            if (closed) {
                return Futures.immediateFailedFuture(storageError("read", location.toUri(), new IllegalStateException("reader is closed")));
            }
            // a transformer per attempt: each starts filling the target over
            ListenableFuture<Void> read = calls.call(stats.getGetObject(), "read", location, _ -> client.getObject(request, new RangeReadTransformer(location.toUri(), position, target, expectedBytes)));
            inFlight.add(read);
            read.addListener(() -> forget(read, length), directExecutor());
            return read;
        }
    }

    @SuppressWarnings("CollectionUndefinedEquality") // an identity set: a read is removed as the same object
    private void forget(ListenableFuture<Void> read, int length)
    {
        synchronized (this) {
            inFlight.remove(read);
        }
        if (read.isDone() && !read.isCancelled()) {
            try {
                Futures.getDone(read);
                stats.getDownloadedBytes().update(length);
            }
            catch (ExecutionException _) {
                // failed reads download nothing the source uses
            }
        }
    }

    @Override
    public void close()
    {
        List<ListenableFuture<Void>> abandoned;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            abandoned = ImmutableList.copyOf(inFlight);
            inFlight.clear();
        }
        // nobody waits for these any more: stop the transfers instead of downloading for nothing
        abandoned.forEach(read -> read.cancel(true));
    }
}
