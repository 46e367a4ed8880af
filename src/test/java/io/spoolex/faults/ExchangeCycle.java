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
package io.spoolex.faults;

import com.google.common.collect.HashMultiset;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.Multiset;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.exchange.TestPages;
import io.spoolex.faults.FaultScenario.Phase;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSourceHandle;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.trino.spi.ErrorType.USER_ERROR;
import static java.util.Objects.requireNonNull;

/**
 * One exchange from start to finish through the SPI, as the engine drives it, under a {@link FaultScenario}: tasks
 * write in parallel (one of them aborts its first attempt half-way and succeeds with a second; one writes a page
 * large enough for a multipart file), the coordinator commits, a source reads everything back and every page is
 * compared, the exchange closes and the storage is watched until nothing is left. Works with any exchange manager
 * (Spoolex or Trino's own) on any storage with an injector and a way to look at what is stored.
 */
public final class ExchangeCycle
{
    /**
     * @param largePageBytes one page of task 0, partition 0 of this many incompressible bytes (0 for none)
     * @param oneAttemptAborts whether task 1's first attempt aborts half-way (a second attempt then writes everything)
     */
    public record Workload(int tasks, int partitions, int pagesPerPartition, int pageBytes, int largePageBytes, boolean oneAttemptAborts)
    {
        /**
         * About 8 MB of pages: the default test run.
         */
        public static Workload small()
        {
            return new Workload(3, 3, 12, 50_000, 6 * 1024 * 1024, true);
        }

        /**
         * About 20 MB of pages: the benchmark's cycle.
         */
        public static Workload twentyMegabytes()
        {
            return new Workload(4, 4, 40, 25_000, 6 * 1024 * 1024, true);
        }

        /**
         * This workload with every task's first attempt committing.
         */
        public Workload withoutAbortedAttempt()
        {
            return new Workload(tasks, partitions, pagesPerPartition, pageBytes, largePageBytes, false);
        }

        public long pageBytesTotal()
        {
            return (long) tasks * partitions * pagesPerPartition * pageBytes + largePageBytes;
        }
    }

    /**
     * Lists what is stored below the exchange manager's base directories: objects and, where the storage has them,
     * uploads never completed.
     */
    @FunctionalInterface
    public interface StorageInspector
    {
        List<String> storedItems();
    }

    public enum Outcome
    {
        /**
         * Every page came back exactly once and nothing was left after close.
         */
        OK,
        /**
         * The exchange failed with a retryable error (a task fault-tolerant execution runs again) and nothing was
         * left after close.
         */
        FAILED_RETRYABLY,
        /**
         * It failed with an error that is not retryable, or not an error of the exchange manager's.
         */
        FAILED,
        /**
         * Pages came back missing, twice, or changed.
         */
        WRONG_ROWS,
        /**
         * A phase did not finish within its time.
         */
        HUNG,
        /**
         * Everything else was right, but data stayed in storage after close.
         */
        LEFTOVERS,
    }

    /**
     * @param seconds time from the first write to the last page read (or to the failure)
     * @param cleanupSeconds time from close until nothing was left in storage (or until the wait ended)
     * @param closeStartNanos {@link System#nanoTime()} when the exchange was closed: requests received from then on
     *         are the cleanup's
     */
    public record Result(
            Outcome outcome,
            double seconds,
            double cleanupSeconds,
            Map<Phase, Double> phaseSeconds,
            Optional<Throwable> failure,
            List<String> leftovers,
            Map<String, Long> faults,
            long faultCount,
            long requests,
            long closeStartNanos)
    {
        public Result
        {
            requireNonNull(outcome, "outcome is null");
            phaseSeconds = ImmutableMap.copyOf(phaseSeconds);
            requireNonNull(failure, "failure is null");
            leftovers = ImmutableList.copyOf(leftovers);
            faults = ImmutableMap.copyOf(faults);
        }

        public double totalSeconds()
        {
            return seconds + cleanupSeconds;
        }
    }

