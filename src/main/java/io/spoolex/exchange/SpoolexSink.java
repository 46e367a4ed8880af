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
package io.spoolex.exchange;

import com.google.common.collect.ImmutableList;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.FormatMethod;
import com.google.errorprone.annotations.FormatString;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.airlift.units.DataSize;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.spoolex.config.CompressionCodec;
import io.spoolex.format.AdaptiveCompression;
import io.spoolex.format.AttemptManifest;
import io.spoolex.format.SpoolFileEncoder;
import io.spoolex.format.SpoolFileFormat;
import io.spoolex.format.SpoolFileId;
import io.spoolex.metrics.SpoolMetrics;
import io.spoolex.metrics.SpoolTracing;
import io.spoolex.metrics.SpoolexStats;
import io.spoolex.storage.SpoolDirectoryContents;
import io.spoolex.storage.SpoolFileWriter;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.StorageWriteLimits;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkInstanceHandle;
import io.trino.spi.metrics.Metrics;

import java.net.URI;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Throwables.throwIfUnchecked;
import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static com.google.common.util.concurrent.Futures.immediateVoidFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.MoreFutures.addExceptionCallback;
import static io.spoolex.exchange.ExchangeFutures.NOT_BLOCKED;
import static io.spoolex.format.SpoolFileFormat.PAGE_LENGTH_BYTES;
import static io.trino.spi.StandardErrorCode.CONFIGURATION_INVALID;
import static io.trino.spi.StandardErrorCode.NOT_SUPPORTED;
import static java.lang.Math.ceilDiv;
import static java.lang.Math.min;
import static java.lang.Math.toIntExact;
import static java.util.Objects.requireNonNull;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

/**
 * Writes one task attempt's output: a chain of spool files per output partition, then the manifest that commits
 * them. Pages are packed into blocks; full blocks are encoded (compressed, sealed) on the calling thread into pool
 * buffers, and every {@link StorageWriteLimits#writeBytes()} bytes of them go to storage asynchronously.
 */
