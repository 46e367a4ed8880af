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

import com.google.common.util.concurrent.ListenableFuture;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.spoolex.format.ExchangeKey;
import io.spoolex.format.PageAssembler;
import io.spoolex.format.SpoolFileDecoder;
import io.spoolex.format.SpoolFileId;
import io.spoolex.metrics.SpoolMetrics;
import io.spoolex.metrics.SpoolTracing;
import io.spoolex.metrics.SpoolexStats;
import io.spoolex.storage.SpoolFileReader;
import io.spoolex.storage.SpoolStorage;

import java.net.URI;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;

import static com.google.common.base.Throwables.throwIfUnchecked;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static java.util.Objects.requireNonNull;

/**
 * Reads a list of spool files one after another, in order, keeping ranged reads in flight ahead of the one being
 * decoded so that {@link #poll()} rarely finds nothing ready. Decoding happens in {@link #poll()}, on the engine's
 * thread that reads the pages. Reads land in buffers of the source's {@link ReadBufferPool}, each returned as soon as
 * its chunk is decoded. Not thread-safe: the owning source serializes calls.
 */
final class SpoolFileChainReader
{
    private static final int MAX_READS_IN_FLIGHT = 8;

    record SourceFile(URI location, SpoolFileId id, Optional<ExchangeKey> key, long fileBytes, long dataBytes, int checksum) {}

    private record FileState(SourceFile file, SpoolFileReader reader, SpoolFileDecoder decoder, PageAssembler assembler, Span span) {}

    private record Chunk(FileState file, ListenableFuture<Void> read, Slice data, boolean lastOfFile) {}

    private final SpoolStorage storage;
    private final SpoolexStats stats;
    private final SpoolMetrics metrics;
    private final Tracer tracer;
    private final int maxPageBytes;
    private final int readBytes;
    private final long readAheadBytes;

    private final Deque<SourceFile> filesToOpen;
    private final Deque<Chunk> inFlight = new ArrayDeque<>();
    private final Deque<Slice> pages = new ArrayDeque<>();
    private final ReadBufferPool buffers;
    private FileState requesting;
    private long requestOffset;
    private long inFlightBytes;
    private long pageBytes;
    private boolean closed;

