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
import io.airlift.log.Logger;
import io.spoolex.metrics.SpoolexStats;
import io.spoolex.storage.SpoolDirectoryStatus;
import io.spoolex.storage.SpoolFileStatus;
import io.spoolex.storage.SpoolStorage;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.airlift.concurrent.Threads.daemonThreadsNamed;
import static java.util.Objects.requireNonNull;
import static java.util.concurrent.Executors.newSingleThreadScheduledExecutor;

/**
 * Deletes spool data nobody will delete otherwise: task partition directories of exchanges whose coordinator died,
 * or that a worker wrote after the exchange was closed. Runs on the node that creates exchanges (the coordinator),
 * every {@code exchange.cleanup.orphan-sweep-interval}, and per base directory:
 * <ol>
 * <li>lists the top level once, with a delimiter: never a walk of what lies below;</li>
 * <li>keeps only directories named as Spoolex names them ({@code {hex6}.{queryId}.{exchangeId}.{taskPartition}}),
 * so nothing else in a shared base directory is ever looked into or touched;</li>
 * <li>skips those of exchanges open on this node, and those younger than {@code exchange.cleanup.orphan-age} by the
 * time in the query id (Trino's ids begin with the query's creation time, in UTC) or the directory's own time where
 * the storage keeps one; a directory whose age neither tells is never a candidate;</li>
 * <li>lists each remaining candidate and deletes it only if none of its files was written within the age (an
 * exchange of another cluster that still writes is left alone), one directory at a time, at most
 * {@value #DELETES_PER_SECOND} a second.</li>
 * </ol>
 * Counted in JMX ({@code OrphanSweeps}, {@code OrphanDirectoriesFound}, {@code OrphanDirectoriesDeleted},
 * {@code OrphanBytesDeleted}, {@code OrphanFailures}) and logged at INFO once per sweep.
 */
