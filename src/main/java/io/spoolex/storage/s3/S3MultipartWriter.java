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
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.slice.Slice;
import io.spoolex.storage.SpoolFileWriter;
import io.trino.spi.TrinoException;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;

import static com.google.common.base.Preconditions.checkState;
import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static com.google.common.util.concurrent.Futures.immediateVoidFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.MoreFutures.asVoid;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static java.util.Objects.requireNonNull;

/**
 * A multipart upload: each {@link #write} is one part, numbered in call order and uploaded at once, so the parts of
 * one file travel concurrently (the sink's buffer pool bounds how many). {@link #finish()} completes the upload with
 * every part; {@link #abort()} waits for the parts in flight and aborts it, so no part stays stored (and billed).
 */
final class S3MultipartWriter
        implements SpoolFileWriter
{
    /**
     * S3 numbers parts 1 to 10,000.
     */
    static final int MAX_PARTS = 10_000;
    /**
     * Every part but the last carries at least 5 MiB, and none more than 5 GiB.
     */
    static final long MIN_PART_BYTES = 5L * 1024 * 1024;
    static final long MAX_PART_BYTES = 5L * 1024 * 1024 * 1024;

    private enum State
    {
        WRITING, FINISHING, ABORTED
    }

    private final S3Calls calls;
    private final S3AsyncClient client;
    private final S3Location location;
    private final S3WriteOptions options;
    private final S3StorageStats stats;

    @GuardedBy("this")
    private State state = State.WRITING;
    @GuardedBy("this")
    private ListenableFuture<String> uploadId;
    @GuardedBy("this")
    private final List<ListenableFuture<CompletedPart>> parts = new ArrayList<>();
    @GuardedBy("this")
    private ListenableFuture<Void> finished;
    @GuardedBy("this")
    private ListenableFuture<Void> aborted;
    @GuardedBy("this")
    private long fileBytes;

    S3MultipartWriter(S3Calls calls, S3AsyncClient client, S3Location location, S3WriteOptions options, S3StorageStats stats)
    {
        this.calls = requireNonNull(calls, "calls is null");
        this.client = requireNonNull(client, "client is null");
        this.location = requireNonNull(location, "location is null");
        this.options = requireNonNull(options, "options is null");
        this.stats = requireNonNull(stats, "stats is null");
    }

    @Override
    public synchronized ListenableFuture<Void> write(List<Slice> buffers)
    {
        checkState(state == State.WRITING, "write after %s of %s", state, location);
        int partNumber = parts.size() + 1;
        if (partNumber > MAX_PARTS) {
            return immediateFailedFuture(new TrinoException(SPOOL_STORAGE_ERROR, "Failed to write %s: a multipart upload has at most %s parts; raise exchange.s3.upload.part-size or lower exchange.sink-max-file-size".formatted(location, MAX_PARTS)));
        }
        if (uploadId == null) {
            CreateMultipartUploadRequest request = options.apply(CreateMultipartUploadRequest.builder())
                    .bucket(location.bucket())
                    .key(location.key())
                    .build();
            // a retried create whose first answer was lost leaves an upload behind: the exchange's close aborts it
            uploadId = Futures.transform(
                    calls.call(stats.getCreateMultipartUpload(), "write", location, _ -> client.createMultipartUpload(request)),
                    response -> response.uploadId(),
                    directExecutor());
        }
        // the part's body reads the sink's buffers in place; nothing here keeps them once the upload completes
        ByteBuffer[] body = new ByteBuffer[buffers.size()];
        long bytes = 0;
        for (int i = 0; i < body.length; i++) {
            body[i] = buffers.get(i).toByteBuffer();
            bytes += body[i].remaining();
        }
        long partBytes = bytes;
        fileBytes += bytes;
        ListenableFuture<CompletedPart> part = Futures.transformAsync(uploadId, id -> {
            UploadPartRequest request = UploadPartRequest.builder()
                    .bucket(location.bucket())
                    .key(location.key())
                    .uploadId(id)
                    .partNumber(partNumber)
                    .contentLength(partBytes)
                    .build();
            return Futures.transform(
                    calls.call(stats.getUploadPart(), "write", location, _ -> client.uploadPart(request, S3SpoolStorage.requestBody(body))),
                    response -> {
                        stats.getUploadedBytes().update(partBytes);
                        return CompletedPart.builder().partNumber(partNumber).eTag(response.eTag()).build();
                    },
                    directExecutor());
        }, directExecutor());
        parts.add(part);
        return asVoid(part);
    }

    @Override
    public synchronized ListenableFuture<Void> finish()
    {
        checkState(state == State.WRITING, "finish after %s of %s", state, location);
        state = State.FINISHING;
        if (uploadId == null) {
            // nothing was written: an empty object, as a file that was never written to is empty
            finished = S3SpoolStorage.putObject(calls, stats, client, location, options, ImmutableList.of());
            return finished;
        }
        ListenableFuture<String> id = uploadId;
        long expectedBytes = fileBytes;
        ListenableFuture<Void> completed = Futures.transformAsync(Futures.allAsList(parts), completedParts -> {
            CompleteMultipartUploadRequest request = CompleteMultipartUploadRequest.builder()
                    .bucket(location.bucket())
                    .key(location.key())
                    .uploadId(Futures.getDone(id))
                    .multipartUpload(upload -> upload.parts(completedParts.stream()
                            .sorted(Comparator.comparingInt(CompletedPart::partNumber))
                            .toList()))
                    .build();
            ListenableFuture<Void> complete = asVoid(calls.call(stats.getCompleteMultipartUpload(), "write", location, _ -> client.completeMultipartUpload(request)));
            return Futures.catchingAsync(complete, TrinoException.class, failure -> S3Failures.hasErrorCode(failure.getCause(), "NoSuchUpload")
                    ? completedEarlier(expectedBytes, failure)
                    : immediateFailedFuture(failure), directExecutor());
        }, directExecutor());
        // a failed upload would keep its stored parts (and their cost) until a lifecycle rule removes them
        // (the task fails with the write's error whether or not the abort succeeds)
        finished = Futures.catchingAsync(completed, Throwable.class, failure -> Futures.whenAllComplete(abortUpload()).callAsync(() -> immediateFailedFuture(failure), directExecutor()), directExecutor());
        return finished;
    }

    @Override
    public synchronized ListenableFuture<Void> abort()
    {
        if (aborted != null) {
            return aborted;
        }
        State previous = state;
        state = State.ABORTED;
        if (previous == State.FINISHING) {
            // completing may already have made the object: once that settles, remove whatever exists
            ListenableFuture<Void> completion = finished;
            aborted = Futures.whenAllComplete(completion).callAsync(() -> {
                if (isSuccessful(completion)) {
                    DeleteObjectRequest request = DeleteObjectRequest.builder().bucket(location.bucket()).key(location.key()).build();
                    return asVoid(calls.call(stats.getDeleteObject(), "discard", location, _ -> client.deleteObject(request)));
                }
                return immediateVoidFuture();
            }, directExecutor());
            return aborted;
        }
        aborted = abortUpload();
        return aborted;
    }

    /**
     * Aborts the upload once the parts in flight have settled (S3 may keep a part that lands after the abort).
     */
    private synchronized ListenableFuture<Void> abortUpload()
    {
        if (uploadId == null) {
            return immediateVoidFuture();
        }
        ListenableFuture<String> id = uploadId;
        List<ListenableFuture<?>> pending = new ArrayList<>(parts);
        pending.add(id);
        return Futures.whenAllComplete(pending).callAsync(() -> {
            if (!isSuccessful(id)) {
                // the upload never started: nothing to abort
                return immediateVoidFuture();
            }
            AbortMultipartUploadRequest request = AbortMultipartUploadRequest.builder()
                    .bucket(location.bucket())
                    .key(location.key())
                    .uploadId(Futures.getDone(id))
                    .build();
            ListenableFuture<Void> abortedUpload = asVoid(calls.call(stats.getAbortMultipartUpload(), "abort the upload of", location, _ -> client.abortMultipartUpload(request)));
            // already gone (aborted by a cleanup, or completed): nothing left to remove
            return Futures.catchingAsync(abortedUpload, TrinoException.class, failure -> S3Failures.hasErrorCode(failure.getCause(), "NoSuchUpload")
                    ? immediateVoidFuture()
                    : immediateFailedFuture(failure), directExecutor());
        }, directExecutor());
    }

    /**
     * CompleteMultipartUpload answered that the upload does not exist. That happens when an earlier attempt completed
     * it but its answer was lost on the way (and the retry found the upload gone): then the object is there, with
     * every byte written. Anything else is the failure it seems.
     */
    private ListenableFuture<Void> completedEarlier(long expectedBytes, TrinoException noSuchUpload)
    {
        HeadObjectRequest request = HeadObjectRequest.builder().bucket(location.bucket()).key(location.key()).build();
        ListenableFuture<HeadObjectResponse> head = calls.call(stats.getOtherRequests(), "write", location, _ -> client.headObject(request));
        ListenableFuture<Void> checked = Futures.transformAsync(head, response -> response.contentLength() != null && response.contentLength() == expectedBytes
                ? immediateVoidFuture()
                : immediateFailedFuture(noSuchUpload), directExecutor());
        return Futures.catchingAsync(checked, Throwable.class, _ -> immediateFailedFuture(noSuchUpload), directExecutor());
    }

    private static boolean isSuccessful(ListenableFuture<?> future)
    {
        if (future.isCancelled()) {
            return false;
        }
        try {
            Futures.getDone(future);
            return true;
        }
        catch (ExecutionException e) {
            return false;
        }
    }
}
