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
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.Tracer;
import io.spoolex.exchange.SpoolexSourceHandle.AttemptFiles;
import io.spoolex.exchange.SpoolexSourceHandle.FileRef;
import io.spoolex.format.AttemptManifest;
import io.spoolex.format.ExchangeKey;
import io.spoolex.metrics.SpoolMetrics;
import io.spoolex.metrics.SpoolTracing;
import io.spoolex.metrics.SpoolexStats;
import io.spoolex.storage.SpoolDirectoryContents;
import io.spoolex.storage.SpoolStorage;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeContext;
import io.trino.spi.exchange.ExchangeId;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSinkInstanceHandle;
import io.trino.spi.exchange.ExchangeSourceHandle;
import io.trino.spi.exchange.ExchangeSourceHandleSource;
import io.trino.spi.metrics.Metrics;

import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;

import static com.google.common.base.MoreObjects.toStringHelper;
import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;
import static com.google.common.collect.MoreCollectors.onlyElement;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.AsyncSemaphore.processAll;
import static io.spoolex.SpoolexErrorCode.SPOOL_COMMIT_MISSING;
import static io.spoolex.SpoolexErrorCode.SPOOL_FILE_CORRUPTED;
import static io.spoolex.SpoolexErrorCode.SPOOL_FILE_NOT_FOUND;
import static java.util.Objects.requireNonNull;
import static java.util.concurrent.CompletableFuture.completedFuture;

/**
 * The coordinator's side of one exchange: hands out a directory per task attempt, remembers which attempt of each
 * task partition finished first, reads those attempts' manifests and turns their files into source handles.
 * <p>
 * Placement is per attempt, not per task partition: each attempt goes to a base directory of its own choosing
 * ({@link #chooseBaseDirectory}), and everything that needs an attempt's files later (its manifest's read, the source
 * handles, which carry the directory to the workers, and the cleanup) looks up where that attempt was placed. So a
 * retry can go elsewhere than the attempt it replaces, and attempts avoid base directories this node knows to be
 * unhealthy ({@link StorageHealth}).
 */
