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
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.slice.Slice;
import io.opentelemetry.api.trace.Tracer;
import io.spoolex.exchange.SpoolFileChainReader.SourceFile;
import io.spoolex.exchange.SpoolexSourceHandle.AttemptFiles;
import io.spoolex.exchange.SpoolexSourceHandle.FileRef;
import io.spoolex.format.SpoolFileId;
import io.spoolex.metrics.SpoolMetrics;
import io.spoolex.metrics.SpoolexStats;
import io.spoolex.storage.SpoolStorage;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.ExchangeId;
import io.trino.spi.exchange.ExchangeSource;
import io.trino.spi.exchange.ExchangeSourceHandle;
import io.trino.spi.exchange.ExchangeSourceOutputSelector;
import io.trino.spi.metrics.Metrics;

import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.spoolex.SpoolexErrorCode.SPOOL_FILE_CORRUPTED;
import static io.spoolex.exchange.ExchangeFutures.NOT_BLOCKED;
import static io.trino.spi.StandardErrorCode.GENERIC_INTERNAL_ERROR;
import static java.util.Objects.requireNonNull;

/**
 * Reads the spool files of the source handles given to one task. A file is read only once the engine's output
 * selector includes the attempt that wrote it; at most {@code exchange.source-concurrent-readers} readers run at
 * once, each over one large file or up to {@code exchange.source-max-files-per-reader} small ones.
 */
