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
package io.spoolex.metrics;

import io.airlift.stats.CounterStat;
import io.airlift.stats.DistributionStat;
import io.spoolex.SpoolexVersion;
import io.spoolex.format.Lz4Implementation;
import org.weakref.jmx.Managed;
import org.weakref.jmx.Nested;

/**
 * Counters of one exchange manager, exported over JMX as {@code io.spoolex:type=SpoolexStats,name=<factory name>}.
 * "Page bytes" are bytes as the engine handed them over; "storage bytes" are what reached storage after
 * Spoolex's compression and encryption.
 */
public class SpoolexStats
{
    private final String version = SpoolexVersion.current().toString();
    private final CounterStat exchangesCreated = new CounterStat();
    private final CounterStat exchangesClosed = new CounterStat();
    private final CounterStat manifestsRead = new CounterStat();
    private final CounterStat manifestsReread = new CounterStat();
    private final CounterStat cleanupFailures = new CounterStat();
    private final CounterStat cleanupRetries = new CounterStat();
    private final CounterStat cleanupDirectoriesLeft = new CounterStat();
    private final CounterStat orphanSweeps = new CounterStat();
    private final CounterStat orphanDirectoriesFound = new CounterStat();
    private final CounterStat orphanDirectoriesDeleted = new CounterStat();
    private final CounterStat orphanBytesDeleted = new CounterStat();
    private final CounterStat orphanFailures = new CounterStat();

    private final CounterStat sinksFinished = new CounterStat();
    private final CounterStat sinksAborted = new CounterStat();
    private final CounterStat sinkPageBytes = new CounterStat();
    private final CounterStat sinkStorageBytes = new CounterStat();
    private final CounterStat filesWritten = new CounterStat();
    private final CounterStat blocksCompressed = new CounterStat();
    private final CounterStat blocksStoredRaw = new CounterStat();
    private final CounterStat blocksNotTried = new CounterStat();
    private final CounterStat incompressibleSinks = new CounterStat();
    private final CounterStat sinkBlocked = new CounterStat();
    private final CounterStat sinkBufferWaits = new CounterStat();
    private final CounterStat sinkFailures = new CounterStat();
    private final DistributionStat fileStorageBytes = new DistributionStat();

    private final CounterStat sourcePageBytes = new CounterStat();
    private final CounterStat sourceStorageBytes = new CounterStat();
    private final CounterStat filesRead = new CounterStat();
    private final CounterStat sourceFailures = new CounterStat();
    private final CounterStat corruptFiles = new CounterStat();
    private final CounterStat attemptsSkipped = new CounterStat();

    /**
     * The Spoolex build running: version and git commit.
     */
    @Managed
    public String getVersion()
    {
        return version;
    }

    /**
     * lz4-java's implementation that compresses and decompresses spool files in this plugin: {@code JNI}, or
     * {@code JavaSafe} when the native library did not load (the server log has a warning with the reason).
     */
    @Managed
    public String getLz4Implementation()
    {
        return Lz4Implementation.get().name();
    }

    @Managed
    @Nested
    public CounterStat getExchangesCreated()
    {
        return exchangesCreated;
    }

    @Managed
    @Nested
    public CounterStat getExchangesClosed()
    {
        return exchangesClosed;
    }

    @Managed
    @Nested
    public CounterStat getManifestsRead()
    {
        return manifestsRead;
    }

    /**
     * Manifests read again because a read arrived damaged.
     */
    @Managed
    @Nested
    public CounterStat getManifestsReread()
    {
        return manifestsReread;
    }

    /**
     * Cleanups (of an exchange, or of a task attempt's directory) given up on, leaving directories behind.
     */
    @Managed
    @Nested
    public CounterStat getCleanupFailures()
    {
        return cleanupFailures;
    }

    /**
     * Rounds of a cleanup that failed and were tried again later.
     */
    @Managed
    @Nested
    public CounterStat getCleanupRetries()
    {
        return cleanupRetries;
    }

