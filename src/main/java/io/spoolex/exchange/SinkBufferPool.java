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

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.CompletableFuture;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * The memory of one sink: equal-sized buffers (one spool block each, a few hundred KB, so never a G1 humongous
 * object whatever the backend's write size) allocated lazily up to a byte budget and reused.
 * Taking a buffer never blocks; instead {@link #isBlocked()} tells the engine to stop adding pages while the
 * buffers in use reach the budget, until writes complete and return theirs.
 */
final class SinkBufferPool
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

    synchronized byte[] take()
    {
        inUseBytes += bufferBytes;
        byte[] buffer = free.pollFirst();
        if (buffer == null) {
            buffer = new byte[bufferBytes];
            allocatedBytes += bufferBytes;
            peakAllocatedBytes = Math.max(peakAllocatedBytes, allocatedBytes);
        }
        return buffer;
    }

    void release(byte[] buffer)
    {
        CompletableFuture<Void> unblocked = null;
        synchronized (this) {
            inUseBytes -= bufferBytes;
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

    /** Wakes up whoever waits on {@link #isBlocked()}, e.g. to see a failure. */
    void wakeUp()
    {
        CompletableFuture<Void> blocked;
        synchronized (this) {
            blocked = notFull;
        }
        blocked.complete(null);
    }

    /** Bytes of buffers this pool holds, in use or free. */
    long allocatedBytes()
    {
        return allocatedBytes;
    }

    long peakAllocatedBytes()
    {
        return peakAllocatedBytes;
    }

    /** Drops the free buffers; buffers still in use are dropped as they come back. */
    void close()
    {
        CompletableFuture<Void> blocked;
        synchronized (this) {
            closed = true;
            allocatedBytes -= (long) free.size() * bufferBytes;
            free.clear();
            blocked = notFull;
        }
        blocked.complete(null);
    }
}
