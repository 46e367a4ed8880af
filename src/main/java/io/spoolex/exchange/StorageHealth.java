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
import com.google.inject.Inject;
import io.airlift.log.Logger;
import io.spoolex.config.BaseDirectories;
import io.spoolex.config.ExchangeConfig;
import io.spoolex.config.StartupCheckMode;
import io.spoolex.exchange.BaseDirectoryHealth.State;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.SpoolStorage.StorageOperation;
import io.trino.spi.TrinoException;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import org.weakref.jmx.MBeanExporter;

import javax.management.ObjectName;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import static com.google.common.collect.ImmutableList.toImmutableList;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.Threads.daemonThreadsNamed;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static java.util.Objects.requireNonNull;

/**
 * The health of this node's base directories: one {@link BaseDirectoryHealth} each, exported over JMX and logged on
 * every change (a WARN line when a directory becomes unhealthy, an INFO line when it recovers).
 * <p>
 * What marks a directory unhealthy: a failed startup check, a failed probe, and, on workers, a failed write of a task
 * attempt's sink. A failure keeps it unhealthy for {@code exchange.base-directory-recovery-time}; then this node
 * probes it again (a passing probe makes it healthy, a failing one keeps it out for another recovery time), or, with
 * probes off, puts it back in use unprobed. On the coordinator, which places task attempts
 * ({@link SpoolexExchange#instantiateSink}) and never sees the workers' write failures, every base directory is also
 * probed every {@code exchange.base-directory-probe-interval}, and at once (at most once a second per directory)
 * when a task attempt is retried, so that a failing directory is seen by the time the retries of the attempts that
 * failed there, and other new attempts, are placed.
 */
public class StorageHealth
{
    /**
     * How long a FAIL-mode start waits for the check; storage requests retry within it.
     */
    static final long STARTUP_CHECK_TIMEOUT_SECONDS = 120;
    /**
     * The least time between two probes of a directory asked for by retries, which can come by the thousand.
     */
    private static final Duration RETRY_PROBE_SPACING = Duration.ofSeconds(1);
    private static final Logger log = Logger.get(StorageHealth.class);

    private final List<Monitor> monitors;
    private final List<BaseDirectoryHealth> directories;
    private final StartupCheckMode mode;
    private final Duration probeInterval;
    private final Duration recoveryTime;
    private final String recoveryTimeText;
    private final SpoolStorage storage;
    private final StartupCheck check;
    private final MBeanExporter exporter;
    private final ScheduledExecutorService scheduler;
    private final AtomicBoolean probing = new AtomicBoolean();
    private volatile boolean closed;
    private volatile ListenableFuture<List<String>> checked = Futures.immediateFuture(ImmutableList.of());

