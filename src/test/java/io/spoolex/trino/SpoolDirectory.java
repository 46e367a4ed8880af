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
package io.spoolex.trino;

import io.airlift.units.Duration;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

/**
 * Looks at a local spool directory from the outside, the way an operator would: which task directories a query has
 * there, and (through {@link Watcher}) how many files and bytes a query spooled while it ran. Names follow the layout
 * {@code {base}/{hex}.{queryId}.{exchangeId}.{taskPartition}/{attempt}/{outputPartition}_{sequence}.spool}.
 */
public final class SpoolDirectory
{
    private static final Pattern DATA_FILE = Pattern.compile("(\\d+)_(\\d+)\\.spool");

    private final Path base;

    public SpoolDirectory(Path base)
    {
        this.base = requireNonNull(base, "base is null");
    }

    public Path base()
    {
        return base;
    }

    /**
     * The task directories of the query that are in the spool directory now.
     */
    public List<Path> directoriesOf(String queryId)
    {
        String marker = "." + queryId + ".";
        try (Stream<Path> entries = Files.list(base)) {
            return entries.filter(entry -> entry.getFileName().toString().contains(marker)).toList();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until the spool directory holds nothing of the query. Exchanges are closed, and their data deleted,
     * asynchronously after the query's result reaches the client, so the check polls up to a deadline.
     */
    public void awaitNothingOf(String queryId, Duration timeout)
            throws InterruptedException
    {
        long deadline = System.nanoTime() + timeout.roundTo(NANOSECONDS);
        List<Path> left = directoriesOf(queryId);
        while (!left.isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("spool directory %s still holds %s task directories of query %s after %s, e.g. %s"
                        .formatted(base, left.size(), queryId, timeout, left.getFirst()));
            }
            Thread.sleep(50);
            left = directoriesOf(queryId);
        }
    }

    /**
     * Starts sampling the spool directory in the background until {@link Watcher#close()}.
     */
    public Watcher watch()
    {
        Watcher watcher = new Watcher(base);
        watcher.thread.start();
        return watcher;
    }

    /**
     * Samples the spool directory every few milliseconds: the most data files and bytes seen at once, and the highest
     * output partition any file was written for. Spool data lives only while its query runs, so sampling during the
     * query is the only way to see it from outside.
     */
    public static final class Watcher
            implements AutoCloseable
    {
        private final Path base;
        private final Thread thread;
        private final AtomicLong maxFiles = new AtomicLong();
        private final AtomicLong maxBytes = new AtomicLong();
        private final AtomicLong maxOutputPartition = new AtomicLong(-1);
        private volatile boolean stopped;

        private Watcher(Path base)
        {
            this.base = base;
            this.thread = Thread.ofPlatform().daemon().name("spool-watcher").unstarted(this::run);
        }

        private void run()
        {
            while (!stopped) {
                sample();
                try {
                    Thread.sleep(10);
                }
                catch (InterruptedException e) {
                    return;
                }
            }
        }

        private void sample()
        {
            long files = 0;
            long bytes = 0;
            long partition = -1;
            try (Stream<Path> paths = Files.walk(base)) {
                for (Path path : (Iterable<Path>) paths::iterator) {
                    Matcher matcher = DATA_FILE.matcher(path.getFileName().toString());
                    if (!matcher.matches()) {
                        continue;
                    }
                    files++;
                    partition = Math.max(partition, Long.parseLong(matcher.group(1)));
                    try {
                        bytes += Files.size(path);
                    }
                    catch (NoSuchFileException _) {
                        // deleted between listing and sizing: its exchange was just closed
                    }
                }
            }
            catch (IOException | UncheckedIOException _) {
                // a directory vanished during the walk; the next sample sees the new state
            }
            maxFiles.accumulateAndGet(files, Math::max);
            maxBytes.accumulateAndGet(bytes, Math::max);
            maxOutputPartition.accumulateAndGet(partition, Math::max);
        }

        /**
         * The most spool data files seen at one time.
         */
        public long maxFiles()
        {
            return maxFiles.get();
        }

        /**
         * The most bytes of spool data files seen at one time.
         */
        public long maxBytes()
        {
            return maxBytes.get();
        }

        /**
         * The highest output partition number of any spool file seen, or -1.
         */
        public long maxOutputPartition()
        {
            return maxOutputPartition.get();
        }

        @Override
        public void close()
        {
            stopped = true;
            thread.interrupt();
            try {
                thread.join();
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
