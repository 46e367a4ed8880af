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

import com.google.cloud.WriteChannel;
import com.google.cloud.storage.BlobInfo;
import com.google.common.collect.ImmutableList;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.slice.Slice;
import io.spoolex.storage.SpoolFileWriter;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ExecutionException;

import static com.google.common.base.Preconditions.checkState;
import static com.google.common.util.concurrent.Futures.immediateVoidFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.spoolex.storage.StorageErrors.storageError;
import static java.util.Objects.requireNonNull;

/**
 * A streamed file as one resumable upload: the session starts with the first write, each write hands its buffers to
 * the library's channel, which sends them on in chunks of {@link #CHUNK_BYTES} (one request each, retried and resumed
 * by the library), and {@link #finish()} sends the last chunk, which makes the object: nothing is visible before.
 * Writes go out in call order, one at a time, as a resumable upload must. {@link #abort()} waits for the write in
 * flight and abandons the session: no object is made (GCS drops an unfinished session after a week). A file without
 * writes is one empty single-request upload.
 */
final class GcsResumableWriter
        implements SpoolFileWriter
{
    /**
     * Bytes per upload chunk, the one buffer the library keeps per open file: a multiple of 256 KiB, as GCS requires,
     * and below half of an 8 MiB G1 region (the region size of heaps from 16 GB), so that it is never a humongous
     * object (trinodb/trino#28268: large GCS upload buffers destabilize the heap).
     */
    static final int CHUNK_BYTES = 15 * 256 * 1024;

    private enum State
    {
        WRITING, FINISHING, ABORTED
    }

    private final GcsClients clients;
    private final GcsLocation location;
    private final GcsStorageStats stats;

    @GuardedBy("this")
    private State state = State.WRITING;
    // the last write (or the finish) in call order; each starts when the one before has settled
    @GuardedBy("this")
    private ListenableFuture<Void> tail = immediateVoidFuture();
    @GuardedBy("this")
    private boolean written;
    @GuardedBy("this")
    private ListenableFuture<Void> finished;
    @GuardedBy("this")
    private ListenableFuture<Void> aborted;
    // used by one write at a time, in call order
    private WriteChannel channel;

    GcsResumableWriter(GcsClients clients, GcsLocation location, GcsStorageStats stats)
    {
        this.clients = requireNonNull(clients, "clients is null");
        this.location = requireNonNull(location, "location is null");
        this.stats = requireNonNull(stats, "stats is null");
    }

    @Override
    public synchronized ListenableFuture<Void> write(List<Slice> buffers)
    {
        checkState(state == State.WRITING, "write after %s of %s", state, location);
        List<Slice> content = ImmutableList.copyOf(buffers);
        written = true;
        tail = after(tail, () -> {
            if (channel == null) {
                stats.getResumableUploads().update(1);
                channel = clients.resumable().writer(BlobInfo.newBuilder(location.blobId()).build());
                channel.setChunkSize(CHUNK_BYTES);
            }
            long bytes = 0;
            for (Slice slice : content) {
                ByteBuffer buffer = slice.toByteBuffer();
                bytes += buffer.remaining();
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
            }
            stats.getUploadedBytes().update(bytes);
        });
        return tail;
    }

    @Override
    public synchronized ListenableFuture<Void> finish()
    {
        checkState(state == State.WRITING, "finish after %s of %s", state, location);
        state = State.FINISHING;
        if (!written) {
            finished = GcsSpoolStorage.upload(clients, stats, location, ImmutableList.of());
        }
        else {
            tail = after(tail, () -> {
                // the last chunk: GCS makes the object now
                channel.close();
                channel = null;
            });
            finished = tail;
        }
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
        ListenableFuture<Void> settled = previous == State.FINISHING ? finished : tail;
        aborted = Futures.whenAllComplete(settled).callAsync(() -> {
            synchronized (this) {
                // an unfinished session is abandoned as it is: it never becomes an object
                channel = null;
            }
            if (previous == State.FINISHING && isSuccessful(settled)) {
                // finishing made the object before the abort: remove it
                return GcsSpoolStorage.deleteObject(clients, stats, location);
            }
            return immediateVoidFuture();
        }, directExecutor());
        return aborted;
    }

    private interface Step
    {
        void run()
                throws Exception;
    }

    private ListenableFuture<Void> after(ListenableFuture<Void> previous, Step step)
    {
        return Futures.transformAsync(previous, _ -> clients.submit(() -> {
            try {
                step.run();
            }
            catch (Exception e) {
                throw storageError("write", location.toUri(), e);
            }
            return null;
        }), directExecutor());
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
