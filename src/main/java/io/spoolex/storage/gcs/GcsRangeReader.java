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

import com.google.cloud.ReadChannel;
import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.Storage.BlobField;
import com.google.cloud.storage.Storage.BlobGetOption;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.Sets;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.slice.Slice;
import io.spoolex.storage.ShortAnswerException;
import io.spoolex.storage.SpoolFileReader;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.util.concurrent.Futures.immediateVoidFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.spoolex.storage.StorageErrors.fileNotFound;
import static io.spoolex.storage.StorageErrors.storageError;
import static io.spoolex.storage.StorageErrors.wrongSize;
import static java.util.Objects.requireNonNull;

/**
 * Ranged reads of one object. The object's size and generation are read once, with the first read: a size other
 * than the manifest's fails that read (and every later one), and the ranged reads that follow ask for that generation,
 * so an object replaced since reads as missing rather than as other bytes. Each read is one ranged GET straight into
 * the caller's memory, retried whole; concurrent reads of the source's read-ahead are concurrent requests. Closing
 * cancels the reads still in flight.
 */
final class GcsRangeReader
        implements SpoolFileReader
{
    private final GcsClients clients;
    private final GcsLocation location;
    private final long expectedBytes;
    private final GcsStorageStats stats;

    @GuardedBy("this")
    private ListenableFuture<Long> generation;
    @GuardedBy("this")
    private final Set<ListenableFuture<Void>> inFlight = Sets.newIdentityHashSet();
    @GuardedBy("this")
    private boolean closed;

    GcsRangeReader(GcsClients clients, GcsLocation location, long expectedBytes, GcsStorageStats stats)
    {
        this.clients = requireNonNull(clients, "clients is null");
        this.location = requireNonNull(location, "location is null");
        this.expectedBytes = expectedBytes;
        this.stats = requireNonNull(stats, "stats is null");
    }

    @Override
    public ListenableFuture<Void> read(long position, Slice target)
    {
        int length = target.length();
        checkArgument(position >= 0 && position + length <= expectedBytes, "range %s+%s is outside the %s bytes of %s", position, length, expectedBytes, location);
        if (length == 0) {
            return immediateVoidFuture();
        }
        synchronized (this) {
            if (closed) {
                return Futures.immediateFailedFuture(storageError("read", location.toUri(), new IllegalStateException("reader is closed")));
            }
            if (generation == null) {
                generation = clients.call(stats.getMetadataReads(), "read", location.toUri(), this::checkedGeneration);
            }
            // one read cancelled must not cancel the size check the others wait for
            ListenableFuture<Void> read = Futures.transformAsync(
                    Futures.nonCancellationPropagating(generation),
                    found -> clients.call(stats.getReads(), "read", location.toUri(), () -> {
                        readRange(found, position, target);
                        return null;
                    }),
                    directExecutor());
            inFlight.add(read);
            read.addListener(() -> forget(read, length), directExecutor());
            return read;
        }
    }

    private Long checkedGeneration()
    {
        Blob blob = clients.storage().get(location.blobId(), BlobGetOption.fields(BlobField.SIZE, BlobField.GENERATION));
        if (blob == null) {
            throw fileNotFound(location.toUri(), null);
        }
        long size = blob.getSize() == null ? 0 : blob.getSize();
        if (size != expectedBytes) {
            throw wrongSize(location.toUri(), size, expectedBytes);
        }
        return blob.getGeneration();
    }

    private void readRange(Long generation, long position, Slice target)
            throws Exception
    {
        int length = target.length();
        BlobId blob = generation == null ? location.blobId() : BlobId.of(location.bucket(), location.name(), generation);
        try (ReadChannel channel = clients.storage().reader(blob)) {
            // no read-ahead buffer of the library's: the bytes land in the caller's memory
            channel.setChunkSize(0);
            channel.seek(position);
            channel.limit(position + length);
            ByteBuffer destination = ByteBuffer.wrap(target.byteArray(), target.byteArrayOffset(), length);
            while (destination.hasRemaining()) {
                if (channel.read(destination) < 0) {
                    // the generation read has the manifest's size (checked above), so an answer that ends early is a
                    // short answer, not a short file: retried like a broken connection
                    throw new ShortAnswerException(destination.position() - target.byteArrayOffset(), length, position);
                }
            }
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
        abandoned.forEach(read -> read.cancel(true));
    }
}
