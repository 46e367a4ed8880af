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

import com.google.inject.Inject;
import io.airlift.bootstrap.LifeCycleManager;
import io.airlift.log.Logger;
import io.opentelemetry.api.trace.Tracer;
import io.spoolex.config.BaseDirectories;
import io.spoolex.config.CompressionCodec;
import io.spoolex.config.ExchangeConfig;
import io.spoolex.format.ExchangeKey;
import io.spoolex.format.Lz4Implementation;
import io.spoolex.format.SpoolFileFormat;
import io.spoolex.metrics.SpoolexStats;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.StorageWriteLimits;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeContext;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkInstanceHandle;
import io.trino.spi.exchange.ExchangeSource;
import jakarta.annotation.PreDestroy;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.airlift.concurrent.Threads.daemonThreadsNamed;
import static io.spoolex.SpoolexErrorCode.MAX_OUTPUT_PARTITION_COUNT_EXCEEDED;
import static java.lang.Math.toIntExact;
import static java.util.Objects.requireNonNull;
import static java.util.concurrent.Executors.newCachedThreadPool;

public class SpoolexExchangeManager
        implements ExchangeManager
{
    private static final Logger log = Logger.get(SpoolexExchangeManager.class);

    private final LifeCycleManager lifeCycleManager;
    private final ExchangeConfig config;
    private final BaseDirectories baseDirectories;
    private final SpoolStorage storage;
    private final SpoolCleaner cleaner;
    private final StorageWriteLimits writeLimits;
    private final SpoolexStats stats;
    private final CompressionCodec compressionCodec;
    private final SecureRandom random = new SecureRandom();
    private final AtomicBoolean incompressibleWarned = new AtomicBoolean();
    private final Tracer tracer;
    private final ExecutorService executor = newCachedThreadPool(daemonThreadsNamed("spoolex-exchange-%s"));
    // "{queryId}.{exchangeId}" of the exchanges this node has open, which the orphan collector leaves alone
    private final Set<String> openExchanges = ConcurrentHashMap.newKeySet();
    private final Optional<OrphanCollector> orphanCollector;
    private final StorageHealth health;

    @Inject
    public SpoolexExchangeManager(LifeCycleManager lifeCycleManager, ExchangeConfig config, BaseDirectories baseDirectories, SpoolStorage storage, StorageWriteLimits writeLimits, SpoolexStats stats, StorageHealth health, Tracer tracer)
    {
        this.health = requireNonNull(health, "health is null");
        this.tracer = requireNonNull(tracer, "tracer is null");
        this.lifeCycleManager = requireNonNull(lifeCycleManager, "lifeCycleManager is null");
        this.config = requireNonNull(config, "config is null");
        this.baseDirectories = requireNonNull(baseDirectories, "baseDirectories is null");
        this.storage = requireNonNull(storage, "storage is null");
        this.writeLimits = requireNonNull(writeLimits, "writeLimits is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.cleaner = new SpoolCleaner(storage, stats, Duration.ofMillis(config.getCleanupRetryTime().toMillis()));
        this.compressionCodec = config.resolveCompressionCodec();
        this.orphanCollector = config.isOrphanCollectorEnabled()
                ? Optional.of(new OrphanCollector(
                storage,
                baseDirectories.uris(),
                Duration.ofMillis(config.getOrphanAge().toMillis()),
                Duration.ofMillis(config.getOrphanSweepInterval().toMillis()),
                (queryId, exchangeId) -> openExchanges.contains(queryId + "." + exchangeId),
                stats,
                Clock.systemUTC()))
                : Optional.empty();
    }

    /**
     * What this exchange manager runs with, for the line it logs at start: never a secret.
     */
    String describe()
    {
        Lz4Implementation lz4 = Lz4Implementation.get();
        String compression = switch (compressionCodec) {
            case NONE -> "NONE";
            case LZ4 -> "LZ4 (%s)".formatted(lz4.isNative() ? lz4.name() : lz4.name() + ": pure-Java fallback, native LZ4 did not load, see the earlier warning");
        };
        return "%s storage, base directories %s, compression %s, encryption %s, startup check %s".formatted(
                baseDirectories.scheme(),
                baseDirectories.uris(),
                compression,
                config.isEncryptionEnabled() ? "AES-256-GCM with a key per exchange" : "off",
                config.getStartupCheck());
    }

    @Override
    public Exchange createExchange(ExchangeContext context, int outputPartitionCount, boolean preserveOrderWithinPartition)
    {
        if (outputPartitionCount > config.getMaxOutputPartitionCount()) {
            throw new TrinoException(MAX_OUTPUT_PARTITION_COUNT_EXCEEDED, "Max number of output partitions exceeded for exchange '%s'. Allowed: %s. Requested: %s."
                    .formatted(context.getExchangeId(), config.getMaxOutputPartitionCount(), outputPartitionCount));
        }
        stats.getExchangesCreated().update(1);
        // only the coordinator creates exchanges: that is where the collector runs
        orphanCollector.ifPresent(OrphanCollector::start);
        // and where task attempts are placed, which needs to know which base directories work
        health.startProbing();
        String openName = context.getQueryId() + "." + context.getExchangeId().getId();
        openExchanges.add(openName);
        Optional<ExchangeKey> key = config.isEncryptionEnabled() ? Optional.of(ExchangeKey.random(random)) : Optional.empty();
        return new SpoolexExchange(
                context,
                storage,
                cleaner,
                stats,
                health,
                baseDirectories.uris(),
                outputPartitionCount,
                preserveOrderWithinPartition,
                key,
                config.getFileListingParallelism(),
                config.getSourceHandleTargetDataSize().toBytes(),
                executor,
                tracer,
                () -> openExchanges.remove(openName));
    }

    /**
     * The orphan collector of this manager, unless {@code exchange.cleanup.orphan-age=0}; it runs once the first
     * exchange is created. Lets tests and embedded clusters sweep on demand.
     */
    public Optional<OrphanCollector> getOrphanCollector()
    {
        return orphanCollector;
    }

    @Override
    public ExchangeSink createSink(ExchangeSinkInstanceHandle handle)
    {
        return new SpoolexSink(
                storage,
                cleaner,
                writeLimits,
                stats,
                (SpoolexSinkInstanceHandle) handle,
                compressionCodec,
                random,
                config.getMaxPageStorageSize(),
                config.getSinkMaxFileSize(),
                config.getSinkBufferPoolMinSize(),
                config.getSinkBuffersPerPartition(),
                SpoolFileFormat.DEFAULT_BLOCK_SIZE,
                this::incompressiblePages,
                health.writeReporter(((SpoolexSinkInstanceHandle) handle).attemptDirectory()),
                tracer);
    }

    @Override
    public ExchangeSource createSource()
    {
        return new SpoolexSource(
                storage,
                stats,
                toIntExact(config.getMaxPageStorageSize().toBytes()),
                config.getSourceConcurrentReaders(),
                config.getSourceMaxFilesPerReader(),
                tracer);
    }

    /**
     * A sink found its pages incompressible. On its own that may be the data; pages that all arrive so are what the
     * engine's own exchange codec makes, compressing (and encrypting) everything before Spoolex does it again.
     */
    private void incompressiblePages()
    {
        stats.getIncompressibleSinks().update(1);
        if (incompressibleWarned.compareAndSet(false, true)) {
            log.warn("Pages arrive at Spoolex incompressible: the engine probably compresses or encrypts exchange data itself, so all of it is compressed and encrypted twice. "
                    + "Spoolex does both: set exchange.compression-codec=NONE and external-exchange-encryption-enabled=false in config.properties (see docs/deployment.md). "
                    + "Meanwhile such sinks store their blocks without trying LZ4 (JMX IncompressibleSinks, BlocksNotTried). This warning is logged once");
        }
    }

    /**
     * This manager's counters, the same object JMX exports. Lets an embedded cluster (tests, {@code bin/demo}) read
     * the counters of each node: in one JVM only the first manager gets the JMX name.
     */
    public SpoolexStats getStats()
    {
        return stats;
    }

    /**
     * The health of this node's base directories, the objects JMX exports (see {@link #getStats()}).
     */
    public StorageHealth getStorageHealth()
    {
        return health;
    }

    @Override
    public boolean supportsConcurrentReadAndWrite()
    {
        return false;
    }

    @Override
    public void shutdown()
    {
        lifeCycleManager.stop();
    }

    @PreDestroy
    public void destroy()
    {
        executor.shutdownNow();
        // before the storage closes, whose failures would look like the directories' own
        health.close();
        orphanCollector.ifPresent(OrphanCollector::close);
        // waits a little for cleanups in flight, then logs what they leave behind, before the storage goes
        cleaner.close();
        storage.close();
    }
}