    @Inject
    public StorageHealth(BaseDirectories baseDirectories, ExchangeConfig config, SpoolStorage storage, MBeanExporter exporter)
    {
        this.monitors = baseDirectories.uris().stream().map(uri -> new Monitor(new BaseDirectoryHealth(uri))).collect(toImmutableList());
        this.directories = monitors.stream().map(Monitor::health).collect(toImmutableList());
        this.mode = config.getStartupCheck();
        this.probeInterval = Duration.ofMillis(config.getBaseDirectoryProbeInterval().toMillis());
        this.recoveryTime = Duration.ofMillis(config.getBaseDirectoryRecoveryTime().toMillis());
        this.recoveryTimeText = config.getBaseDirectoryRecoveryTime().toString();
        this.storage = requireNonNull(storage, "storage is null");
        this.check = new StartupCheck(storage);
        this.exporter = requireNonNull(exporter, "exporter is null");
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, daemonThreadsNamed("spoolex-health-%s"));
        scheduler.setRemoveOnCancelPolicy(true);
        this.scheduler = scheduler;
    }

    /**
     * The base directories in the order of {@code exchange.base-directories}.
     */
    public List<BaseDirectoryHealth> directories()
    {
        return directories;
    }

    @PostConstruct
    public void start()
    {
        for (BaseDirectoryHealth directory : directories) {
            exporter.exportWithGeneratedName(directory, BaseDirectoryHealth.class, Map.of("directory", ObjectName.quote(directory.directory().toString())));
        }
        if (mode != StartupCheckMode.OFF) {
            // the check's requests run on the storage's own threads: nothing here waits for them
            checked = check.run(directories, new StartupCheck.Results()
            {
                @Override
                public void passed(BaseDirectoryHealth directory)
                {
                    directory.markHealthy(Instant.now());
                }

                @Override
                public void failed(BaseDirectoryHealth directory, String failure)
                {
                    // the startup check logs its own error line: no second one here
                    Monitor monitor = monitorOf(directory);
                    directory.markUnhealthy(failure, Instant.now(), recoveryTime);
                    scheduleRecheck(monitor);
                }
            });
        }
    }

    /**
     * Starts the periodic probe of every base directory, once (later calls do nothing). Called on the coordinator,
     * when it creates its first exchange: only placement needs it.
     */
    void startProbing()
    {
        if (!isProbeEnabled() || closed || !probing.compareAndSet(false, true)) {
            return;
        }
        // the first probe one interval from now: the startup check has just run
        var _ = scheduler.scheduleWithFixedDelay(() -> monitors.forEach(this::probe), probeInterval.toMillis(), probeInterval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private boolean isProbeEnabled()
    {
        return !probeInterval.isZero();
    }

    /**
     * Whether new task attempts may be placed on the base directory at this index.
     */
    boolean isUsable(int index)
    {
        return directories.get(index).isUsable();
    }

    void attemptPlaced(int index)
    {
        directories.get(index).attemptPlaced();
    }

    /**
     * A task attempt is retried whose previous attempt was placed on the base directory at this index: perhaps it
     * failed because of the directory, which the coordinator would otherwise only see at the next periodic probe.
     */
    void attemptRetried(int index)
    {
        Monitor monitor = monitors.get(index);
        if (isProbeEnabled() && Duration.ofNanos(System.nanoTime() - monitor.lastProbeStartNanos).compareTo(RETRY_PROBE_SPACING) >= 0) {
            probe(monitor);
        }
    }

    /**
     * What a sink writing to this attempt directory reports its writes through.
     */
    WriteReporter writeReporter(URI attemptDirectory)
    {
        for (Monitor monitor : monitors) {
            if (SpoolLayout.isIn(monitor.health().directory(), attemptDirectory)) {
                return new WriteReporter(this, monitor, attemptDirectory);
            }
        }
        // a handle made by a coordinator configured with other base directories: nothing here to report to
        return WriteReporter.NONE;
    }

    /**
     * A sink's view of the health of the base directory it writes to.
     */
    static final class WriteReporter
    {
        static final WriteReporter NONE = new WriteReporter(null, null, null);

        private final StorageHealth health;
        private final Monitor monitor;
        private final URI attemptDirectory;
        private final AtomicBoolean reported = new AtomicBoolean();

        private WriteReporter(StorageHealth health, Monitor monitor, URI attemptDirectory)
        {
            this.health = health;
            this.monitor = monitor;
            this.attemptDirectory = attemptDirectory;
        }

        /**
         * A storage request of the sink failed (reported once per sink: its other requests usually fail with it).
         */
        void writeFailed(Throwable failure)
        {
            if (health == null || failure instanceof CancellationException || !reported.compareAndSet(false, true)) {
                return;
            }
            String diagnosis = health.storage.diagnose(StorageOperation.WRITE, attemptDirectory, failure);
            health.failed(monitor, "a write of the task attempt %s failed: %s".formatted(attemptDirectory, diagnosis), "a task attempt's write failed");
        }

        /**
         * The sink committed its attempt.
         */
        void committed()
        {
            if (health == null) {
                return;
            }
            monitor.health().markHealthy(Instant.now()).ifPresent(previous -> health.changed(monitor, previous, "a task attempt committed there"));
        }
    }

    private void failed(Monitor monitor, String failure, String cause)
    {
        if (closed) {
            return;
        }
        BaseDirectoryHealth health = monitor.health();
        if (health.markUnhealthy(failure, Instant.now(), recoveryTime)) {
            log.warn("Base directory %s is unhealthy (%s): %s. It is kept out of placement for %s (exchange.base-directory-recovery-time), then %s",
                    health.directory(),
                    cause,
                    failure,
                    recoveryTimeText,
                    isProbeEnabled() ? "probed again" : "used again (exchange.base-directory-probe-interval=0: not probed)");
        }
        scheduleRecheck(monitor);
    }

    private void changed(Monitor monitor, State previous, String cause)
    {
        if (previous == State.UNHEALTHY) {
            log.info("Base directory %s is %s again (%s)", monitor.health().directory(), monitor.health().state(), cause);
        }
    }

    /**
     * Looks at an unhealthy directory again when its recovery time is up (one recheck waiting per directory).
     */
    private void scheduleRecheck(Monitor monitor)
    {
        Optional<Instant> until = monitor.health().unhealthyUntil();
        if (closed || until.isEmpty() || !monitor.recheckScheduled.compareAndSet(false, true)) {
            return;
        }
        long delayMillis = Math.max(0, Duration.between(Instant.now(), until.orElseThrow()).toMillis());
        try {
            var _ = scheduler.schedule(() -> {
                monitor.recheckScheduled.set(false);
                recheck(monitor);
            }, delayMillis, TimeUnit.MILLISECONDS);
        }
        catch (RuntimeException e) {
            // rejected: closing
            monitor.recheckScheduled.set(false);
        }
    }

    private void recheck(Monitor monitor)
    {
        BaseDirectoryHealth health = monitor.health();
        Optional<Instant> until = health.unhealthyUntil();
        if (closed || health.state() != State.UNHEALTHY || until.isEmpty()) {
            return;
        }
        if (Instant.now().isBefore(until.orElseThrow())) {
            // failed again meanwhile
            scheduleRecheck(monitor);
            return;
        }
        if (isProbeEnabled()) {
            probe(monitor);
            return;
        }
        health.markUnchecked(Instant.now()).ifPresent(_ -> log.info("Base directory %s is in use again: its recovery time is up (not probed: exchange.base-directory-probe-interval=0)", health.directory()));
    }

    /**
     * Probes a directory unless a probe of it is running; the outcome goes into its health.
     */
    private void probe(Monitor monitor)
    {
        if (closed || !monitor.probeRunning.compareAndSet(false, true)) {
            return;
        }
        monitor.lastProbeStartNanos = System.nanoTime();
        BaseDirectoryHealth health = monitor.health();
        health.probed();
        ListenableFuture<String> probe = startProbe(health.directory());
        probe.addListener(() -> {
            monitor.probeRunning.set(false);
            String failure;
            try {
                failure = Futures.getDone(probe);
            }
            catch (ExecutionException | RuntimeException e) {
                failure = e.toString();
            }
            if (closed) {
                return;
            }
            if (failure.isEmpty()) {
                health.markHealthy(Instant.now()).ifPresent(previous -> changed(monitor, previous, "a probe passed"));
                // passed before the recovery time was up: look again when it is
                scheduleRecheck(monitor);
            }
            else {
                failed(monitor, failure, "a probe failed");
            }
        }, directExecutor());
    }

    private ListenableFuture<String> startProbe(URI directory)
    {
        try {
            return check.probe(directory);
        }
        catch (RuntimeException e) {
            return Futures.immediateFuture(e.toString());
        }
    }

    private Monitor monitorOf(BaseDirectoryHealth directory)
    {
        return monitors.stream().filter(monitor -> monitor.health() == directory).findFirst().orElseThrow();
    }

    /**
     * Stops probing. Probes still running are ignored when they end (the storage closes next: their failures would
     * be no failures of the directory).
     */
    @PreDestroy
    public void close()
    {
        closed = true;
        scheduler.shutdownNow();
    }

    /**
     * Under {@code exchange.startup-check=FAIL}, waits for the check and fails if a directory did not pass;
     * otherwise returns at once.
     */
    void failStartIfUnhealthy()
    {
        if (mode != StartupCheckMode.FAIL) {
            return;
        }
        List<String> failures;
        try {
            failures = checked.get(STARTUP_CHECK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        catch (TimeoutException e) {
            throw new TrinoException(SPOOL_STORAGE_ERROR, "The startup check of the base directories did not finish within %s s (exchange.startup-check=FAIL): %s".formatted(STARTUP_CHECK_TIMEOUT_SECONDS, directories));
        }
        catch (ExecutionException e) {
            throw new TrinoException(SPOOL_STORAGE_ERROR, "The startup check of the base directories failed (exchange.startup-check=FAIL)", e.getCause());
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
        if (!failures.isEmpty()) {
            throw new TrinoException(SPOOL_STORAGE_ERROR, "Spool storage is not usable (exchange.startup-check=FAIL; WARN would start anyway): " + String.join(" | ", failures));
        }
    }

    /**
     * A directory's health with what this node needs to probe it: one probe at a time, one recheck waiting.
     */
    static final class Monitor
    {
        private final BaseDirectoryHealth health;
        private final AtomicBoolean probeRunning = new AtomicBoolean();
        private final AtomicBoolean recheckScheduled = new AtomicBoolean();
        private volatile long lastProbeStartNanos = System.nanoTime() - RETRY_PROBE_SPACING.toNanos();

        Monitor(BaseDirectoryHealth health)
        {
            this.health = requireNonNull(health, "health is null");
        }

        BaseDirectoryHealth health()
        {
            return health;
        }
    }
}
