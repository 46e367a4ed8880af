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

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.spoolex.format.CompressionScratch;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * The memory of one sink: equal-sized buffers (one spool block each, a few hundred KB, so never a G1 humongous
 * object whatever the backend's write size) allocated lazily up to a byte budget and reused, for raw blocks,
 * encoded blocks and compression scratch alike. {@link #isBlocked()} tells the engine to stop adding pages once the
 * buffers in use reach the budget, until writes complete and return theirs. A page already being added when the
 * pool runs dry (one page can span many blocks) waits in {@link #take()} for a write to return a buffer, so the pool
 * never holds more than its budget. That wait always ends: the sink sizes the budget so that the buffers partitions
 * hold outside of writes can never fill it, so a spent pool always has writes in flight.
 */
final class SinkBufferPool
        implements CompressionScratch
{
    private final int bufferBytes;
    private final long budgetBytes;

    @GuardedBy("this")
    private final Deque<byte[]> free = new ArrayDeque<>();
    @GuardedBy("this")
    private long inUseBytes;
    @GuardedBy("this")
    private CompletableFuture<Void> notFull = CompletableFuture.completedFuture(null);
    @GuardedBy("this")
    private boolean closed;
    @GuardedBy("this")
    private long waits;

    private volatile long allocatedBytes;
    private volatile long peakAllocatedBytes;

    SinkBufferPool(int bufferBytes, long budgetBytes)
    {
        checkArgument(bufferBytes > 0, "bufferBytes must be positive");
        checkArgument(budgetBytes >= bufferBytes, "budget smaller than one buffer");
        this.bufferBytes = bufferBytes;
        this.budgetBytes = budgetBytes;
    }

    int bufferBytes()
    {
        return bufferBytes;
    }

    long budgetBytes()
    {
        return budgetBytes;
    }

    /**
     * A buffer; waits while the budget is in use (see the class comment), unless the pool is closed.
     */
    synchronized byte[] take()
    {
        boolean waited = false;
        while (inUseBytes + bufferBytes > budgetBytes && !closed) {
            waited = true;
            try {
                wait();
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeException("interrupted while waiting for a sink buffer", e);
            }
        }
        if (waited) {
            waits++;
        }
        inUseBytes += bufferBytes;
        byte[] buffer = free.pollFirst();
        if (buffer == null) {
            buffer = new byte[bufferBytes];
            allocatedBytes += bufferBytes;
            peakAllocatedBytes = Math.max(peakAllocatedBytes, allocatedBytes);
        }
        return buffer;
    }

    @Override
    public byte[] take(int bytes)
    {
        checkArgument(bytes <= bufferBytes, "scratch of %s bytes asked from a pool of %s-byte buffers", bytes, bufferBytes);
        return take();
    }

    @Override
    public void release(byte[] buffer)
    {
        CompletableFuture<Void> unblocked = null;
        synchronized (this) {
            inUseBytes -= bufferBytes;
            notifyAll();
            if (closed) {
                allocatedBytes -= bufferBytes;
            }
            else {
                free.addFirst(buffer);
            }
            if (inUseBytes < budgetBytes && !notFull.isDone()) {
                unblocked = notFull;
            }
        }
        if (unblocked != null) {
            unblocked.complete(null);
        }
    }

    synchronized CompletableFuture<Void> isBlocked()
    {
        if (inUseBytes < budgetBytes || closed) {
            return notFull.isDone() ? ExchangeFutures.NOT_BLOCKED : notFull;
        }
        if (notFull.isDone()) {
            notFull = new CompletableFuture<>();
        }
        return notFull;
    }

    /**
     * Wakes up whoever waits on {@link #isBlocked()}, e.g. to see a failure.
     */
    void wakeUp()
    {
        CompletableFuture<Void> blocked;
        synchronized (this) {
            blocked = notFull;
        }
        blocked.complete(null);
    }

    /**
     * Bytes of buffers this pool holds, in use or free.
     */
    long allocatedBytes()
    {
        return allocatedBytes;
    }

    long peakAllocatedBytes()
    {
        return peakAllocatedBytes;
    }

    /**
     * How many times {@link #take()} had to wait for a write to return a buffer.
     */
    synchronized long waits()
    {
        return waits;
    }

    /**
     * Drops the free buffers; buffers still in use are dropped as they come back.
     */
    void close()
    {
        CompletableFuture<Void> blocked;
        synchronized (this) {
            closed = true;
            notifyAll();
            allocatedBytes -= (long) free.size() * bufferBytes;
            free.clear();
            blocked = notFull;
        }
        blocked.complete(null);
    }
}