public class SpoolexSource
        implements ExchangeSource
{
    private final SpoolStorage storage;
    private final SpoolexStats stats;
    private final int maxPageBytes;
    private final int concurrentReaders;
    private final int maxFilesPerReader;
    private final int readBytes;
    private final long coalesceBytes;
    @GuardedBy("this")
    private final ReadBufferPool buffers;
    private final SpoolMetrics metrics = SpoolMetrics.forSource();
    private final Tracer tracer;

    @GuardedBy("this")
    private final Deque<Chain> awaitingSelection = new ArrayDeque<>();
    @GuardedBy("this")
    private final Deque<Chain> selected = new ArrayDeque<>();
    @GuardedBy("this")
    private final List<SpoolFileChainReader> readers = new ArrayList<>();
    @GuardedBy("this")
    private ExchangeSourceOutputSelector selector;
    @GuardedBy("this")
    private boolean noMoreHandles;
    @GuardedBy("this")
    private boolean closed;
    @GuardedBy("this")
    private CompletableFuture<Void> stateChanged = new CompletableFuture<>();
    @GuardedBy("this")
    private CompletableFuture<Void> blocked = NOT_BLOCKED;
    @GuardedBy("this")
    private int nextReader;
    @GuardedBy("this")
    private Throwable failure;

    private volatile long memoryBytes;

    /**
     * The files one attempt wrote for one output partition: read in order, by one reader.
     */
    private record Chain(ExchangeId exchangeId, int taskPartitionId, int attemptId, List<SourceFile> files, long fileBytes) {}

    public SpoolexSource(SpoolStorage storage, SpoolexStats stats, int maxPageStorageBytes, int concurrentReaders, int maxFilesPerReader, Tracer tracer)
    {
        this.tracer = requireNonNull(tracer, "tracer is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.maxPageBytes = maxPageStorageBytes - Integer.BYTES;
        this.concurrentReaders = concurrentReaders;
        this.maxFilesPerReader = maxFilesPerReader;
        this.readBytes = storage.readBufferSize();
        this.coalesceBytes = 4L * readBytes;
        // a reader hands a buffer back after each chunk and takes one for its next read: one spare each is enough
        this.buffers = new ReadBufferPool(concurrentReaders);
    }

    @Override
    public void addSourceHandles(List<ExchangeSourceHandle> handles)
    {
        CompletableFuture<Void> changed;
        synchronized (this) {
            if (closed) {
                return;
            }
            for (ExchangeSourceHandle handle : handles) {
                SpoolexSourceHandle source = (SpoolexSourceHandle) handle;
                ExchangeId exchangeId = new ExchangeId(source.exchangeId());
                for (AttemptFiles attempt : source.attempts()) {
                    awaitingSelection.add(chain(source, exchangeId, attempt));
                }
            }
            changed = stateChangedLocked();
        }
        changed.complete(null);
    }

    private static Chain chain(SpoolexSourceHandle handle, ExchangeId exchangeId, AttemptFiles attempt)
    {
        URI directory = URI.create(attempt.directory());
        ImmutableList.Builder<SourceFile> files = ImmutableList.builder();
        long fileBytes = 0;
        for (FileRef file : attempt.files()) {
            SpoolFileId id = new SpoolFileId(handle.exchangeId(), attempt.taskPartitionId(), attempt.attemptId(), handle.partitionId(), file.sequence());
            URI location = SpoolLayout.dataFile(directory, handle.partitionId(), file.sequence());
            files.add(new SourceFile(location, id, handle.key(), file.fileBytes(), file.dataBytes(), file.checksum()));
            fileBytes += file.fileBytes();
        }
        return new Chain(exchangeId, attempt.taskPartitionId(), attempt.attemptId(), files.build(), fileBytes);
    }

    @Override
    public void noMoreSourceHandles()
    {
        CompletableFuture<Void> changed;
        synchronized (this) {
            noMoreHandles = true;
            changed = stateChangedLocked();
        }
        changed.complete(null);
    }

    @Override
    public void setOutputSelector(ExchangeSourceOutputSelector newSelector)
    {
        CompletableFuture<Void> changed;
        synchronized (this) {
            if (selector != null) {
                if (selector.getVersion() >= newSelector.getVersion()) {
                    return;
                }
                selector.checkValidTransition(newSelector);
            }
            selector = newSelector;
            changed = stateChangedLocked();
        }
        changed.complete(null);
    }

    @Override
    public synchronized CompletableFuture<Void> isBlocked()
    {
        if (closed || failure != null) {
            return NOT_BLOCKED;
        }
        if (!blocked.isDone()) {
            return blocked;
        }
        try {
            startReaders();
        }
        catch (RuntimeException e) {
            failure = e;
            return NOT_BLOCKED;
        }
        if (isFinishedLocked()) {
            return NOT_BLOCKED;
        }
        List<ListenableFuture<Void>> reads = new ArrayList<>(readers.size());
        for (SpoolFileChainReader reader : readers) {
            if (reader.isReady() || reader.isFinished()) {
                return NOT_BLOCKED;
            }
            ListenableFuture<Void> read = reader.nextRead();
            if (read != null) {
                reads.add(read);
            }
        }
        CompletableFuture<Void> result = new CompletableFuture<>();
        for (ListenableFuture<Void> read : reads) {
            read.addListener(() -> result.complete(null), directExecutor());
        }
        // new handles, a new selector or close() also end the wait
        var _ = stateChanged.whenComplete((_, _) -> result.complete(null));
        blocked = result;
        return result;
    }

    @Override
    public synchronized boolean isFinished()
    {
        return closed || (failure == null && isFinishedLocked());
    }

    @GuardedBy("this")
    private boolean isFinishedLocked()
    {
        return noMoreHandles && awaitingSelection.isEmpty() && selected.isEmpty() && readers.isEmpty();
    }

    @Override
    public synchronized Slice read()
    {
        if (closed) {
            return null;
        }
        if (failure != null) {
            throw asUnchecked(failure);
        }
        try {
            Slice page = null;
            int count = readers.size();
            for (int i = 0; i < count && page == null; i++) {
                int index = (nextReader + i) % count;
                page = readers.get(index).poll();
                if (page != null) {
                    nextReader = index;
                }
            }
            startReaders();
            updateMemory();
            return page;
        }
        catch (RuntimeException e) {
            failure = e;
            stats.getSourceFailures().update(1);
            if (e instanceof TrinoException trinoException && trinoException.getErrorCode().equals(SPOOL_FILE_CORRUPTED.toErrorCode())) {
                stats.getCorruptFiles().update(1);
            }
            closeReaders();
            throw e;
        }
    }

    /**
     * What this source read so far.
     */
    @Override
    public Optional<Metrics> getMetrics()
    {
        return Optional.of(metrics.snapshot());
    }

    @Override
    public long getMemoryUsage()
    {
        return memoryBytes;
    }

    @Override
    public void close()
    {
        CompletableFuture<Void> changed;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            awaitingSelection.clear();
            selected.clear();
            closeReaders();
            changed = stateChangedLocked();
        }
        changed.complete(null);
    }

    /**
     * Moves chains whose attempt the selector includes to the readable queue, drops excluded ones, then starts
     * readers up to the limit and removes finished ones.
     */
    @GuardedBy("this")
    private void startReaders()
    {
        applySelector();
        readers.removeIf(reader -> {
            if (reader.isFinished()) {
                reader.close();
                return true;
            }
            return false;
        });
        while (readers.size() < concurrentReaders && !selected.isEmpty()) {
            List<SourceFile> files = new ArrayList<>();
            long bytes = 0;
            while (!selected.isEmpty()) {
                Chain next = selected.peekFirst();
                if (!files.isEmpty() && (files.size() + next.files().size() > maxFilesPerReader || bytes + next.fileBytes() > coalesceBytes)) {
                    break;
                }
                selected.pollFirst();
                files.addAll(next.files());
                bytes += next.fileBytes();
            }
            readers.add(new SpoolFileChainReader(storage, stats, metrics, tracer, buffers, files, maxPageBytes, readBytes));
        }
        if (nextReader >= readers.size()) {
            nextReader = 0;
        }
    }

    @GuardedBy("this")
    private void applySelector()
    {
        if (selector == null || awaitingSelection.isEmpty()) {
            return;
        }
        Iterator<Chain> chains = awaitingSelection.iterator();
        while (chains.hasNext()) {
            Chain chain = chains.next();
            switch (selector.getSelection(chain.exchangeId(), chain.taskPartitionId(), chain.attemptId())) {
                case INCLUDED -> {
                    chains.remove();
                    selected.add(chain);
                }
                case EXCLUDED -> {
                    verifyWholePartitionExcluded(chain);
                    chains.remove();
                    stats.getAttemptsSkipped().update(1);
                }
                case UNKNOWN -> {
                    // decided by a later selector
                }
            }
        }
    }

    /**
     * An attempt is excluded either because the engine dropped the whole task partition, which is fine, or because
     * it chose another attempt; the latter means this handle lacks the data the engine expects, and reading on
     * would return wrong rows.
     */
    @GuardedBy("this")
    private void verifyWholePartitionExcluded(Chain chain)
    {
        Slice decisions = selector.getValues().get(chain.exchangeId());
        byte decision = decisions.getByte(chain.taskPartitionId());
        if (decision >= 0) {
            throw new TrinoException(GENERIC_INTERNAL_ERROR, "Exchange %s: the engine selected attempt %s of task partition %s, but this exchange committed attempt %s"
                    .formatted(chain.exchangeId(), decision, chain.taskPartitionId(), chain.attemptId()));
        }
    }

    @GuardedBy("this")
    private void closeReaders()
    {
        readers.forEach(SpoolFileChainReader::close);
        readers.clear();
        memoryBytes = 0;
    }

    @GuardedBy("this")
    private void updateMemory()
    {
        if (readers.isEmpty()) {
            // between handles, or done: nothing to keep buffers for
            buffers.dropFree();
        }
        long bytes = buffers.retainedBytes();
        for (SpoolFileChainReader reader : readers) {
            bytes += reader.retainedBytes();
        }
        memoryBytes = bytes;
    }

    @GuardedBy("this")
    private CompletableFuture<Void> stateChangedLocked()
    {
        CompletableFuture<Void> changed = stateChanged;
        stateChanged = new CompletableFuture<>();
        return changed;
    }

    private static RuntimeException asUnchecked(Throwable throwable)
    {
        if (throwable instanceof RuntimeException runtimeException) {
            return runtimeException;
        }
        if (throwable instanceof Error error) {
            throw error;
        }
        return new RuntimeException(throwable);
    }
}