    SpoolFileChainReader(SpoolStorage storage, SpoolexStats stats, SpoolMetrics metrics, Tracer tracer, ReadBufferPool buffers, List<SourceFile> files, int maxPageBytes, int readBytes)
    {
        this.storage = requireNonNull(storage, "storage is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.metrics = requireNonNull(metrics, "metrics is null");
        this.tracer = requireNonNull(tracer, "tracer is null");
        this.buffers = requireNonNull(buffers, "buffers is null");
        this.filesToOpen = new ArrayDeque<>(files);
        this.maxPageBytes = maxPageBytes;
        this.readBytes = readBytes;
        this.readAheadBytes = 2L * readBytes;
        requestMore();
    }

    /**
     * The next page, or null if none is decoded and the next read is not back yet.
     */
    Slice poll()
    {
        while (pages.isEmpty() && !inFlight.isEmpty() && inFlight.peekFirst().read().isDone()) {
            Chunk chunk = inFlight.pollFirst();
            Slice data = chunk.data();
            inFlightBytes -= data.length();
            getDone(chunk.read());
            // the next read goes out before this chunk is decoded; it takes a buffer of its own
            requestMore();
            FileState file = chunk.file();
            stats.getSourceStorageBytes().update(data.length());
            metrics.add(SpoolMetrics.STORED_BYTES, data.length());
            long cpuStart = SpoolMetrics.currentThreadCpuNanos();
            file.decoder().decode(data, file.assembler());
            metrics.addNanos(SpoolMetrics.CODEC_CPU_TIME, SpoolMetrics.currentThreadCpuNanos() - cpuStart);
            buffers.release(data.byteArray());
            if (chunk.lastOfFile()) {
                file.decoder().finish();
                file.assembler().finish();
                file.reader().close();
                file.span().end();
                stats.getFilesRead().update(1);
                long filePageBytes = file.decoder().rawBytes() - file.assembler().pages() * Integer.BYTES;
                stats.getSourcePageBytes().update(filePageBytes);
                metrics.add(SpoolMetrics.FILES, 1);
                metrics.add(SpoolMetrics.PAGE_BYTES, filePageBytes);
            }
        }
        Slice page = pages.pollFirst();
        if (page != null) {
            pageBytes -= page.length();
        }
        return page;
    }

    /**
     * True when a {@link #poll()} would make progress.
     */
    boolean isReady()
    {
        return !pages.isEmpty() || (!inFlight.isEmpty() && inFlight.peekFirst().read().isDone());
    }

    /**
     * The read the reader waits for, or null if it waits for nothing.
     */
    ListenableFuture<Void> nextRead()
    {
        return inFlight.isEmpty() ? null : inFlight.peekFirst().read();
    }

    boolean isFinished()
    {
        return pages.isEmpty() && inFlight.isEmpty() && requesting == null && filesToOpen.isEmpty();
    }

    /**
     * Bytes of decoded pages not yet taken (the read buffers are the pool's).
     */
    long retainedBytes()
    {
        return pageBytes;
    }

    void close()
    {
        if (closed) {
            return;
        }
        closed = true;
        pages.clear();
        pageBytes = 0;
        for (Chunk chunk : inFlight) {
            chunk.file().reader().close();
            // a file left before its end (the engine stopped reading): its span ends here; ending one twice is a no-op
            chunk.file().span().end();
            // a cancelled transfer may still write to the buffer: it is not reused
            buffers.abandon(chunk.data().byteArray());
        }
        inFlight.clear();
        inFlightBytes = 0;
        if (requesting != null) {
            requesting.reader().close();
            requesting.span().end();
            requesting = null;
        }
        filesToOpen.clear();
    }

    private void addPage(Slice page)
    {
        pages.addLast(page);
        pageBytes += page.length();
    }

    private void requestMore()
    {
        while (!closed && inFlight.size() < MAX_READS_IN_FLIGHT && inFlightBytes < readAheadBytes) {
            if (requesting == null) {
                SourceFile next = filesToOpen.pollFirst();
                if (next == null) {
                    return;
                }
                String name = next.location().toString();
                requesting = new FileState(
                        next,
                        storage.openFile(next.location(), next.fileBytes()),
                        new SpoolFileDecoder(name, next.id(), next.key(), next.fileBytes(), next.checksum()),
                        new PageAssembler(name, maxPageBytes, this::addPage),
                        tracer.spanBuilder("spoolex.file.read")
                                .setAttribute(SpoolTracing.FILE, name)
                                .setAttribute(SpoolTracing.STORED_BYTES, next.fileBytes())
                                .startSpan());
                requestOffset = 0;
            }
            long remaining = requesting.file().fileBytes() - requestOffset;
            // a short tail rides along with the read before it: one request fewer per file, and some stores
            // (S3Proxy's filesystem store among them) read a file from its start to serve a range at an offset
            int length = (int) (remaining <= readBytes + readBytes / 2 ? remaining : readBytes);
            boolean last = requestOffset + length == requesting.file().fileBytes();
            Slice target = Slices.wrappedBuffer(buffers.take(length), 0, length);
            long start = System.nanoTime();
            ListenableFuture<Void> read = requesting.reader().read(requestOffset, target);
            read.addListener(() -> {
                metrics.add(SpoolMetrics.STORAGE_REQUESTS, 1);
                metrics.addNanos(SpoolMetrics.STORAGE_TIME, System.nanoTime() - start);
            }, directExecutor());
            inFlight.addLast(new Chunk(requesting, read, target, last));
            inFlightBytes += length;
            requestOffset += length;
            if (last) {
                requesting = null;
            }
        }
    }

    private static void getDone(ListenableFuture<Void> future)
    {
        try {
            future.get();
        }
        catch (ExecutionException e) {
            throwIfUnchecked(e.getCause());
            throw new RuntimeException(e.getCause());
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }
}
