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
import com.google.common.collect.ImmutableSet;
import com.google.common.collect.Sets;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.log.Logger;
import io.spoolex.metrics.SpoolexStats;
import io.spoolex.storage.SpoolDirectoryContents;
import io.spoolex.storage.SpoolStorage;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.AsyncSemaphore.processAll;
import static io.airlift.concurrent.Threads.daemonThreadsNamed;
import static java.util.Objects.requireNonNull;

/**
 * Deletes spool directories (an exchange's on close, a task attempt's when its sink aborts or fails) and keeps at
 * it: a round that leaves directories behind (the storage's own request retries spent) is followed by another after
 * a backoff of 1 s, doubling up to a minute, until every directory is gone or {@code exchange.cleanup-retry-time}
 * has passed. Then, or when the exchange manager shuts down first, what is left is logged with every directory's
 * name and counted ({@code CleanupFailures}, {@code CleanupDirectoriesLeft}); nothing collects it later (see
 * docs/cleanup.md). Cleanups run in the background: callers get the outcome of the first round without waiting for
 * the retries.
 */
public final class SpoolCleaner
        implements AutoCloseable
{
    private static final Logger log = Logger.get(SpoolCleaner.class);

    /**
     * Directories of one cleanup deleted at once; each is a listing and its deletes in flight.
     */
    private static final int DIRECTORY_PARALLELISM = 8;
    /**
     * Known files one delete call of a round names at most (an S3 DeleteObjects takes 1,000 keys).
     */
    private static final int FILES_PER_DELETE = 1000;
    private static final Duration FIRST_RETRY_DELAY = Duration.ofSeconds(1);
    private static final Duration MAX_RETRY_DELAY = Duration.ofMinutes(1);
    /**
     * How long shutting down waits for rounds in flight before it records what is left.
     */
    private static final Duration SHUTDOWN_WAIT = Duration.ofSeconds(10);
    /**
     * Directories a give-up log line names one by one; beyond that it gives their number.
     */
    private static final int LOGGED_DIRECTORIES = 500;

    private final SpoolStorage storage;
    private final SpoolexStats stats;
    private final Duration retryTime;
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, daemonThreadsNamed("spoolex-cleanup-%s"));

    @GuardedBy("this")
    private final Set<Cleanup> running = Sets.newIdentityHashSet();
    @GuardedBy("this")
    private boolean closed;

    public SpoolCleaner(SpoolStorage storage, SpoolexStats stats, Duration retryTime)
    {
        this.storage = requireNonNull(storage, "storage is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.retryTime = requireNonNull(retryTime, "retryTime is null");
        timer.setRemoveOnCancelPolicy(true);
    }

    /**
     * Starts deleting the directories (and everything below them).
     *
     * @param owner whose data it is, for the log: {@code exchange 3.1 of query q}, {@code task attempt s3://…/0/}
     * @return the outcome of the first round: done when every directory is gone, failed with the first round's
     *         failure if any is left (the cleanup goes on in the background)
     */
    public ListenableFuture<Void> delete(String owner, List<URI> directories)
    {
        return deleteContents(owner, directories.stream().map(SpoolDirectoryContents::unknown).toList());
    }

    /**
     * Starts deleting directories whose content is known, wholly or in part (see
     * {@link SpoolStorage#deleteDirectories}): on object stores, without listing what is known.
     *
     * @return the outcome of the first round, as {@link #delete}'s
     */
    public ListenableFuture<Void> deleteContents(String owner, List<SpoolDirectoryContents> directories)
    {
        return start(owner, directories).firstRound;
    }

    /**
     * Like {@link #delete}, returning the cleanup's final outcome instead of its first round's.
     */
    ListenableFuture<Void> deleteAndWait(String owner, List<URI> directories)
    {
        return start(owner, directories.stream().map(SpoolDirectoryContents::unknown).toList()).done;
    }

    private Cleanup start(String owner, List<SpoolDirectoryContents> directories)
    {
        Cleanup cleanup = new Cleanup(owner, directories);
        synchronized (this) {
            if (closed) {
                cleanup.giveUp(new IllegalStateException("the exchange manager is shut down"));
                return cleanup;
            }
            running.add(cleanup);
        }
        cleanup.done.addListener(() -> forget(cleanup), directExecutor());
        cleanup.round();
        return cleanup;
    }

    @SuppressWarnings("CollectionUndefinedEquality") // an identity set: a cleanup is removed as the same object
    private synchronized void forget(Cleanup cleanup)
    {
        running.remove(cleanup);
    }

    /**
     * Lets rounds in flight finish for a few seconds, then records every directory still left.
     */
    @Override
    public void close()
    {
        List<Cleanup> pending;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            pending = ImmutableList.copyOf(running);
        }
        timer.shutdownNow();
        try {
            // rounds waiting for their turn will not run any more; rounds in flight may still finish the job
            Futures.whenAllComplete(pending.stream().map(Cleanup::roundInFlight).toList())
                    .call(() -> null, directExecutor())
                    .get(SHUTDOWN_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        catch (ExecutionException | TimeoutException e) {
            // recorded below
        }
        for (Cleanup cleanup : pending) {
            cleanup.giveUp(new IllegalStateException("the exchange manager shut down before the cleanup finished"));
        }
    }

    private final class Cleanup
    {
        private final String owner;
        private final long startNanos = System.nanoTime();
        private final SettableFuture<Void> firstRound = SettableFuture.create();
        private final SettableFuture<Void> done = SettableFuture.create();

        @GuardedBy("this")
        private final Map<URI, SpoolDirectoryContents> remaining = new LinkedHashMap<>();
        @GuardedBy("this")
        private int rounds;
        @GuardedBy("this")
        private ListenableFuture<?> roundInFlight = Futures.immediateVoidFuture();

        Cleanup(String owner, List<SpoolDirectoryContents> directories)
        {
            this.owner = requireNonNull(owner, "owner is null");
            for (SpoolDirectoryContents directory : directories) {
                remaining.merge(directory.directory(), directory, Cleanup::union);
            }
        }

        private static SpoolDirectoryContents union(SpoolDirectoryContents first, SpoolDirectoryContents second)
        {
            return new SpoolDirectoryContents(
                    first.directory(),
                    ImmutableList.copyOf(Sets.union(ImmutableSet.copyOf(first.files()), ImmutableSet.copyOf(second.files()))),
                    ImmutableList.copyOf(Sets.union(ImmutableSet.copyOf(first.unlistedDirectories()), ImmutableSet.copyOf(second.unlistedDirectories()))));
        }

        void round()
        {
            List<List<SpoolDirectoryContents>> groups;
            synchronized (this) {
                if (done.isDone()) {
                    return;
                }
                rounds++;
                groups = groups(remaining.values());
            }
            List<Throwable> failures = new ArrayList<>();
            ListenableFuture<List<Void>> deletes = processAll(groups, group -> {
                ListenableFuture<Void> deleted;
                try {
                    deleted = storage.deleteDirectories(group);
                }
                catch (RuntimeException e) {
                    deleted = Futures.immediateFailedFuture(e);
                }
                return Futures.catching(Futures.transform(deleted, _ -> {
                    synchronized (this) {
                        group.forEach(directory -> remaining.remove(directory.directory()));
                    }
                    return null;
                }, directExecutor()), Throwable.class, failure -> {
                    synchronized (failures) {
                        failures.add(failure);
                    }
                    return null;
                }, directExecutor());
            }, DIRECTORY_PARALLELISM, directExecutor());
            synchronized (this) {
                roundInFlight = deletes;
            }
            deletes.addListener(() -> roundDone(failures), directExecutor());
        }

        /**
         * Directories with known files go together, up to about {@link #FILES_PER_DELETE} files a group, so that an
         * object store deletes many small directories with few batch requests; a directory to be listed goes alone,
         * as its listing is the cost.
         */
        private static List<List<SpoolDirectoryContents>> groups(Collection<SpoolDirectoryContents> directories)
        {
            List<List<SpoolDirectoryContents>> groups = new ArrayList<>();
            List<SpoolDirectoryContents> group = new ArrayList<>();
            int files = 0;
            for (SpoolDirectoryContents directory : directories) {
                if (!directory.unlistedDirectories().isEmpty() && directory.files().isEmpty()) {
                    groups.add(ImmutableList.of(directory));
                    continue;
                }
                if (!group.isEmpty() && files + directory.files().size() > FILES_PER_DELETE) {
                    groups.add(ImmutableList.copyOf(group));
                    group.clear();
                    files = 0;
                }
                group.add(directory);
                files += directory.files().size();
            }
            if (!group.isEmpty()) {
                groups.add(ImmutableList.copyOf(group));
            }
            return groups;
        }

        synchronized ListenableFuture<?> roundInFlight()
        {
            return roundInFlight;
        }

        private void roundDone(List<Throwable> failures)
        {
            int round;
            boolean left;
            synchronized (this) {
                round = rounds;
                left = !remaining.isEmpty();
            }
            if (!left) {
                firstRound.set(null);
                done.set(null);
                return;
            }
            Throwable failure;
            synchronized (failures) {
                failure = failures.isEmpty() ? new IllegalStateException("directories were left") : failures.getFirst();
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
            if (elapsed.compareTo(retryTime) >= 0) {
                giveUp(failure);
                return;
            }
            long delayNanos = Math.min(FIRST_RETRY_DELAY.toNanos() << Math.min(round - 1, 20), MAX_RETRY_DELAY.toNanos());
            delayNanos = delayNanos / 2 + (long) (ThreadLocalRandom.current().nextDouble() * (delayNanos - delayNanos / 2));
            // the last round starts when the retry time is up rather than a backoff after it
            delayNanos = Math.min(delayNanos, retryTime.toNanos() - elapsed.toNanos());
            try {
                var _ = timer.schedule(this::round, delayNanos, TimeUnit.NANOSECONDS);
            }
            catch (RuntimeException e) {
                // shutting down: close() records what is left
                failure.addSuppressed(e);
                firstRound.setException(failure);
                return;
            }
            stats.getCleanupRetries().update(1);
            firstRound.setException(failure);
        }

        /**
         * Records what is left (once): a log line naming the directories, and the counters.
         */
        void giveUp(Throwable failure)
        {
            List<URI> left;
            int made;
            synchronized (this) {
                if (done.isDone()) {
                    return;
                }
                left = ImmutableList.copyOf(remaining.keySet());
                made = rounds;
            }
            stats.getCleanupFailures().update(1);
            stats.getCleanupDirectoriesLeft().update(left.size());
            String names = left.size() <= LOGGED_DIRECTORIES
                    ? left.toString()
                    : "%s and %s more".formatted(left.subList(0, LOGGED_DIRECTORIES), left.size() - LOGGED_DIRECTORIES);
            log.warn(failure,
                    "Gave up deleting the spool data of %s after %s rounds over %s: %s directories left in storage: %s",
                    owner,
                    made,
                    String.format(Locale.ROOT, "%.1fs", (System.nanoTime() - startNanos) / 1e9),
                    left.size(),
                    names);
            firstRound.setException(failure);
            done.setException(failure);
        }
    }
}