    private static final Map<String, Slice> PAGES = new ConcurrentHashMap<>();

    private final Workload workload;
    private final FaultInjector injector;
    private final StorageInspector inspector;
    private final Duration phaseTimeout;
    private final Duration cleanupTimeout;

    public ExchangeCycle(Workload workload, FaultInjector injector, StorageInspector inspector, Duration phaseTimeout, Duration cleanupTimeout)
    {
        this.workload = requireNonNull(workload, "workload is null");
        this.injector = requireNonNull(injector, "injector is null");
        this.inspector = requireNonNull(inspector, "inspector is null");
        this.phaseTimeout = requireNonNull(phaseTimeout, "phaseTimeout is null");
        this.cleanupTimeout = requireNonNull(cleanupTimeout, "cleanupTimeout is null");
    }

    public Workload workload()
    {
        return workload;
    }

    /**
     * Runs one cycle; the injector is left without faults afterwards.
     */
    public Result run(ExchangeManager manager, FaultScenario scenario, long seed)
    {
        injector.stopFaults();
        injector.endOutage();
        injector.resetCounts();
        ExecutorService threads = Executors.newCachedThreadPool();
        Map<Phase, Double> phaseSeconds = new EnumMap<>(Phase.class);
        long start = System.nanoTime();
        Exchange exchange = ExchangeTestKit.createExchange(manager, workload.partitions(), false);
        List<ExchangeSinkHandle> sinkHandles = new ArrayList<>();
        for (int task = 0; task < workload.tasks(); task++) {
            sinkHandles.add(exchange.addSink(task));
        }
        exchange.noMoreSinks();
        Outcome outcome = Outcome.OK;
        Optional<Throwable> failure = Optional.empty();
        double seconds;
        List<Future<Integer>> tasks = new ArrayList<>();
        try {
            Map<Integer, Integer> committed = new HashMap<>();
            startPhase(scenario, Phase.WRITE, seed);
            timed(phaseSeconds, Phase.WRITE, () -> {
                for (int task = 0; task < workload.tasks(); task++) {
                    int taskPartition = task;
                    tasks.add(threads.submit(() -> writeTask(manager, exchange, sinkHandles.get(taskPartition), taskPartition)));
                }
                for (int task = 0; task < workload.tasks(); task++) {
                    committed.put(task, getWithin(tasks.get(task), phaseTimeout));
                }
                return null;
            });
            startPhase(scenario, Phase.COMMIT, seed);
            List<ExchangeSourceHandle> handles = timed(phaseSeconds, Phase.COMMIT, () -> within(threads, () -> {
                committed.forEach((task, attempt) -> exchange.sinkFinished(sinkHandles.get(task), attempt));
                return ExchangeTestKit.sourceHandles(exchange);
            }));
            startPhase(scenario, Phase.READ, seed);
            Multiset<Slice> read = timed(phaseSeconds, Phase.READ, () -> within(threads, () -> {
                Multiset<Slice> pages = HashMultiset.create();
                ExchangeTestKit.read(manager, handles, finalSelector(exchange.getId(), committed, workload.tasks()), page -> pages.add(page.copy()));
                return pages;
            }));
            if (!read.equals(expectedPages(committed))) {
                outcome = Outcome.WRONG_ROWS;
                failure = Optional.of(new AssertionError("read %s pages, expected %s; %s pages differ".formatted(read.size(), expectedPages(committed).size(), difference(read, expectedPages(committed)))));
            }
        }
        catch (PhaseTimeout e) {
            outcome = Outcome.HUNG;
            failure = Optional.of(e);
        }
        catch (Throwable t) {
            Throwable cause = unwrap(t);
            // the SPI helpers give up waiting on a future after two minutes: a hang too
            outcome = cause instanceof TimeoutException ? Outcome.HUNG : isRetryable(cause) ? Outcome.FAILED_RETRYABLY : Outcome.FAILED;
            failure = Optional.of(cause);
        }
        seconds = (System.nanoTime() - start) / 1e9;

        // close with the scenario's close-time faults, or, after a failure, with storage back to health (as it is
        // when fault-tolerant execution has given up on the query)
        if (outcome == Outcome.OK || outcome == Outcome.WRONG_ROWS) {
            startPhase(scenario, Phase.CLOSE, seed);
        }
        else {
            injector.stopFaults();
            injector.endOutage();
            // as the engine ends a failed query's other tasks before it closes the exchange: a task still retrying
            // its writes when one failed would otherwise finish after the close and leave its attempt behind
            for (Future<Integer> task : tasks) {
                try {
                    task.get(phaseTimeout.toMillis(), TimeUnit.MILLISECONDS);
                }
                catch (ExecutionException | CancellationException _) {
                    // failing is what the other tasks may do too
                }
                catch (TimeoutException e) {
                    outcome = Outcome.HUNG;
                }
                catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RuntimeException(e);
                }
            }
        }
        long closeStart = System.nanoTime();
        exchange.close();
        List<String> left = awaitNothingStored();
        double cleanupSeconds = (System.nanoTime() - closeStart) / 1e9;
        phaseSeconds.put(Phase.CLOSE, cleanupSeconds);
        injector.stopFaults();
        injector.endOutage();
        threads.shutdownNow();
        if (!left.isEmpty() && (outcome == Outcome.OK || outcome == Outcome.FAILED_RETRYABLY)) {
            outcome = Outcome.LEFTOVERS;
        }
        return new Result(outcome, seconds, cleanupSeconds, phaseSeconds, failure, left, injector.injectedFaults(), injector.injectedFaultCount(), injector.requestCount(), closeStart);
    }

    private void startPhase(FaultScenario scenario, Phase phase, long seed)
    {
        if (scenario.rulePhases().contains(phase) && !scenario.rules().isEmpty()) {
            injector.injectFaults(scenario.rules(), seed * 31 + phase.ordinal());
        }
        else {
            injector.stopFaults();
        }
        scenario.outage()
                .filter(outage -> outage.phase() == phase)
                .ifPresent(outage -> injector.startOutage(outage.duration()));
    }

    /**
     * Writes one task's pages; task 1's first attempt aborts half-way and a second attempt writes everything.
     *
     * @return the attempt that finished
     */
    private int writeTask(ExchangeManager manager, Exchange exchange, ExchangeSinkHandle handle, int task)
    {
        int attempt = 0;
        if (task == 1 && workload.tasks() > 1 && workload.oneAttemptAborts()) {
            ExchangeSink aborted = createSink(manager, exchange, handle, attempt);
            writePages(aborted, task, attempt, workload.pagesPerPartition() / 2);
            // the abort's own outcome (its cleanup may fail and go on in the background) is not the test: what is
            // left after close is
            try {
                aborted.abort().get(phaseTimeout.toMillis(), TimeUnit.MILLISECONDS);
            }
            catch (ExecutionException _) {
                // judged by the storage after close
            }
            catch (InterruptedException | TimeoutException e) {
                throw new PhaseTimeout("abort of task %s did not finish".formatted(task), e);
            }
            attempt = 1;
        }
        ExchangeSink sink = createSink(manager, exchange, handle, attempt);
        writePages(sink, task, attempt, workload.pagesPerPartition());
        ExchangeTestKit.finish(sink);
        return attempt;
    }

    private void writePages(ExchangeSink sink, int task, int attempt, int pagesPerPartition)
    {
        for (int index = 0; index < pagesPerPartition; index++) {
            for (int partition = 0; partition < workload.partitions(); partition++) {
                ExchangeTestKit.write(sink, partition, List.of(page(task, attempt, partition, index)));
            }
        }
        if (task == 0 && workload.largePageBytes() > 0) {
            ExchangeTestKit.write(sink, 0, List.of(largePage(attempt)));
        }
    }

    private Multiset<Slice> expectedPages(Map<Integer, Integer> committed)
    {
        Multiset<Slice> expected = HashMultiset.create();
        committed.forEach((task, attempt) -> {
            for (int index = 0; index < workload.pagesPerPartition(); index++) {
                for (int partition = 0; partition < workload.partitions(); partition++) {
                    expected.add(page(task, attempt, partition, index));
                }
            }
            if (task == 0 && workload.largePageBytes() > 0) {
                expected.add(largePage(attempt));
            }
        });
        return expected;
    }

    private Slice page(int task, int attempt, int partition, int index)
    {
        return PAGES.computeIfAbsent(
                "%s/%s/%s/%s/%s".formatted(task, attempt, partition, index, workload.pageBytes()),
                _ -> TestPages.page(task, attempt, partition, index, workload.pageBytes()));
    }

    private Slice largePage(int attempt)
    {
        return PAGES.computeIfAbsent("large/%s/%s".formatted(attempt, workload.largePageBytes()), _ -> {
            // incompressible, so that the file is larger than a multipart part whatever the codec
            byte[] bytes = new byte[workload.largePageBytes()];
            new Random(attempt).nextBytes(bytes);
            Slice slice = Slices.wrappedBuffer(bytes);
            slice.setInt(0, 0);
            slice.setInt(4, attempt);
            return slice;
        });
    }

    private static String difference(Multiset<Slice> read, Multiset<Slice> expected)
    {
        Multiset<Slice> missing = HashMultiset.create(expected);
        read.forEach(missing::remove);
        Multiset<Slice> extra = HashMultiset.create(read);
        expected.forEach(extra::remove);
        return "%s missing, %s extra or changed".formatted(missing.size(), extra.size());
    }

    /**
     * Waits until storage holds nothing below the base directories, or the cleanup time is up; returns what is left.
     */
    private List<String> awaitNothingStored()
    {
        long deadline = System.nanoTime() + cleanupTimeout.toNanos();
        List<String> left = inspector.storedItems();
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            left = inspector.storedItems();
        }
        return left;
    }

    /**
     * Whether the engine would retry the task: an exchange manager's TrinoException of a retryable (non-user) type.
     */
    public static boolean isRetryable(Throwable failure)
    {
        return failure instanceof TrinoException trinoException && trinoException.getErrorCode().getType() != USER_ERROR;
    }

    private static Throwable unwrap(Throwable failure)
    {
        Throwable cause = failure;
        while ((cause instanceof ExecutionException || (cause instanceof RuntimeException && cause.getClass() == RuntimeException.class)) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static <T> T timed(Map<Phase, Double> phaseSeconds, Phase phase, Callable<T> work)
            throws Exception
    {
        long start = System.nanoTime();
        try {
            return work.call();
        }
        finally {
            phaseSeconds.put(phase, (System.nanoTime() - start) / 1e9);
        }
    }

    private <T> T within(ExecutorService threads, Callable<T> work)
            throws Exception
    {
        return getWithin(threads.submit(work), phaseTimeout);
    }

    private static <T> T getWithin(Future<T> future, Duration timeout)
            throws Exception
    {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (TimeoutException e) {
            future.cancel(true);
            throw new PhaseTimeout("a phase did not finish within " + timeout, e);
        }
        catch (ExecutionException e) {
            if (e.getCause() instanceof PhaseTimeout phaseTimeout) {
                throw phaseTimeout;
            }
            if (e.getCause() instanceof Exception exception) {
                throw exception;
            }
            throw e;
        }
    }

    private static final class PhaseTimeout
            extends RuntimeException
    {
        PhaseTimeout(String message, Throwable cause)
        {
            super(message, cause);
        }
    }
}