    /**
     * Spool directories left in storage by cleanups given up on (see the log line that names them).
     */
    @Managed
    @Nested
    public CounterStat getCleanupDirectoriesLeft()
    {
        return cleanupDirectoriesLeft;
    }

    /**
     * Sweeps of the orphan collector (on the coordinator).
     */
    @Managed
    @Nested
    public CounterStat getOrphanSweeps()
    {
        return orphanSweeps;
    }

    /**
     * Directories named like Spoolex's spool data that sweeps saw, live ones included.
     */
    @Managed
    @Nested
    public CounterStat getOrphanDirectoriesFound()
    {
        return orphanDirectoriesFound;
    }

    /**
     * Directories the orphan collector deleted: older than exchange.cleanup.orphan-age, of no exchange open here.
     */
    @Managed
    @Nested
    public CounterStat getOrphanDirectoriesDeleted()
    {
        return orphanDirectoriesDeleted;
    }

    /**
     * Bytes of the files in the directories the orphan collector deleted.
     */
    @Managed
    @Nested
    public CounterStat getOrphanBytesDeleted()
    {
        return orphanBytesDeleted;
    }

    /**
     * Listings and deletes of the orphan collector that failed (a base directory it could not list counts once).
     */
    @Managed
    @Nested
    public CounterStat getOrphanFailures()
    {
        return orphanFailures;
    }

    @Managed
    @Nested
    public CounterStat getSinksFinished()
    {
        return sinksFinished;
    }

    @Managed
    @Nested
    public CounterStat getSinksAborted()
    {
        return sinksAborted;
    }

    @Managed
    @Nested
    public CounterStat getSinkPageBytes()
    {
        return sinkPageBytes;
    }

    @Managed
    @Nested
    public CounterStat getSinkStorageBytes()
    {
        return sinkStorageBytes;
    }

    @Managed
    @Nested
    public CounterStat getFilesWritten()
    {
        return filesWritten;
    }

    @Managed
    @Nested
    public CounterStat getBlocksCompressed()
    {
        return blocksCompressed;
    }

    @Managed
    @Nested
    public CounterStat getBlocksStoredRaw()
    {
        return blocksStoredRaw;
    }

    /**
     * Blocks stored raw without an LZ4 attempt: their sink's first blocks had shown that its pages do not compress.
     */
    @Managed
    @Nested
    public CounterStat getBlocksNotTried()
    {
        return blocksNotTried;
    }

    /**
     * Sinks whose pages arrived incompressible, so that they stopped trying LZ4 (the engine's own codec on?).
     */
    @Managed
    @Nested
    public CounterStat getIncompressibleSinks()
    {
        return incompressibleSinks;
    }

    @Managed
    @Nested
    public CounterStat getSinkBlocked()
    {
        return sinkBlocked;
    }

    /**
     * Times a page being added waited inside the sink for a write to return a buffer (its pool was spent).
     */
    @Managed
    @Nested
    public CounterStat getSinkBufferWaits()
    {
        return sinkBufferWaits;
    }

    @Managed
    @Nested
    public CounterStat getSinkFailures()
    {
        return sinkFailures;
    }

    @Managed
    @Nested
    public DistributionStat getFileStorageBytes()
    {
        return fileStorageBytes;
    }

    @Managed
    @Nested
    public CounterStat getSourcePageBytes()
    {
        return sourcePageBytes;
    }

    @Managed
    @Nested
    public CounterStat getSourceStorageBytes()
    {
        return sourceStorageBytes;
    }

    @Managed
    @Nested
    public CounterStat getFilesRead()
    {
        return filesRead;
    }

    @Managed
    @Nested
    public CounterStat getSourceFailures()
    {
        return sourceFailures;
    }

    @Managed
    @Nested
    public CounterStat getCorruptFiles()
    {
        return corruptFiles;
    }

    @Managed
    @Nested
    public CounterStat getAttemptsSkipped()
    {
        return attemptsSkipped;
    }
}