public class SpoolexExchange
        implements Exchange
{
    /**
     * Reads of a manifest that arrives damaged before the damage is believed.
     */
    private static final int MANIFEST_READS = 3;

    private final ExchangeContext context;
    private final SpoolStorage storage;
    private final SpoolCleaner cleaner;
    private final SpoolexStats stats;
    private final StorageHealth health;
    private final SpoolMetrics metrics = SpoolMetrics.forExchange();
    private final Tracer tracer;
    private final List<URI> baseDirectories;
    private final int baseDirectoryOffset;
    private final int outputPartitionCount;
    private final boolean preserveOrderWithinPartition;
    private final Optional<ExchangeKey> key;
    private final int manifestReadParallelism;
    private final long sourceHandleTargetDataBytes;
    private final Executor executor;
    private final Runnable onClose;

    private final CompletableFuture<List<ExchangeSourceHandle>> sourceHandles = new CompletableFuture<>();

    // task partition -> base directory index -> the task partition's directory there (made on first use)
    @GuardedBy("this")
    private final Map<Integer, Map<Integer, URI>> taskPartitionDirectories = new TreeMap<>();
    // task partition -> attempt -> the index of the base directory the attempt was placed on, in attempt order
    @GuardedBy("this")
    private final Map<Integer, Map<Integer, Integer>> attemptPlacements = new TreeMap<>();

    @GuardedBy("this")
    private final Map<Integer, Integer> committedAttempts = new TreeMap<>();
    // for cleanup without listing: every attempt handed a directory, every attempt that finished, and the files of
    // each manifest read (a committed attempt's content is exactly its manifest's files and the manifest)
    @GuardedBy("this")
    private final Map<Integer, Set<Integer>> instantiatedAttempts = new TreeMap<>();
    @GuardedBy("this")
    private final Map<Integer, Set<Integer>> finishedAttempts = new TreeMap<>();
    @GuardedBy("this")
    private final Map<Integer, Map<Integer, AttemptManifest>> readManifests = new TreeMap<>();
    @GuardedBy("this")
    private boolean noMoreSinks;
    @GuardedBy("this")
    private boolean sourceHandlesRequested;
    @GuardedBy("this")
    private boolean closed;

    public SpoolexExchange(
            ExchangeContext context,
            SpoolStorage storage,
            SpoolCleaner cleaner,
            SpoolexStats stats,
            StorageHealth health,
            List<URI> baseDirectories,
            int outputPartitionCount,
            boolean preserveOrderWithinPartition,
            Optional<ExchangeKey> key,
            int manifestReadParallelism,
            long sourceHandleTargetDataBytes,
            Executor executor,
            Tracer tracer,
            Runnable onClose)
    {
        this.onClose = requireNonNull(onClose, "onClose is null");
        this.tracer = requireNonNull(tracer, "tracer is null");
        this.context = requireNonNull(context, "context is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.cleaner = requireNonNull(cleaner, "cleaner is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.health = requireNonNull(health, "health is null");
        this.baseDirectories = ImmutableList.copyOf(requireNonNull(baseDirectories, "baseDirectories is null"));
        checkArgument(!baseDirectories.isEmpty(), "no base directories");
        checkArgument(health.directories().size() == baseDirectories.size(), "the health of %s base directories for %s", health.directories().size(), baseDirectories.size());
        // first attempts go round-robin over the base directories by task partition, starting at a random one per
        // exchange so that small exchanges do not all pile onto the first directory
        this.baseDirectoryOffset = ThreadLocalRandom.current().nextInt(baseDirectories.size());
        this.outputPartitionCount = outputPartitionCount;
        this.preserveOrderWithinPartition = preserveOrderWithinPartition;
        this.key = requireNonNull(key, "key is null");
        this.manifestReadParallelism = manifestReadParallelism;
        this.sourceHandleTargetDataBytes = sourceHandleTargetDataBytes;
        this.executor = requireNonNull(executor, "executor is null");
    }

    @Override
    public ExchangeId getId()
    {
        return context.getExchangeId();
    }

    @Override
    public ExchangeSinkHandle addSink(int taskPartitionId)
    {
        // nothing to place yet: each attempt is placed when it is instantiated
        return new SpoolexSinkHandle(taskPartitionId);
    }

    @Override
    public synchronized void noMoreSinks()
    {
        noMoreSinks = true;
    }

    @Override
    public CompletableFuture<ExchangeSinkInstanceHandle> instantiateSink(ExchangeSinkHandle sinkHandle, int taskAttemptId)
    {
        int taskPartitionId = ((SpoolexSinkHandle) sinkHandle).taskPartitionId();
        URI attemptDirectory;
        Optional<Integer> replacedAttemptBase = Optional.empty();
        synchronized (this) {
            Map<Integer, Integer> placements = attemptPlacements.computeIfAbsent(taskPartitionId, _ -> new TreeMap<>());
            Integer base = placements.get(taskAttemptId);
            if (base == null) {
                base = chooseBaseDirectory(taskPartitionId, ImmutableList.copyOf(placements.values()));
                // a later attempt while an earlier one has not finished: that one failed (or is slow); the coordinator
                // never hears why, so the directory it was on is probed now rather than at the next periodic probe
                Set<Integer> finished = finishedAttempts.getOrDefault(taskPartitionId, ImmutableSet.of());
                replacedAttemptBase = placements.entrySet().stream()
                        .filter(placement -> placement.getKey() < taskAttemptId && !finished.contains(placement.getKey()))
                        .reduce((_, last) -> last)
                        .map(Map.Entry::getValue);
                placements.put(taskAttemptId, base);
                health.attemptPlaced(base);
            }
            attemptDirectory = attemptDirectory(taskPartitionId, taskAttemptId);
            instantiatedAttempts.computeIfAbsent(taskPartitionId, _ -> new TreeSet<>()).add(taskAttemptId);
        }
        replacedAttemptBase.ifPresent(health::attemptRetried);
        return completedFuture(new SpoolexSinkInstanceHandle(
                exchangeId(),
                taskPartitionId,
                taskAttemptId,
                attemptDirectory,
                outputPartitionCount,
                preserveOrderWithinPartition,
                key));
    }

    @Override
    public CompletableFuture<ExchangeSinkInstanceHandle> updateSinkInstanceHandle(ExchangeSinkHandle sinkHandle, int taskAttemptId)
    {
        // sinks of this exchange never ask for an update (isHandleUpdateRequired is always false)
        throw new UnsupportedOperationException();
    }

    @Override
    public synchronized void sinkFinished(ExchangeSinkHandle sinkHandle, int taskAttemptId)
    {
        // the first attempt to finish wins; later successful attempts are ignored and deleted with the exchange
        int taskPartitionId = ((SpoolexSinkHandle) sinkHandle).taskPartitionId();
        committedAttempts.putIfAbsent(taskPartitionId, taskAttemptId);
        finishedAttempts.computeIfAbsent(taskPartitionId, _ -> new TreeSet<>()).add(taskAttemptId);
    }

    @Override
    public void allRequiredSinksFinished()
    {
        List<Map.Entry<Integer, Integer>> attempts;
        synchronized (this) {
            if (sourceHandlesRequested || closed) {
                return;
            }
            checkState(noMoreSinks, "allRequiredSinksFinished before noMoreSinks");
            sourceHandlesRequested = true;
            attempts = ImmutableList.copyOf(committedAttempts.entrySet());
        }
        Span span = tracer.spanBuilder("spoolex.exchange.read-manifests")
                .setAttribute(SpoolTracing.EXCHANGE, exchangeId().toString())
                .setAttribute(SpoolTracing.ATTEMPTS, attempts.size())
                .startSpan();
        ListenableFuture<List<AttemptManifest>> manifests = processAll(
                attempts,
                attempt -> readManifest(attempt.getKey(), attempt.getValue()),
                manifestReadParallelism,
                executor);
        Futures.addCallback(manifests, new FutureCallback<>()
        {
            @Override
            public void onSuccess(List<AttemptManifest> result)
            {
                try {
                    List<ExchangeSourceHandle> handles = createSourceHandles(result);
                    span.setAttribute(SpoolTracing.SOURCE_HANDLES, handles.size());
                    span.setAttribute(SpoolTracing.FILES, metrics.count(SpoolMetrics.FILES));
                    span.setAttribute(SpoolTracing.STORED_BYTES, metrics.count(SpoolMetrics.STORED_BYTES));
                    SpoolTracing.end(span, (Throwable) null);
                    sourceHandles.complete(handles);
                }
                catch (Throwable t) {
                    SpoolTracing.end(span, t);
                    sourceHandles.completeExceptionally(t);
                }
            }

            @Override
            public void onFailure(Throwable t)
            {
                SpoolTracing.end(span, t);
                sourceHandles.completeExceptionally(t);
            }
        }, directExecutor());
    }

    private ListenableFuture<AttemptManifest> readManifest(int taskPartitionId, int attemptId)
    {
        return Futures.transform(readManifest(taskPartitionId, attemptId, 1), manifest -> {
            stats.getManifestsRead().update(1);
            metrics.add(SpoolMetrics.ATTEMPTS_COMMITTED, 1);
            synchronized (this) {
                readManifests.computeIfAbsent(taskPartitionId, _ -> new TreeMap<>()).put(attemptId, manifest);
            }
            return manifest;
        }, directExecutor());
    }

    /**
     * Reads a manifest, again if it arrives damaged: the coordinator reads it, and a failure here fails the query,
     * not a task that fault-tolerant execution would retry. A read can be damaged on the way (an answer cut short
     * that still looks complete) while the stored manifest is whole; a manifest damaged in storage fails every read.
     */
    private ListenableFuture<AttemptManifest> readManifest(int taskPartitionId, int attemptId, int read)
    {
        URI location;
        try {
            location = SpoolLayout.manifest(attemptDirectory(taskPartitionId, attemptId));
        }
        catch (RuntimeException e) {
            return Futures.immediateFailedFuture(e);
        }
        long start = System.nanoTime();
        ListenableFuture<AttemptManifest> manifest = Futures.transform(
                storage.getFile(location),
                data -> {
                    metrics.addNanos(SpoolMetrics.STORAGE_TIME, System.nanoTime() - start);
                    return AttemptManifest.deserialize(data, location.toString(), exchangeId(), taskPartitionId, attemptId, key);
                },
                executor);
        return Futures.catchingAsync(manifest, TrinoException.class, e -> {
            if (e.getErrorCode().equals(SPOOL_FILE_NOT_FOUND.toErrorCode())) {
                throw new TrinoException(SPOOL_COMMIT_MISSING, "Attempt %s of task partition %s of exchange %s finished, but its manifest %s is missing"
                        .formatted(attemptId, taskPartitionId, exchangeId(), location), e);
            }
            if (e.getErrorCode().equals(SPOOL_FILE_CORRUPTED.toErrorCode()) && read < MANIFEST_READS) {
                stats.getManifestsReread().update(1);
                return readManifest(taskPartitionId, attemptId, read + 1);
            }
            throw e;
        }, directExecutor());
    }

    /**
     * One or more handles per output partition, each holding about {@code exchange.source-handle-target-data-size}
     * page bytes. When order within partitions must be kept, an attempt's files of a partition stay in one handle.
     */
    private List<ExchangeSourceHandle> createSourceHandles(List<AttemptManifest> manifests)
    {
        // output partition -> the files each attempt wrote for it, in write order
        Map<Integer, List<AttemptFiles>> partitions = new TreeMap<>();
        for (AttemptManifest manifest : manifests) {
            String directory = attemptDirectory(manifest.taskPartitionId(), manifest.attemptId()).toString();
            Map<Integer, List<FileRef>> filesByPartition = new TreeMap<>();
            manifest.files().stream()
                    .sorted(Comparator.comparingInt(AttemptManifest.File::outputPartition).thenComparingInt(AttemptManifest.File::sequence))
                    .forEach(file -> filesByPartition.computeIfAbsent(file.outputPartition(), _ -> new ArrayList<>())
                            .add(new FileRef(file.sequence(), file.fileBytes(), file.dataBytes(), file.checksum())));
            filesByPartition.forEach((partition, files) -> {
                checkState(partition < outputPartitionCount,
                        "manifest of attempt %s of task partition %s names output partition %s of %s",
                        manifest.attemptId(),
                        manifest.taskPartitionId(),
                        partition,
                        outputPartitionCount);
                partitions.computeIfAbsent(partition, _ -> new ArrayList<>())
                        .add(new AttemptFiles(directory, manifest.taskPartitionId(), manifest.attemptId(), files));
            });
        }

        ImmutableList.Builder<ExchangeSourceHandle> handles = ImmutableList.builder();
        partitions.forEach((partition, attempts) -> {
            HandleBuilder handle = new HandleBuilder(partition);
            for (AttemptFiles attempt : attempts) {
                if (preserveOrderWithinPartition) {
                    if (handle.dataBytes > 0 && handle.dataBytes + attempt.dataBytes() > sourceHandleTargetDataBytes) {
                        handles.add(handle.build());
                        handle = new HandleBuilder(partition);
                    }
                    handle.add(attempt.directory(), attempt.taskPartitionId(), attempt.attemptId(), attempt.files());
                    continue;
                }
                for (FileRef file : attempt.files()) {
                    if (handle.dataBytes > 0 && handle.dataBytes + file.dataBytes() > sourceHandleTargetDataBytes) {
                        handles.add(handle.build());
                        handle = new HandleBuilder(partition);
                    }
                    handle.add(attempt.directory(), attempt.taskPartitionId(), attempt.attemptId(), List.of(file));
                }
            }
            if (!handle.isEmpty()) {
                handles.add(handle.build());
            }
        });
        return handles.build();
    }

    private class HandleBuilder
    {
        private final int partition;
        private final List<AttemptFiles> attempts = new ArrayList<>();
        private long dataBytes;

        HandleBuilder(int partition)
        {
            this.partition = partition;
        }

        void add(String directory, int taskPartitionId, int attemptId, List<FileRef> files)
        {
            AttemptFiles last = attempts.isEmpty() ? null : attempts.getLast();
            if (last != null && last.taskPartitionId() == taskPartitionId && last.attemptId() == attemptId) {
                attempts.set(attempts.size() - 1, new AttemptFiles(directory, taskPartitionId, attemptId, ImmutableList.<FileRef>builder().addAll(last.files()).addAll(files).build()));
            }
            else {
                attempts.add(new AttemptFiles(directory, taskPartitionId, attemptId, files));
            }
            for (FileRef file : files) {
                dataBytes += file.dataBytes();
            }
        }

        boolean isEmpty()
        {
            return attempts.isEmpty();
        }

        SpoolexSourceHandle build()
        {
            metrics.add(SpoolMetrics.SOURCE_HANDLES, 1);
            for (AttemptFiles attempt : attempts) {
                metrics.add(SpoolMetrics.FILES, attempt.files().size());
                attempt.files().forEach(file -> metrics.add(SpoolMetrics.STORED_BYTES, file.fileBytes()));
            }
            return new SpoolexSourceHandle(exchangeId(), partition, key, attempts);
        }
    }

    @Override
    public Metrics getMetrics()
    {
        return metrics.snapshot();
    }

    @Override
    public ExchangeSourceHandleSource getSourceHandles()
    {
        return new ExchangeSourceHandleSource()
        {
            @Override
            public CompletableFuture<ExchangeSourceHandleBatch> getNextBatch()
            {
                return sourceHandles.thenApply(handles -> new ExchangeSourceHandleBatch(handles, true));
            }

            @Override
            public void close() {}
        };
    }

    @Override
    public void close()
    {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        sourceHandles.completeExceptionally(new IllegalStateException("exchange %s is closed".formatted(exchangeId())));
        stats.getExchangesClosed().update(1);
        onClose.run();
        synchronized (this) {
            if (taskPartitionDirectories.isEmpty()) {
                return;
            }
        }
        String owner = "exchange %s of query %s".formatted(exchangeId(), context.getQueryId());
        // in the background, retried until it succeeds or exchange.cleanup-retry-time passes (then logged and counted):
        // the query's result does not depend on it
        // (spoolContents never fails: a manifest that cannot be read makes its attempt a directory to list)
        var _ = Futures.transformAsync(spoolContents(), contents -> cleaner.deleteContents(owner, contents), executor);
    }

    /**
     * What each task partition directory holds, as far as this exchange knows without listing: the files of every
     * attempt whose manifest it has read, or reads now (an attempt that finished but whose manifest was not needed),
     * and, as directories to list, the attempts that never committed (failed, aborted, killed, or still running) or
     * whose manifest cannot be read.
     */
    private ListenableFuture<List<SpoolDirectoryContents>> spoolContents()
    {
        Map<Integer, Set<Integer>> attempts = new TreeMap<>();
        Map<Integer, Map<Integer, AttemptManifest>> known = new TreeMap<>();
        // task partition directory -> the attempts placed in it (task partition -> attempts)
        Map<URI, Map<Integer, Set<Integer>>> directories = new TreeMap<>();
        synchronized (this) {
            instantiatedAttempts.forEach((taskPartition, ids) -> attempts.computeIfAbsent(taskPartition, _ -> new TreeSet<>()).addAll(ids));
            finishedAttempts.forEach((taskPartition, ids) -> attempts.computeIfAbsent(taskPartition, _ -> new TreeSet<>()).addAll(ids));
            readManifests.forEach((taskPartition, manifests) -> known.put(taskPartition, new TreeMap<>(manifests)));
            attempts.forEach((taskPartition, ids) -> {
                Map<Integer, Integer> placements = attemptPlacements.getOrDefault(taskPartition, ImmutableMap.of());
                for (int attempt : ids) {
                    if (!placements.containsKey(attempt)) {
                        // reported finished but never instantiated here: it was given no directory
                        continue;
                    }
                    directories.computeIfAbsent(taskPartitionDirectory(taskPartition, attempt), _ -> new TreeMap<>())
                            .computeIfAbsent(taskPartition, _ -> new TreeSet<>())
                            .add(attempt);
                }
            });
        }
        List<ListenableFuture<Void>> reads = new ArrayList<>();
        for (Map.Entry<Integer, Set<Integer>> entry : attempts.entrySet()) {
            int taskPartition = entry.getKey();
            Set<Integer> finished;
            synchronized (this) {
                finished = ImmutableSet.copyOf(finishedAttempts.getOrDefault(taskPartition, ImmutableSet.of()));
            }
            Map<Integer, AttemptManifest> manifests = known.computeIfAbsent(taskPartition, _ -> new TreeMap<>());
            for (int attempt : entry.getValue()) {
                if (finished.contains(attempt) && !manifests.containsKey(attempt)) {
                    reads.add(Futures.catching(Futures.transform(readManifest(taskPartition, attempt, 1), manifest -> {
                        synchronized (manifests) {
                            manifests.put(attempt, manifest);
                        }
                        return null;
                    }, directExecutor()), Throwable.class, _ -> null, directExecutor()));
                }
            }
        }
        return Futures.whenAllComplete(reads).call(() -> {
            ImmutableList.Builder<SpoolDirectoryContents> contents = ImmutableList.builder();
            for (Map.Entry<URI, Map<Integer, Set<Integer>>> entry : directories.entrySet()) {
                URI directory = entry.getKey();
                // one task partition per directory
                Map.Entry<Integer, Set<Integer>> placed = entry.getValue().entrySet().stream().collect(onlyElement());
                Map<Integer, AttemptManifest> manifests = known.getOrDefault(placed.getKey(), ImmutableMap.of());
                ImmutableList.Builder<URI> files = ImmutableList.builder();
                ImmutableList.Builder<URI> unlisted = ImmutableList.builder();
                for (int attempt : placed.getValue()) {
                    URI attemptDirectory = SpoolLayout.attemptDirectory(directory, attempt);
                    AttemptManifest manifest;
                    synchronized (manifests) {
                        manifest = manifests.get(attempt);
                    }
                    if (manifest == null) {
                        unlisted.add(attemptDirectory);
                        continue;
                    }
                    for (AttemptManifest.File file : manifest.files()) {
                        files.add(SpoolLayout.dataFile(attemptDirectory, file.outputPartition(), file.sequence()));
                    }
                    files.add(SpoolLayout.manifest(attemptDirectory));
                }
                contents.add(new SpoolDirectoryContents(directory, files.build(), unlisted.build()));
            }
            return contents.build();
        }, directExecutor());
    }

    /**
     * The base directory for a new attempt of a task partition, given where its earlier attempts went (in attempt
     * order): among the usable directories (all of them if none is), the one this task partition used least recently,
     * never used best, ties going to the first from the partition's round-robin place. So a first attempt takes its
     * round-robin place unless that directory is unhealthy, and a retry goes to another directory than the attempt
     * before it whenever there is another usable one.
     */
    @GuardedBy("this")
    private int chooseBaseDirectory(int taskPartitionId, List<Integer> earlierPlacements)
    {
        int count = baseDirectories.size();
        boolean anyUsable = false;
        for (int index = 0; index < count; index++) {
            anyUsable |= health.isUsable(index);
        }
        int preferred = (baseDirectoryOffset + taskPartitionId) % count;
        int best = -1;
        int bestLastUse = Integer.MAX_VALUE;
        for (int step = 0; step < count; step++) {
            int index = (preferred + step) % count;
            if (anyUsable && !health.isUsable(index)) {
                continue;
            }
            // the later its last use, the higher; never used: -1
            int lastUse = earlierPlacements.lastIndexOf(index);
            if (best < 0 || lastUse < bestLastUse) {
                best = index;
                bestLastUse = lastUse;
            }
        }
        return best;
    }

    /**
     * Where an attempt placed by {@link #instantiateSink} writes.
     */
    private synchronized URI attemptDirectory(int taskPartitionId, int attemptId)
    {
        return SpoolLayout.attemptDirectory(taskPartitionDirectory(taskPartitionId, attemptId), attemptId);
    }

    @GuardedBy("this")
    private URI taskPartitionDirectory(int taskPartitionId, int attemptId)
    {
        Integer base = attemptPlacements.getOrDefault(taskPartitionId, ImmutableMap.of()).get(attemptId);
        checkState(base != null, "attempt %s of task partition %s of exchange %s was never instantiated", attemptId, taskPartitionId, exchangeId());
        return taskPartitionDirectories.computeIfAbsent(taskPartitionId, _ -> new TreeMap<>())
                .computeIfAbsent(base, index -> SpoolLayout.taskPartitionDirectory(
                        baseDirectories.get(index),
                        context.getQueryId().toString(),
                        exchangeId(),
                        taskPartitionId));
    }

    private String exchangeId()
    {
        return context.getExchangeId().getId();
    }

    @Override
    public synchronized String toString()
    {
        return toStringHelper(this)
                .add("exchangeId", exchangeId())
                .add("outputPartitionCount", outputPartitionCount)
                .add("preserveOrderWithinPartition", preserveOrderWithinPartition)
                .add("encrypted", key.isPresent())
                .add("taskPartitions", attemptPlacements.size())
                .add("committedAttempts", committedAttempts.size())
                .toString();
    }
}
