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

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.options.BlockBlobCommitBlockListOptions;
import com.azure.storage.blob.options.BlockBlobSimpleUploadOptions;
import com.azure.storage.blob.options.BlockBlobStageBlockOptions;
import com.azure.storage.blob.specialized.BlockBlobAsyncClient;
import com.google.common.collect.ImmutableList;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.slice.Slice;
import io.spoolex.storage.SpoolFileWriter;
import io.trino.spi.TrinoException;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;

import static com.google.common.base.Preconditions.checkState;
import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static com.google.common.util.concurrent.Futures.immediateVoidFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.MoreFutures.asVoid;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.util.Objects.requireNonNull;

/**
 * A block blob written as staged blocks (Put Block, each write one block, several in flight) and committed once, in
 * write order, by {@link #finish()} (Put Block List). Until then the blob does not exist for readers; a writer that is
 * aborted or fails commits nothing, and Azure discards the uncommitted blocks (a week after the last was staged).
 */
final class AzureBlockWriter
        implements SpoolFileWriter
{
    /**
     * Azure's limits on a block blob: 50,000 committed blocks of up to 4,000 MiB each (service versions since
     * 2019-12-12).
     */
    static final int MAX_BLOCKS = 50_000;
    static final long MAX_BLOCK_BYTES = 4000L * 1024 * 1024;

    private enum State
    {
        WRITING, FINISHING, ABORTED
    }

    private final BlockBlobAsyncClient client;
    private final AzureLocation location;
    private final AzureStorageStats stats;
    private final AzureCalls calls;
    // block ids of one writer share a random part, so that blocks a failed earlier writer of the same blob staged
    // are never committed; every id has the same length, as Azure requires of all blocks of a blob
    private final String blockIdPrefix = UUID.randomUUID().toString().replace("-", "");

    @GuardedBy("this")
    private State state = State.WRITING;
    @GuardedBy("this")
    private final List<String> blockIds = new ArrayList<>();
    @GuardedBy("this")
    private final List<ListenableFuture<Void>> stagedBlocks = new ArrayList<>();
    @GuardedBy("this")
    private ListenableFuture<Void> finished;
    @GuardedBy("this")
    private ListenableFuture<Void> aborted;

    AzureBlockWriter(BlockBlobAsyncClient client, AzureLocation location, AzureStorageStats stats, AzureCalls calls)
    {
        this.client = requireNonNull(client, "client is null");
        this.location = requireNonNull(location, "location is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.calls = requireNonNull(calls, "calls is null");
    }

    @Override
    public synchronized ListenableFuture<Void> write(List<Slice> buffers)
    {
        checkState(state == State.WRITING, "write after %s of %s", state, location);
        if (blockIds.size() >= MAX_BLOCKS) {
            return immediateFailedFuture(new TrinoException(SPOOL_STORAGE_ERROR, "Failed to write %s: a block blob has at most %s blocks; raise exchange.azure.block-size or lower exchange.sink-max-file-size".formatted(location, MAX_BLOCKS)));
        }
        String blockId = blockId(blockIds.size());
        blockIds.add(blockId);
        BinaryData body = body(buffers);
        long bytes = body.getLength();
        ListenableFuture<Void> staged = Futures.transform(
                calls.call("write", location, () -> client.stageBlockWithResponse(new BlockBlobStageBlockOptions(blockId, body))),
                _ -> {
                    stats.getUploadedBytes().update(bytes);
                    return null;
                },
                directExecutor());
        stagedBlocks.add(staged);
        return staged;
    }

    @Override
    public synchronized ListenableFuture<Void> finish()
    {
        checkState(state == State.WRITING, "finish after %s of %s", state, location);
        state = State.FINISHING;
        if (blockIds.isEmpty()) {
            // nothing was written: an empty blob, as a file that was never written to is empty
            finished = upload(client, location, stats, calls, ImmutableList.of());
            return finished;
        }
        List<String> ids = ImmutableList.copyOf(blockIds);
        finished = Futures.transformAsync(
                Futures.allAsList(stagedBlocks),
                _ -> asVoid(calls.call("write", location, () -> client.commitBlockListWithResponse(new BlockBlobCommitBlockListOptions(ids)))),
                directExecutor());
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
            // the commit may already have made the blob: once it settles, remove whatever exists
            ListenableFuture<Void> completion = finished;
            aborted = Futures.whenAllComplete(completion).callAsync(
                    () -> isSuccessful(completion) ? AzureSpoolStorage.deleteBlob(client, location, stats, calls) : immediateVoidFuture(),
                    directExecutor());
            return aborted;
        }
        // nothing was committed, and nothing will be: wait for the blocks in flight (a block that lands later would
        // only be one more uncommitted block, but callers may reuse the buffers once this completes)
        aborted = Futures.whenAllComplete(ImmutableList.copyOf(stagedBlocks)).call(() -> null, directExecutor());
        return aborted;
    }

    static ListenableFuture<Void> upload(BlockBlobAsyncClient client, AzureLocation location, AzureStorageStats stats, AzureCalls calls, List<Slice> content)
    {
        BinaryData body = body(content);
        long bytes = body.getLength();
        return Futures.transform(
                calls.call("write", location, () -> client.uploadWithResponse(new BlockBlobSimpleUploadOptions(body))),
                _ -> {
                    stats.getUploadedBytes().update(bytes);
                    return null;
                },
                directExecutor());
    }

    /**
     * The request body: views of the caller's buffers, streamed as they are (never one large copy, which at 64 MB
     * and more would be a G1 humongous object), and replayable for the SDK's retries.
     */
    private static BinaryData body(List<Slice> buffers)
    {
        List<ByteBuffer> views = new ArrayList<>(buffers.size());
        for (Slice buffer : buffers) {
            views.add(buffer.toByteBuffer().asReadOnlyBuffer());
        }
        return BinaryData.fromListByteBuffer(views);
    }

    private String blockId(int index)
    {
        return Base64.getEncoder().encodeToString("%s-%05d".formatted(blockIdPrefix, index).getBytes(US_ASCII));
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