public class SpoolexSink
        implements ExchangeSink
{
    private final SpoolStorage storage;
    private final SpoolCleaner cleaner;
    private final SpoolexStats stats;
    private final SpoolexSinkInstanceHandle handle;
    private final CompressionCodec codec;
    private final SecureRandom random;
    private final int maxPageStorageBytes;
    private final long maxFileDataBytes;
    private final int blockBytes;
    private final int writeBufferBytes;
    private final int writeAlignment;
    private final int maxWritesPerFile;
    private final SinkBufferPool pool;
    private final AdaptiveCompression compression;
    private final SpoolMetrics metrics = SpoolMetrics.forSink();
    private final Tracer tracer;
    private final StorageHealth.WriteReporter health;
    private final AtomicReferenceArray<PartitionWriter> writers;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    // written by partition writers under their own locks, never under the sink's (that would invert lock order)
    private final Queue<ListenableFuture<Void>> fileFutures = new ConcurrentLinkedQueue<>();
    private final Queue<AttemptManifest.File> committedFiles = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;
    // set when the sink starts throwing its files away: storage requests failing after that are no sign of the storage
    private volatile boolean discarding;

    public SpoolexSink(
            SpoolStorage storage,
            SpoolCleaner cleaner,
            StorageWriteLimits writeLimits,
            SpoolexStats stats,
            SpoolexSinkInstanceHandle handle,
            CompressionCodec codec,
            SecureRandom random,
            DataSize maxPageStorageSize,
            DataSize maxFileSize,
            int bufferPoolMinSize,
            int buffersPerPartition,
            int blockBytes,
            Runnable onIncompressiblePages,
            StorageHealth.WriteReporter health,
            Tracer tracer)
    {
        this.health = requireNonNull(health, "health is null");
        this.tracer = requireNonNull(tracer, "tracer is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.cleaner = requireNonNull(cleaner, "cleaner is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.handle = requireNonNull(handle, "handle is null");
        this.codec = requireNonNull(codec, "codec is null");
        this.random = requireNonNull(random, "random is null");
        this.maxPageStorageBytes = toIntExact(maxPageStorageSize.toBytes());
        this.maxFileDataBytes = maxFileSize.toBytes();
        this.blockBytes = blockBytes;
        this.writeBufferBytes = writeLimits.writeBytes();
        this.writeAlignment = writeLimits.writeAlignment();
        this.maxWritesPerFile = writeLimits.maxWritesPerFile();
        int bufferBytes = bufferBytes(blockBytes, handle.key().isPresent());
        // the pool holds max(partitions * buffers-per-partition, pool minimum) write buffers' worth of bytes, at least
        // two write buffers per partition, which checkStorageLimits made sure is more than a partition ever holds
        // outside of writes in flight: a spent pool always has a write in flight that will return buffers
        long budgetBytes = Math.max((long) handle.outputPartitionCount() * buffersPerPartition, bufferPoolMinSize) * writeBufferBytes;
        this.pool = new SinkBufferPool(bufferBytes, Math.max(budgetBytes, 2L * writeBufferBytes));
        this.writers = new AtomicReferenceArray<>(handle.outputPartitionCount());
        this.compression = new AdaptiveCompression(onIncompressiblePages);
    }

    /**
     * One pool buffer: a block encoded with the file's header or trailer beside it.
     */
    private static int bufferBytes(int blockBytes, boolean encrypted)
    {
        return SpoolFileFormat.headerBytes(encrypted) + SpoolFileEncoder.encodeBufferBytes(blockBytes, encrypted) + SpoolFileFormat.trailerBytes(encrypted);
    }

    /**
     * Checks, once when the exchange manager is built, that sinks can write to a storage with these limits; throws a
     * configuration error naming the properties to change otherwise.
     */
    static void checkStorageLimits(StorageWriteLimits limits, int blockBytes, boolean encrypted, DataSize maxFileSize, DataSize maxPageStorageSize)
    {
        int bufferBytes = bufferBytes(blockBytes, encrypted);
        long writeBytes = limits.writeBytes();
        String writeSize = "%s (%s)".formatted(limits.describeWriteBytes(), DataSize.succinctBytes(writeBytes));
        // outside of writes in flight a partition holds at most its raw block, the encoded blocks waiting for a full
        // write, and, while a block is encoded, an output buffer and a compression scratch; that must fit in the two
        // writes per partition the pool's budget guarantees, or the waiting buffers could spend the pool with no
        // write in flight to return any, and the sink would wait forever
        long partitionHoldBytes = (ceilDiv(writeBytes, bufferBytes) + 3L) * bufferBytes;
        if (partitionHoldBytes > 2L * writeBytes) {
            throw configurationError("%s is too small for spool blocks of %s: sinks need writes of at least %s", writeSize, DataSize.succinctBytes(blockBytes), DataSize.succinctBytes(ceilDiv(partitionHoldBytes, 2)));
        }
        if (writeBytes < limits.minWriteBytes()) {
            throw configurationError("%s is smaller than the smallest write the storage takes, %s", writeSize, DataSize.succinctBytes(limits.minWriteBytes()));
        }
        // a write carries the write size and at most one encoded block more
        if (writeBytes + bufferBytes > limits.maxWriteBytes()) {
            throw configurationError("%s is too large: with one spool block more it exceeds the largest write the storage takes, %s", writeSize, DataSize.succinctBytes(limits.maxWriteBytes()));
        }
        if (limits.writeAlignment() > 1 && (writeBytes % limits.writeAlignment() != 0 || limits.writeAlignment() > bufferBytes)) {
            throw configurationError("%s must be a multiple of %s, the storage's write alignment", writeSize, DataSize.succinctBytes(limits.writeAlignment()));
        }
        // a file's stored bytes exceed its page bytes by its page lengths and block framing: about 1% for pages of a
        // few hundred bytes; a file of tiny pages that needs more writes is rolled over early (see PartitionWriter.add)
        long largestFileBytes = maxFileSize.toBytes() + maxFileSize.toBytes() / 64 + maxPageStorageSize.toBytes() + bufferBytes;
        long writes = ceilDiv(largestFileBytes, writeBytes);
        if (writes > limits.maxWritesPerFile()) {
            throw configurationError(
                    "exchange.sink-max-file-size (%s) needs up to %s writes of %s per spool file, more than the storage takes for one file (%s): raise %s or lower exchange.sink-max-file-size",
                    maxFileSize,
                    writes,
                    writeSize,
                    limits.maxWritesPerFile(),
                    limits.describeWriteBytes());
        }
    }

    @FormatMethod
    private static TrinoException configurationError(@FormatString String format, Object... arguments)
    {
        return new TrinoException(CONFIGURATION_INVALID, "Invalid configuration: " + format.formatted(arguments));
    }

    @Override
    public boolean isHandleUpdateRequired()
    {
        return false;
    }

    @Override
    public void updateHandle(ExchangeSinkInstanceHandle handle)
    {
        throw new UnsupportedOperationException("this sink never asks for a handle update");
    }

    @Override
    public CompletableFuture<Void> isBlocked()
    {
        if (failure.get() != null) {
            return NOT_BLOCKED;
        }
        CompletableFuture<Void> blocked = pool.isBlocked();
        if (!blocked.isDone()) {
            stats.getSinkBlocked().update(1);
        }
        return blocked;
    }

    @Override
    public void add(int partitionId, Slice data)
    {
        throwIfFailed();
        checkArgument(partitionId >= 0 && partitionId < writers.length(), "partition %s is outside 0..%s", partitionId, writers.length() - 1);
        if (PAGE_LENGTH_BYTES + (long) data.length() > maxPageStorageBytes) {
            throw new TrinoException(NOT_SUPPORTED, "Page of %s exceeds the largest page the exchange accepts, %s (exchange.max-page-storage-size, counting a 4-byte length)"
                    .formatted(DataSize.succinctBytes(data.length()), DataSize.succinctBytes(maxPageStorageBytes)));
        }
        if (closed) {
            return;
        }
        PartitionWriter writer = writers.get(partitionId);
        if (writer == null) {
            writers.compareAndSet(partitionId, null, new PartitionWriter(partitionId));
            writer = writers.get(partitionId);
        }
        writer.add(data);
    }

    @Override
    public long getMemoryUsage()
    {
        return pool.allocatedBytes();
    }

    /**
     * What this sink spooled so far; the block counts and buffer waits arrive when it finishes or aborts.
     */
    @Override
    public Optional<Metrics> getMetrics()
    {
        return Optional.of(metrics.snapshot());
    }

    /**
     * The most memory this sink has held at once.
     */
    public long getPeakMemoryUsage()
    {
        return pool.peakAllocatedBytes();
    }

    /**
     * The byte budget of this sink's buffer pool.
     */
    public long getMemoryBudget()
    {
        return pool.budgetBytes();
    }

    @Override
    public synchronized CompletableFuture<Void> finish()
    {
        if (closed) {
            return CompletableFuture.failedFuture(new IllegalStateException("sink is already closed"));
        }
        closed = true;
        Span span = tracer.spanBuilder("spoolex.sink.finish")
                .setAttribute(SpoolTracing.EXCHANGE, handle.exchangeId().toString())
                .setAttribute(SpoolTracing.TASK_PARTITION, handle.taskPartitionId())
                .setAttribute(SpoolTracing.ATTEMPT, handle.attemptId())
                .setAttribute(SpoolTracing.STORAGE, handle.attemptDirectory().getScheme())
                .startSpan();
        CompletableFuture<Void> finished = finishWriting();
        var _ = finished.whenComplete((_, thrown) -> {
            span.setAttribute(SpoolTracing.FILES, metrics.count(SpoolMetrics.FILES));
            span.setAttribute(SpoolTracing.PAGE_BYTES, metrics.count(SpoolMetrics.PAGE_BYTES));
            span.setAttribute(SpoolTracing.STORED_BYTES, metrics.count(SpoolMetrics.STORED_BYTES));
            SpoolTracing.end(span, thrown);
        });
        return finished;
    }

    @GuardedBy("this")
    private CompletableFuture<Void> finishWriting()
    {
        Throwable failed = failure.get();
        if (failed != null) {
            return releaseMemoryThen(discardThenFail(failed));
        }
        try {
            for (int partition = 0; partition < writers.length(); partition++) {
                PartitionWriter writer = writers.get(partition);
                if (writer != null) {
                    writer.closeFile();
                }
            }
        }
        catch (Throwable t) {
            recordFailure(t);
            return releaseMemoryThen(discardThenFail(t));
        }
        ListenableFuture<Void> committed = Futures.transformAsync(
                Futures.allAsList(fileFutures),
                _ -> commit(),
                directExecutor());
        ListenableFuture<Void> result = Futures.catchingAsync(committed, Throwable.class, t -> {
            stats.getSinkFailures().update(1);
            return discardThenFail(t);
        }, directExecutor());
        return releaseMemoryThen(result);
    }

    private synchronized ListenableFuture<Void> commit()
    {
        AttemptManifest manifest = new AttemptManifest(handle.exchangeId(), handle.taskPartitionId(), handle.attemptId(), ImmutableList.copyOf(committedFiles));
        ListenableFuture<Void> written = storage.putFile(SpoolLayout.manifest(handle.attemptDirectory()), List.of(manifest.serialize(handle.key(), random)));
        addExceptionCallback(written, this::storageFailed);
        return Futures.transform(written, _ -> {
            stats.getSinksFinished().update(1);
            health.committed();
            return null;
        }, directExecutor());
    }

    @Override
    public synchronized CompletableFuture<Void> abort()
    {
        if (closed) {
            // finish() is running or done: a failed finish cleans up itself, a successful one is the engine's to ignore
            return NOT_BLOCKED;
        }
        closed = true;
        stats.getSinksAborted().update(1);
        return releaseMemoryThen(discard());
    }

    /**
     * Discards the attempt's files, then fails with {@code failure}, the error the task fails with: a failure of the
     * cleanup's first round is added to it as suppressed, never reported instead of it.
     */
    private ListenableFuture<Void> discardThenFail(Throwable failure)
    {
        ListenableFuture<Void> discarded = Futures.catching(discard(), Throwable.class, cleanupFailure -> {
            if (cleanupFailure != failure) {
                failure.addSuppressed(cleanupFailure);
            }
            return null;
        }, directExecutor());
        return Futures.transformAsync(discarded, _ -> immediateFailedFuture(failure), directExecutor());
    }

    /**
     * Completes with {@code future}, after the pool has let go of its buffers (so the engine sees the memory freed).
     */
    private CompletableFuture<Void> releaseMemoryThen(ListenableFuture<Void> future)
    {
        CompletableFuture<Void> result = new CompletableFuture<>();
        future.addListener(() -> {
            pool.close();
            stats.getSinkBufferWaits().update(pool.waits());
            stats.getBlocksCompressed().update(compression.compressedBlocks());
            stats.getBlocksStoredRaw().update(compression.rawBlocks() + compression.notTriedBlocks());
            stats.getBlocksNotTried().update(compression.notTriedBlocks());
            metrics.add(SpoolMetrics.BUFFER_WAITS, pool.waits());
            metrics.add(SpoolMetrics.BLOCKS_COMPRESSED, compression.compressedBlocks());
            metrics.add(SpoolMetrics.BLOCKS_RAW, compression.rawBlocks() + compression.notTriedBlocks());
            try {
                Futures.getDone(future);
                result.complete(null);
            }
            catch (ExecutionException e) {
                result.completeExceptionally(e.getCause());
            }
            catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        }, directExecutor());
        return result;
    }

    /**
     * Abandons every file and deletes the attempt's directory, once writes in flight have settled (a write landing
     * after the delete would leave an orphan behind). When every write and every writer's abort succeeded, the files
     * this sink started (and its manifest, in case a failed commit landed all the same) are all that can be there, so
     * they are deleted by name, with no listing; otherwise an upload may be left open, and the directory is listed.
     * Completes with the delete's first round; if that leaves the directory behind, the cleaner tries again in the
     * background (and the exchange's close deletes it too).
     */
    private synchronized ListenableFuture<Void> discard()
    {
        discarding = true;
        // abort the writers first: once aborted, a writer starts no more files, so the list below is complete
        List<ListenableFuture<Void>> pending = new ArrayList<>();
        for (int partition = 0; partition < writers.length(); partition++) {
            PartitionWriter writer = writers.get(partition);
            if (writer != null) {
                pending.add(writer.abort());
            }
        }
        pending.addAll(fileFutures);
        return Futures.whenAllComplete(pending).callAsync(() -> {
            URI directory = handle.attemptDirectory();
            SpoolDirectoryContents contents = pending.stream().allMatch(SpoolexSink::succeeded)
                    ? new SpoolDirectoryContents(directory, startedFiles(), ImmutableList.of())
                    : SpoolDirectoryContents.unknown(directory);
            return cleaner.deleteContents("task attempt " + directory, ImmutableList.of(contents));
        }, directExecutor());
    }

    /**
     * Every file this sink started, and its manifest.
     */
    private List<URI> startedFiles()
    {
        ImmutableList.Builder<URI> files = ImmutableList.builder();
        for (int partition = 0; partition < writers.length(); partition++) {
            PartitionWriter writer = writers.get(partition);
            if (writer != null) {
                int started = writer.filesStarted();
                for (int sequence = 0; sequence < started; sequence++) {
                    files.add(SpoolLayout.dataFile(handle.attemptDirectory(), partition, sequence));
                }
            }
        }
        files.add(SpoolLayout.manifest(handle.attemptDirectory()));
        return files.build();
    }

    private static boolean succeeded(ListenableFuture<?> future)
    {
        try {
            Futures.getDone(future);
            return true;
        }
        catch (ExecutionException | RuntimeException _) {
            return false;
        }
    }

    private void throwIfFailed()
    {
        Throwable throwable = failure.get();
        if (throwable != null) {
            throwIfUnchecked(throwable);
            throw new RuntimeException(throwable);
        }
    }

    /**
     * A storage request failed: the base directory's health hears of it (the coordinator does not: it sees the task
     * fail, for any reason), unless the sink is discarding its files, whose requests in flight may fail for that.
     */
    private void storageFailed(Throwable t)
    {
        if (!discarding) {
            health.writeFailed(t);
        }
    }

    private void recordFailure(Throwable t)
    {
        if (failure.compareAndSet(null, t)) {
            pool.wakeUp();
        }
    }

    /**
     * The files of one output partition. Guarded by its own lock so that drivers writing different partitions
     * encode their blocks in parallel.
     */
    private final class PartitionWriter
    {
        private final int partition;

        @GuardedBy("this")
        private int sequence = -1;
        @GuardedBy("this")
        private SpoolFileEncoder encoder;
        @GuardedBy("this")
        private URI file;
        @GuardedBy("this")
        private SpoolFileWriter streamingWriter;
        @GuardedBy("this")
        private long fileDataBytes;
        @GuardedBy("this")
        private long fileStartEpochNanos;
        @GuardedBy("this")
        private int fileWrites;
        @GuardedBy("this")
        private byte[] raw;
        @GuardedBy("this")
        private int rawLength;
        @GuardedBy("this")
        private final List<byte[]> encoded = new ArrayList<>();
        @GuardedBy("this")
        private final List<Slice> encodedSlices = new ArrayList<>();
        @GuardedBy("this")
        private int encodedBytes;
        @GuardedBy("this")
        private int lastBufferLength;
        @GuardedBy("this")
        private boolean aborted;

        PartitionWriter(int partition)
        {
            this.partition = partition;
        }

        synchronized void add(Slice data)
        {
            // closed is set before abort() visits the writers, so checking it under this lock closes the race
            // between a late add() and abort()
            if (aborted || closed) {
                return;
            }
            int length = data.length();
            if (encoder != null && fileDataBytes > 0 && (fileDataBytes + length > maxFileDataBytes || !pageFitsWriteCount(length))) {
                closeFile();
            }
            if (encoder == null) {
                openFile();
            }
            if (raw == null) {
                raw = pool.take();
            }
            if (PAGE_LENGTH_BYTES + length <= blockBytes) {
                if (rawLength + PAGE_LENGTH_BYTES + length > blockBytes) {
                    // end the block early rather than split a page that fits a block of its own: a page inside one
                    // block is handed to the engine as a view of the decoded block
                    encodeRawBlock();
                }
                SpoolFileFormat.putPageLength(raw, rawLength, length);
                rawLength += PAGE_LENGTH_BYTES;
                append(data.byteArray(), data.byteArrayOffset(), length);
            }
            else {
                // a page larger than a block: its length ends the current block and its bytes fill blocks that hold
                // nothing else, the last one ending with the page, so a reader decodes those blocks straight into
                // the page's array (no block buffers, no copies)
                if (blockBytes - rawLength < PAGE_LENGTH_BYTES) {
                    encodeRawBlock();
                }
                SpoolFileFormat.putPageLength(raw, rawLength, length);
                rawLength += PAGE_LENGTH_BYTES;
                encodeRawBlock();
                append(data.byteArray(), data.byteArrayOffset(), length);
                if (rawLength > 0) {
                    encodeRawBlock();
                }
            }
            fileDataBytes += length;
        }

        /**
         * Whether the file's remaining writes can take a page of this length, its block framing and the file's last
         * write. Only files of very many tiny pages come near the storage's limit within exchange.sink-max-file-size.
         */
        @GuardedBy("this")
        private boolean pageFitsWriteCount(int length)
        {
            long bytes = encodedBytes + (long) length + length / 64 + 2L * pool.bufferBytes();
            return fileWrites + ceilDiv(bytes, writeBufferBytes) + 1 < maxWritesPerFile;
        }

        @GuardedBy("this")
        private void append(byte[] source, int offset, int length)
        {
            while (length > 0) {
                if (rawLength == 0 && length >= blockBytes) {
                    // a whole block straight from the page: no copy into the raw buffer
                    encodeBlock(source, offset, blockBytes);
                    offset += blockBytes;
                    length -= blockBytes;
                    continue;
                }
                if (raw == null) {
                    raw = pool.take();
                }
                int chunk = min(blockBytes - rawLength, length);
                System.arraycopy(source, offset, raw, rawLength, chunk);
                rawLength += chunk;
                offset += chunk;
                length -= chunk;
                if (rawLength == blockBytes) {
                    encodeRawBlock();
                }
            }
        }

        @GuardedBy("this")
        private void openFile()
        {
            sequence++;
            SpoolFileId fileId = new SpoolFileId(handle.exchangeId(), handle.taskPartitionId(), handle.attemptId(), partition, sequence);
            // compression scratch comes out of the pool, lent for one block: shared by all partitions, counted in the budget
            encoder = new SpoolFileEncoder(fileId, handle.key(), codec, compression, random, pool);
            file = SpoolLayout.dataFile(handle.attemptDirectory(), partition, sequence);
            fileDataBytes = 0;
            fileStartEpochNanos = SpoolTracing.nowEpochNanos();
        }

        @GuardedBy("this")
        private void encodeRawBlock()
        {
            encodeBlock(raw, 0, rawLength);
            rawLength = 0;
        }

        /**
         * Encodes a block into a fresh pool buffer, then packs it onto the end of the partition's last buffer. Encoded
         * blocks are often far smaller than a buffer (LZ4 shrinks TPC-H pages to a third or less); kept one per
         * buffer, the blocks waiting for a full write buffer would take several times their size from the pool, and
         * the waiting blocks of all partitions could fill it with no write in flight to free it: the sink would block
         * forever. Packed, a partition waits with at most a write buffer's worth of buffers, which the pool's budget
         * (at least two write buffers per partition) always leaves room for. Copying the compressed bytes once costs
         * little next to compressing and sealing them.
         */
        @GuardedBy("this")
        private void encodeBlock(byte[] source, int offset, int length)
        {
            byte[] buffer = pool.take();
            int written = 0;
            if (encoder.blockCount() == 0) {
                written += encoder.writeHeader(buffer, 0);
            }
            long cpuStart = SpoolMetrics.currentThreadCpuNanos();
            written += encoder.encodeBlock(source, offset, length, buffer, written);
            metrics.addNanos(SpoolMetrics.CODEC_CPU_TIME, SpoolMetrics.currentThreadCpuNanos() - cpuStart);
            encodedBytes += written;
            int moved = 0;
            if (!encoded.isEmpty()) {
                byte[] last = encoded.getLast();
                moved = min(last.length - lastBufferLength, written);
                System.arraycopy(buffer, 0, last, lastBufferLength, moved);
                lastBufferLength += moved;
                encodedSlices.set(encodedSlices.size() - 1, Slices.wrappedBuffer(last, 0, lastBufferLength));
            }
            if (moved == written) {
                pool.release(buffer);
            }
            else {
                // what did not fit moves to the front of its own buffer, which becomes the last one
                System.arraycopy(buffer, moved, buffer, 0, written - moved);
                encoded.add(buffer);
                encodedSlices.add(Slices.wrappedBuffer(buffer, 0, written - moved));
                lastBufferLength = written - moved;
            }
            if (encodedBytes >= writeBufferBytes) {
                if (streamingWriter == null) {
                    streamingWriter = storage.createFile(file);
                }
                int tail = encodedBytes % writeAlignment;
                byte[] carry = tail > 0 ? cutTail(tail) : null;
                ListenableFuture<Void> write = streamingWriter.write(ImmutableList.copyOf(encodedSlices));
                fileWrites++;
                releaseWhenDone(write);
                if (carry != null) {
                    encoded.add(carry);
                    encodedSlices.add(Slices.wrappedBuffer(carry, 0, tail));
                    encodedBytes = tail;
                    lastBufferLength = tail;
                }
            }
        }

        /**
         * Cuts the bytes beyond the last multiple of the storage's write alignment off the write about to go out and
         * returns them at the front of a buffer of their own: the next write starts with them. The tail is shorter
         * than the alignment, which is at most one buffer (checkStorageLimits).
         */
        @GuardedBy("this")
        private byte[] cutTail(int tail)
        {
            byte[] carry = pool.take();
            int remaining = tail;
            for (int index = encodedSlices.size() - 1; remaining > 0; index--) {
                Slice slice = encodedSlices.get(index);
                int moved = min(remaining, slice.length());
                remaining -= moved;
                System.arraycopy(slice.byteArray(), slice.byteArrayOffset() + slice.length() - moved, carry, remaining, moved);
                encodedSlices.set(index, slice.slice(0, slice.length() - moved));
            }
            encodedSlices.removeIf(slice -> slice.length() == 0);
            return carry;
        }

        /**
         * Ends the current file: last block, trailer, and the final write.
         */
        synchronized void closeFile()
        {
            if (encoder == null || aborted) {
                return;
            }
            if (rawLength > 0) {
                encodeRawBlock();
            }
            if (raw != null) {
                pool.release(raw);
                raw = null;
            }
            byte[] last = encoded.isEmpty() ? null : encoded.getLast();
            if (last == null || last.length - lastBufferLength < SpoolFileFormat.trailerBytes(encoder.isEncrypted())) {
                // everything already went out in full write buffers, or the last buffer is packed full: the trailer
                // gets a buffer of its own
                last = pool.take();
                encoded.add(last);
                encodedSlices.add(Slices.EMPTY_SLICE);
                lastBufferLength = 0;
            }
            int trailer = encoder.writeTrailer(last, lastBufferLength);
            encodedSlices.set(encodedSlices.size() - 1, Slices.wrappedBuffer(last, 0, lastBufferLength + trailer));
            encodedBytes += trailer;

            ListenableFuture<Void> done;
            if (streamingWriter == null) {
                done = storage.putFile(file, ImmutableList.copyOf(encodedSlices));
                releaseWhenDone(done);
            }
            else {
                ListenableFuture<Void> write = streamingWriter.write(ImmutableList.copyOf(encodedSlices));
                releaseWhenDone(write);
                SpoolFileWriter writer = streamingWriter;
                done = Futures.transformAsync(write, _ -> writer.finish(), directExecutor());
            }
            AttemptManifest.File committed = new AttemptManifest.File(partition, sequence, encoder.fileBytes(), fileDataBytes, encoder.fileChecksum());
            long fileBytes = encoder.fileBytes();
            long pageBytes = fileDataBytes;
            // from the file's first block to its last byte in storage
            Span span = tracer.spanBuilder("spoolex.file.write")
                    .setStartTimestamp(fileStartEpochNanos, NANOSECONDS)
                    .setAttribute(SpoolTracing.FILE, file.toString())
                    .setAttribute(SpoolTracing.OUTPUT_PARTITION, partition)
                    .setAttribute(SpoolTracing.PAGE_BYTES, pageBytes)
                    .setAttribute(SpoolTracing.STORED_BYTES, fileBytes)
                    .startSpan();
            ListenableFuture<Void> stored = done;
            stored.addListener(() -> SpoolTracing.end(span, stored), directExecutor());
            done = Futures.transform(done, _ -> {
                committedFiles.add(committed);
                stats.getFilesWritten().update(1);
                stats.getSinkPageBytes().update(pageBytes);
                stats.getSinkStorageBytes().update(fileBytes);
                stats.getFileStorageBytes().add(fileBytes);
                metrics.add(SpoolMetrics.FILES, 1);
                metrics.add(SpoolMetrics.PAGE_BYTES, pageBytes);
                metrics.add(SpoolMetrics.STORED_BYTES, fileBytes);
                return null;
            }, directExecutor());
            addExceptionCallback(done, SpoolexSink.this::storageFailed);
            addExceptionCallback(done, SpoolexSink.this::recordFailure);
            fileFutures.add(done);
            encoder = null;
            streamingWriter = null;
            file = null;
            fileWrites = 0;
        }

        @GuardedBy("this")
        private void releaseWhenDone(ListenableFuture<Void> write)
        {
            List<byte[]> buffers = ImmutableList.copyOf(encoded);
            encoded.clear();
            encodedSlices.clear();
            encodedBytes = 0;
            lastBufferLength = 0;
            long start = System.nanoTime();
            write.addListener(() -> {
                metrics.add(SpoolMetrics.STORAGE_REQUESTS, 1);
                metrics.addNanos(SpoolMetrics.STORAGE_TIME, System.nanoTime() - start);
                buffers.forEach(pool::release);
            }, directExecutor());
            addExceptionCallback(write, SpoolexSink.this::storageFailed);
            addExceptionCallback(write, SpoolexSink.this::recordFailure);
        }

        /**
         * Files of this partition opened so far; their names are sequences 0 to this less one.
         */
        synchronized int filesStarted()
        {
            return sequence + 1;
        }

        /**
         * Abandons the file being written; returns when its writes in flight have settled.
         */
        synchronized ListenableFuture<Void> abort()
        {
            if (aborted) {
                return immediateVoidFuture();
            }
            aborted = true;
            encoded.forEach(pool::release);
            encoded.clear();
            encodedSlices.clear();
            if (raw != null) {
                pool.release(raw);
                raw = null;
            }
            if (streamingWriter != null) {
                ListenableFuture<Void> aborting = streamingWriter.abort();
                streamingWriter = null;
                return aborting;
            }
            return immediateVoidFuture();
        }
    }
}
