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
package io.spoolex.storage;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.Sets;
import com.google.common.util.concurrent.AbstractFuture;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.trino.spi.TrinoException;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntFunction;

import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.Threads.daemonThreadsNamed;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static io.spoolex.storage.StorageErrors.retriesExhausted;
import static java.util.Objects.requireNonNull;

/**
 * Retries the requests of one storage backend by its {@link StorageRetryPolicy}. A backend hands each request to
 * {@link #call} as a function that starts one attempt; the retrier classifies each failure with the backend's
 * classifier, backs off on a timer (no thread waits), and fails the request with a retryable
 * {@code SPOOL_STORAGE_ERROR} naming the file, the storage's last answer and the attempts once the policy gives up.
 * Cancelling the returned future cancels the attempt in flight or the retry waiting for its turn.
 *
 * <p>Every request it hands out completes: {@link #close} fails the ones still in flight (an attempt on a client
 * closed under it may never answer, and a retry waiting on the stopped timer would never run) with a
 * {@code SPOOL_STORAGE_ERROR} saying the storage was closed, and requests made after the close fail at once.
 */
public final class StorageRetrier
        implements AutoCloseable
{
    /**
     * Told about every retry and every request given up on, for the backend's statistics.
     */
    public interface Listener
    {
        Listener NONE = new Listener() {};

        default void retrying(RequestFailure failure) {}

        default void gaveUp(RequestFailure failure, int attempts) {}
    }

    private final StorageRetryPolicy policy;
    private final Function<Throwable, RequestFailure> classifier;
    private final Function<Throwable, String> describer;
    private final Listener listener;
    private final ScheduledThreadPoolExecutor timer;

    @GuardedBy("this")
    private final Set<RetryingCall<?>> inFlight = Sets.newIdentityHashSet();
    @GuardedBy("this")
    private boolean closed;

    /**
     * @param classifier reads a failure of one attempt (as the attempt's future failed, wrappers removed)
     * @param describer the last failure's words in the error of a request given up on
     */
    public StorageRetrier(StorageRetryPolicy policy, Function<Throwable, RequestFailure> classifier, Function<Throwable, String> describer, Listener listener, String threadName)
    {
        this.policy = requireNonNull(policy, "policy is null");
        this.classifier = requireNonNull(classifier, "classifier is null");
        this.describer = requireNonNull(describer, "describer is null");
        this.listener = requireNonNull(listener, "listener is null");
        this.timer = new ScheduledThreadPoolExecutor(1, daemonThreadsNamed(requireNonNull(threadName, "threadName is null") + "-%s"));
        this.timer.setRemoveOnCancelPolicy(true);
    }

    public StorageRetryPolicy policy()
    {
        return policy;
    }

    /**
     * Makes a request, retrying it while the policy allows.
     *
     * @param action what the request does, for the error message: {@code write}, {@code list}, ...
     * @param location the file or directory it is about
     * @param attempt starts attempt {@code n} (from 1) and returns its future
     * @param translate turns a failure the request is given up on into the error its caller sees
     */
    public <T> ListenableFuture<T> call(String action, URI location, IntFunction<ListenableFuture<T>> attempt, Function<Throwable, TrinoException> translate)
    {
        RetryingCall<T> call = new RetryingCall<>(action, location, attempt, translate);
        synchronized (this) {
            if (closed) {
                return immediateFailedFuture(storageClosed(action, location));
            }
            inFlight.add(call);
        }
        call.addListener(() -> forget(call), directExecutor());
        call.start();
        return call;
    }

    private synchronized void forget(RetryingCall<?> call)
    {
        inFlight.remove(call);
    }

    private static TrinoException storageClosed(String action, URI location)
    {
        return new TrinoException(SPOOL_STORAGE_ERROR, "Failed to %s %s: the spool storage was closed before the request completed".formatted(action, location));
    }

    static Throwable unwrap(Throwable failure)
    {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    /**
     * Fails every request still in flight as closed by the storage, and every later one at once. A backend closes its
     * clients first, so that what the clients still answer is answered, then the retrier for what they never will.
     */
    @Override
    public void close()
    {
        List<RetryingCall<?>> pending;
        synchronized (this) {
            closed = true;
            pending = ImmutableList.copyOf(inFlight);
            inFlight.clear();
        }
        // retries still waiting run no more
        timer.shutdownNow();
        for (RetryingCall<?> call : pending) {
            call.storageClosed();
        }
    }

    @Override
    public String toString()
    {
        return "StorageRetrier{%s}".formatted(policy);
    }

    private final class RetryingCall<T>
            extends AbstractFuture<T>
    {
        private final String action;
        private final URI location;
        private final IntFunction<ListenableFuture<T>> attempt;
        private final Function<Throwable, TrinoException> translate;

        @GuardedBy("this")
        private int attempts;
        @GuardedBy("this")
        private long firstFailureNanos;
        @GuardedBy("this")
        private Future<?> pending;

        RetryingCall(String action, URI location, IntFunction<ListenableFuture<T>> attempt, Function<Throwable, TrinoException> translate)
        {
            this.action = requireNonNull(action, "action is null");
            this.location = requireNonNull(location, "location is null");
            this.attempt = requireNonNull(attempt, "attempt is null");
            this.translate = requireNonNull(translate, "translate is null");
        }

        void start()
        {
            ListenableFuture<T> current;
            int number;
            synchronized (this) {
                if (isDone()) {
                    return;
                }
                attempts++;
                number = attempts;
            }
            try {
                current = attempt.apply(number);
            }
            catch (RuntimeException e) {
                current = Futures.immediateFailedFuture(e);
            }
            synchronized (this) {
                pending = current;
            }
            ListenableFuture<T> started = current;
            started.addListener(() -> attemptDone(started), directExecutor());
            if (isCancelled()) {
                started.cancel(true);
            }
        }

        private void attemptDone(ListenableFuture<T> done)
        {
            if (isDone()) {
                return;
            }
            Throwable failure;
            try {
                set(Futures.getDone(done));
                return;
            }
            catch (ExecutionException e) {
                failure = unwrap(e.getCause());
            }
            catch (CancellationException e) {
                failure = e;
            }
            catch (RuntimeException e) {
                failure = e;
            }
            RequestFailure classified = failure instanceof CancellationException ? RequestFailure.permanent("cancelled") : classifier.apply(failure);
            if (!classified.retryable()) {
                setException(translate.apply(failure));
                return;
            }
            int made;
            Duration sinceFirstFailure;
            synchronized (this) {
                long now = System.nanoTime();
                if (firstFailureNanos == 0) {
                    firstFailureNanos = now;
                }
                made = attempts;
                sinceFirstFailure = Duration.ofNanos(now - firstFailureNanos);
            }
            if (!policy.retryAgain(made, sinceFirstFailure) || timer.isShutdown()) {
                listener.gaveUp(classified, made);
                setException(retriesExhausted(action, location, classified.status(), made, sinceFirstFailure, policy, describer.apply(failure), failure));
                return;
            }
            listener.retrying(classified);
            Duration delay = policy.backoff(classified.kind(), made, sinceFirstFailure, ThreadLocalRandom.current().nextDouble());
            synchronized (this) {
                try {
                    pending = timer.schedule(this::start, delay.toNanos(), TimeUnit.NANOSECONDS);
                }
                catch (RuntimeException e) {
                    // the storage is closing
                    listener.gaveUp(classified, made);
                    setException(retriesExhausted(action, location, classified.status(), made, sinceFirstFailure, policy, describer.apply(failure), failure));
                }
            }
        }

        void storageClosed()
        {
            if (setException(StorageRetrier.storageClosed(action, location))) {
                Future<?> current;
                synchronized (this) {
                    current = pending;
                }
                if (current != null) {
                    // the attempt may hold a connection or a buffer: let it go
                    current.cancel(true);
                }
            }
        }

        @Override
        protected void afterDone()
        {
            if (isCancelled()) {
                Future<?> current;
                synchronized (this) {
                    current = pending;
                }
                if (current != null) {
                    current.cancel(true);
                }
            }
        }
    }
}
