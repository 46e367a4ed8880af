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
package io.spoolex.storage.azure;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * The connection pool limits of Trino's Azure exchange storage (its Netty pool's), kept for the JDK HTTP client, which
 * has none of its own: at most {@code exchange.azure.max-connections} requests hold a connection (from sending until
 * their answer is read), at most {@code exchange.azure.pending-acquire-max-count} more wait for one, each at most
 * {@code exchange.azure.connection-acquisition-timeout}.
 */
final class ConnectionSlots
{
    /**
     * Told when the request may go ahead, or why it may not.
     */
    interface Waiter
    {
        void granted();

        void refused(Exception reason);
    }

    /**
     * A wait that timed out. A {@link TimeoutException}, so that the Azure SDK retries the request as it retries a
     * pool's acquire timeout.
     */
    static final class AcquireTimeoutException
            extends TimeoutException
    {
        AcquireTimeoutException(String message)
        {
            super(message);
        }
    }

    private final int maxConnections;
    private final int maxPending;
    private final long timeoutMillis;
    private final ScheduledExecutorService timer;
    private final AzureStorageStats stats;

    @GuardedBy("this")
    private int inUse;
    @GuardedBy("this")
    private final Set<Pending> pending = new LinkedHashSet<>();

    ConnectionSlots(int maxConnections, int maxPending, long timeoutMillis, ScheduledExecutorService timer, AzureStorageStats stats)
    {
        checkArgument(maxConnections >= 1, "maxConnections must be at least 1");
        checkArgument(maxPending >= 0, "maxPending is negative");
        this.maxConnections = maxConnections;
        this.maxPending = maxPending;
        this.timeoutMillis = timeoutMillis;
        this.timer = requireNonNull(timer, "timer is null");
        this.stats = requireNonNull(stats, "stats is null");
    }

    /**
     * Calls {@link Waiter#granted()} now or once a connection is released, or {@link Waiter#refused} when too many
     * wait already or the wait times out. Returns what withdraws the wait (a connection already granted stays granted:
     * the waiter releases it).
     */
    Runnable acquire(Waiter waiter)
    {
        Pending waiting = null;
        int waitingCount = -1;
        synchronized (this) {
            if (inUse < maxConnections) {
                inUse++;
            }
            else if (pending.size() >= maxPending) {
                waitingCount = pending.size();
            }
            else {
                waiting = new Pending(waiter);
                pending.add(waiting);
            }
        }
        if (waitingCount >= 0) {
            stats.getConnectionAcquireFailures().update(1);
            waiter.refused(new IllegalStateException("%s requests already wait for one of the %s connections to Azure Storage (%s, %s)"
                    .formatted(waitingCount, maxConnections, AzureStorageConfig.PENDING_ACQUIRE_MAX_COUNT, AzureStorageConfig.MAX_CONNECTIONS)));
            return () -> {};
        }
        if (waiting == null) {
            waiter.granted();
            return () -> {};
        }
        stats.getConnectionWaits().update(1);
        Pending scheduled = waiting;
        ScheduledFuture<?> timeout = timer.schedule(() -> timeOut(scheduled), timeoutMillis, TimeUnit.MILLISECONDS);
        scheduled.setTimeout(timeout);
        return () -> withdraw(scheduled);
    }

    /**
     * Returns a connection; the longest waiting request gets it.
     */
    void release()
    {
        Pending next;
        synchronized (this) {
            next = pending.isEmpty() ? null : pending.iterator().next();
            if (next == null) {
                inUse--;
                return;
            }
            pending.remove(next);
        }
        next.cancelTimeout();
        next.waiter.granted();
    }

    synchronized int inUse()
    {
        return inUse;
    }

    synchronized int waiting()
    {
        return pending.size();
    }

    private void timeOut(Pending waiting)
    {
        synchronized (this) {
            if (!pending.remove(waiting)) {
                return;
            }
        }
        stats.getConnectionAcquireFailures().update(1);
        waiting.waiter.refused(new AcquireTimeoutException("no connection to Azure Storage became free within %s ms (%s; all %s of %s in use)"
                .formatted(timeoutMillis, AzureStorageConfig.CONNECTION_ACQUISITION_TIMEOUT, maxConnections, AzureStorageConfig.MAX_CONNECTIONS)));
    }

    private void withdraw(Pending waiting)
    {
        synchronized (this) {
            if (!pending.remove(waiting)) {
                return;
            }
        }
        waiting.cancelTimeout();
    }

    private static final class Pending
    {
        private final Waiter waiter;
        @GuardedBy("this")
        private ScheduledFuture<?> timeout;
        @GuardedBy("this")
        private boolean done;

        Pending(Waiter waiter)
        {
            this.waiter = requireNonNull(waiter, "waiter is null");
        }

        synchronized void setTimeout(ScheduledFuture<?> timeout)
        {
            if (done) {
                timeout.cancel(false);
                return;
            }
            this.timeout = timeout;
        }

        synchronized void cancelTimeout()
        {
            done = true;
            if (timeout != null) {
                timeout.cancel(false);
            }
        }
    }
}
