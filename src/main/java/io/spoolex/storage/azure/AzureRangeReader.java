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
package io.spoolex.storage.azure;

import com.azure.core.exception.HttpResponseException;
import com.azure.core.http.HttpHeaderName;
import com.azure.storage.blob.BlobAsyncClient;
import com.azure.storage.blob.models.BlobDownloadAsyncResponse;
import com.azure.storage.blob.models.BlobRange;
import com.azure.storage.blob.models.DownloadRetryOptions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.Sets;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.slice.Slice;
import io.spoolex.storage.ShortAnswerException;
import io.spoolex.storage.SpoolFileReader;
import io.trino.spi.TrinoException;
import reactor.core.publisher.Mono;

import java.io.IOException;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.util.concurrent.Futures.immediateVoidFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.spoolex.SpoolexErrorCode.SPOOL_FILE_CORRUPTED;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static io.spoolex.storage.StorageErrors.storageError;
import static io.spoolex.storage.StorageErrors.wrongSize;
import static java.util.Objects.requireNonNull;

/**
 * Ranged reads (Get Blob with a range) straight into the caller's buffers; the blob's size comes with every answer
 * (Content-Range), so a blob of another size than the manifest's fails the read.
 */
final class AzureRangeReader
        implements SpoolFileReader
{
    /**
     * A range whose body breaks off is not resumed by the SDK: the read fails and {@link AzureCalls} asks for the whole
     * range again after its backoff, so that every attempt is one request the retry policy counts.
     */
    private static final DownloadRetryOptions BODY_RETRIES = new DownloadRetryOptions().setMaxRetryRequests(0);

    private final BlobAsyncClient client;
    private final AzureLocation location;
    private final long expectedBytes;
    private final AzureStorageStats stats;
    private final AzureCalls calls;

    @GuardedBy("this")
    private final Set<ListenableFuture<Void>> inFlight = Sets.newIdentityHashSet();
    @GuardedBy("this")
    private boolean closed;

    AzureRangeReader(BlobAsyncClient client, AzureLocation location, long expectedBytes, AzureStorageStats stats, AzureCalls calls)
    {
        this.client = requireNonNull(client, "client is null");
        this.location = requireNonNull(location, "location is null");
        this.expectedBytes = expectedBytes;
        this.stats = requireNonNull(stats, "stats is null");
        this.calls = requireNonNull(calls, "calls is null");
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
        synchronized (this) {
            if (closed) {
                return Futures.immediateFailedFuture(storageError("read", location.toUri(), new IllegalStateException("reader is closed")));
            }
            ListenableFuture<Void> read = calls.call("read", location, () -> download(position, target));
            inFlight.add(read);
            read.addListener(() -> forget(read, length), directExecutor());
            return read;
        }
    }

    private Mono<Void> download(long position, Slice target)
    {
        int length = target.length();
        return client.downloadStreamWithResponse(new BlobRange(position, (long) length), BODY_RETRIES, null, false)
                .<Void>flatMap(response -> {
                    TrinoException wrong = checkResponse(response, position, length);
                    if (wrong != null) {
                        closeQuietly(response);
                        return Mono.<Void>error(wrong);
                    }
                    AtomicInteger written = new AtomicInteger();
                    return response.getValue()
                            .handle((buffer, sink) -> {
                                int bytes = buffer.remaining();
                                int offset = written.get();
                                if (bytes > length - offset) {
                                    sink.error(new TrinoException(SPOOL_STORAGE_ERROR, "Failed to read %s: Azure Storage sent more than the %s bytes asked for at offset %s".formatted(location, length, position)));
                                    return;
                                }
                                buffer.get(target.byteArray(), target.byteArrayOffset() + offset, bytes);
                                written.addAndGet(bytes);
                            })
                            // the blob has the manifest's size (checked above): an answer with less than its range was
                            // cut short on the way, and another attempt gets all of it
                            .then(Mono.<Void>defer(() -> written.get() < length
                                    ? Mono.error(new ShortAnswerException(written.get(), length, position))
                                    : Mono.empty()));
                })
                // a range that starts past the blob's end: the blob is shorter than the manifest says
                .onErrorResume(failure -> AzureFailures.statusCode(failure) == 416, failure -> Mono.<Void>error(shorterBlob(AzureFailures.unwrap(failure))));
    }

    private TrinoException checkResponse(BlobDownloadAsyncResponse response, long position, int length)
    {
        String contentRange = response.getDeserializedHeaders().getContentRange();
        OptionalLong blobBytes = totalBytes(contentRange);
        if (contentRange == null) {
            // the whole blob came back: only right if the whole blob was asked for
            Long contentLength = response.getDeserializedHeaders().getContentLength();
            if (contentLength == null || contentLength != expectedBytes || position != 0 || length != expectedBytes) {
                return contentLength == null
                        ? new TrinoException(SPOOL_STORAGE_ERROR, "Failed to read %s: Azure Storage answered a range request without the blob's size".formatted(location))
                        : wrongSize(location.toUri(), contentLength, expectedBytes);
            }
            return null;
        }
        if (blobBytes.isEmpty()) {
            return new TrinoException(SPOOL_STORAGE_ERROR, "Failed to read %s: Azure Storage answered a range request without the blob's size (Content-Range: %s)".formatted(location, contentRange));
        }
        if (blobBytes.getAsLong() != expectedBytes) {
            return wrongSize(location.toUri(), blobBytes.getAsLong(), expectedBytes);
        }
        return null;
    }

    private TrinoException shorterBlob(Throwable failure)
    {
        if (failure instanceof HttpResponseException response && response.getResponse() != null) {
            // "Content-Range: bytes */<size>"
            OptionalLong blobBytes = totalBytes(response.getResponse().getHeaderValue(HttpHeaderName.CONTENT_RANGE));
            if (blobBytes.isPresent()) {
                return wrongSize(location.toUri(), blobBytes.getAsLong(), expectedBytes);
            }
        }
        return new TrinoException(SPOOL_FILE_CORRUPTED, "Spool file %s is corrupt: it is shorter than the %s bytes its manifest recorded".formatted(location.toUri(), expectedBytes), failure);
    }

    /**
     * The blob's size from {@code Content-Range: bytes a-b/size} (or {@code bytes *}{@code /size}).
     */
    static OptionalLong totalBytes(String contentRange)
    {
        if (contentRange == null) {
            return OptionalLong.empty();
        }
        int slash = contentRange.lastIndexOf('/');
        if (slash < 0) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(contentRange.substring(slash + 1).trim()));
        }
        catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private static void closeQuietly(BlobDownloadAsyncResponse response)
    {
        try {
            response.close();
        }
        catch (IOException | RuntimeException _) {
            // the body is of no use: dropping it is all closing does
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