public final class OrphanCollector
        implements AutoCloseable
{
    private static final Logger log = Logger.get(OrphanCollector.class);

    static final Pattern SPOOL_DIRECTORY_NAME = Pattern.compile("[0-9a-f]{6}\\.(?<query>[a-z0-9_]+)\\.(?<exchange>[A-Za-z0-9_-]+)\\.[0-9]+");
    /**
     * Trino's query ids: {@code yyyyMMdd_HHmmss_counter_coordinator}, the time in UTC.
     */
    private static final Pattern TRINO_QUERY_ID = Pattern.compile("(?<time>[0-9]{8}_[0-9]{6})_[0-9]+_[a-z0-9]+");
    private static final DateTimeFormatter QUERY_ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss", Locale.ROOT);
    static final int DELETES_PER_SECOND = 10;
    /**
     * The first sweep after the collector starts: soon, so that a coordinator restarted after a crash removes what
     * its predecessor left once it is old enough, but not during the burst of a server's start.
     */
    private static final Duration FIRST_SWEEP_DELAY = Duration.ofMinutes(1);
    private static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(5);

    private final SpoolStorage storage;
    private final List<URI> baseDirectories;
    private final Duration orphanAge;
    private final Duration sweepInterval;
    private final OpenExchanges openExchanges;
    private final SpoolexStats stats;
    private final Clock clock;

    @GuardedBy("this")
    private ScheduledExecutorService timer;
    @GuardedBy("this")
    private boolean closed;

    /**
     * Which exchanges this node has open, by query and exchange id.
     */
    public interface OpenExchanges
    {
        boolean isOpen(String queryId, String exchangeId);
    }

    public OrphanCollector(SpoolStorage storage, List<URI> baseDirectories, Duration orphanAge, Duration sweepInterval, OpenExchanges openExchanges, SpoolexStats stats, Clock clock)
    {
        this.storage = requireNonNull(storage, "storage is null");
        this.baseDirectories = ImmutableList.copyOf(baseDirectories);
        this.orphanAge = requireNonNull(orphanAge, "orphanAge is null");
        this.sweepInterval = requireNonNull(sweepInterval, "sweepInterval is null");
        this.openExchanges = requireNonNull(openExchanges, "openExchanges is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.clock = requireNonNull(clock, "clock is null");
    }

    /**
     * Starts the sweeps, once; later calls do nothing.
     */
    public synchronized void start()
    {
        if (timer != null || closed) {
            return;
        }
        timer = newSingleThreadScheduledExecutor(daemonThreadsNamed("spoolex-orphan-collector-%s"));
        var _ = timer.scheduleWithFixedDelay(this::sweepQuietly, Math.min(FIRST_SWEEP_DELAY.toMillis(), sweepInterval.toMillis()), sweepInterval.toMillis(), TimeUnit.MILLISECONDS);
        log.info("Orphan collector started: every %s, deletes Spoolex spool directories older than %s that belong to no open exchange, below %s", sweepInterval, orphanAge, baseDirectories);
    }

    private void sweepQuietly()
    {
        try {
            sweep();
        }
        catch (RuntimeException e) {
            // a sweep that fails must not end the schedule
            stats.getOrphanFailures().update(1);
            log.warn(e, "Orphan sweep failed");
        }
    }

    /**
     * One sweep over every base directory, on the caller's thread.
     */
    public SweepResult sweep()
    {
        long start = System.nanoTime();
        Instant cutoff = clock.instant().minus(orphanAge);
        SweepResult result = new SweepResult();
        for (URI baseDirectory : baseDirectories) {
            List<SpoolDirectoryStatus> directories;
            try {
                directories = await(storage.listDirectories(baseDirectory));
            }
            catch (RuntimeException e) {
                result.failures++;
                log.warn("Orphan collector could not list %s: %s", baseDirectory, storage.diagnose(SpoolStorage.StorageOperation.LIST, baseDirectory, e));
                continue;
            }
            for (SpoolDirectoryStatus directory : directories) {
                Matcher name = SPOOL_DIRECTORY_NAME.matcher(directory.name());
                if (!name.matches()) {
                    // not Spoolex's: never looked into
                    continue;
                }
                result.found++;
                if (openExchanges.isOpen(name.group("query"), name.group("exchange"))) {
                    result.open++;
                    continue;
                }
                // the query's creation time, else the directory's own; a directory whose age neither tells is left alone
                Optional<Instant> made = queryCreationTime(name.group("query")).or(directory::lastModified);
                boolean young = made.map(time -> time.isAfter(cutoff)).orElse(true)
                        || directory.lastModified().map(modified -> modified.isAfter(cutoff)).orElse(false);
                if (young) {
                    result.young++;
                    continue;
                }
                collect(directory.directory(), cutoff, result);
            }
        }
        stats.getOrphanSweeps().update(1);
        stats.getOrphanDirectoriesFound().update(result.found);
        stats.getOrphanDirectoriesDeleted().update(result.deleted);
        stats.getOrphanBytesDeleted().update(result.bytesDeleted);
        stats.getOrphanFailures().update(result.failures);
        log.info("Orphan sweep of %s base directories in %.1fs: %s Spoolex directories, %s of open exchanges, %s younger than %s or still written, %s deleted (%s bytes), %s failures",
                baseDirectories.size(),
                (System.nanoTime() - start) / 1e9,
                result.found,
                result.open,
                result.young,
                orphanAge,
                result.deleted,
                result.bytesDeleted,
                result.failures);
        return result;
    }

    private void collect(URI directory, Instant cutoff, SweepResult result)
    {
        try {
            List<SpoolFileStatus> files = await(storage.listFiles(directory));
            if (files.stream().anyMatch(file -> file.lastModified().map(modified -> modified.isAfter(cutoff)).orElse(true))) {
                // written within the age (or of unknown time): an exchange still at work, here or on another cluster
                result.young++;
                return;
            }
            pace();
            await(storage.deleteRecursively(List.of(directory)));
            result.deleted++;
            result.bytesDeleted += files.stream().mapToLong(SpoolFileStatus::bytes).sum();
            log.debug("Orphan collector deleted %s (%s files)", directory, files.size());
        }
        catch (RuntimeException e) {
            result.failures++;
            log.warn("Orphan collector could not delete %s: %s", directory, storage.diagnose(SpoolStorage.StorageOperation.DELETE, directory, e));
        }
    }

    private static void pace()
    {
        try {
            Thread.sleep(1000 / DELETES_PER_SECOND);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static Optional<Instant> queryCreationTime(String queryId)
    {
        Matcher matcher = TRINO_QUERY_ID.matcher(queryId);
        if (!matcher.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(LocalDateTime.parse(matcher.group("time"), QUERY_ID_TIME).toInstant(ZoneOffset.UTC));
        }
        catch (DateTimeParseException _) {
            return Optional.empty();
        }
    }

    private static <T> T await(ListenableFuture<T> future)
    {
        try {
            return future.get(REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        }
        catch (TimeoutException e) {
            future.cancel(true);
            throw new IllegalStateException("no answer within " + REQUEST_TIMEOUT, e);
        }
    }

    @Override
    public synchronized void close()
    {
        closed = true;
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /**
     * What one sweep saw and did.
     */
    public static final class SweepResult
    {
        private long found;
        private long open;
        private long young;
        private long deleted;
        private long bytesDeleted;
        private long failures;

        public long found()
        {
            return found;
        }

        public long open()
        {
            return open;
        }

        public long young()
        {
            return young;
        }

        public long deleted()
        {
            return deleted;
        }

        public long bytesDeleted()
        {
            return bytesDeleted;
        }

        public long failures()
        {
            return failures;
        }

        @Override
        public String toString()
        {
            return "found %s, open %s, young %s, deleted %s (%s bytes), failures %s".formatted(found, open, young, deleted, bytesDeleted, failures);
        }
    }
}
