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
package io.spoolex.format;

import com.google.errorprone.annotations.concurrent.GuardedBy;

import java.util.ArrayDeque;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * Scratch arrays kept for reuse, for encoders outside a sink (codec benchmark, format tests), which have no buffer
 * pool to borrow from. One instance can serve many encoders: it holds about as many arrays as blocks are encoded at
 * once, and {@link #allocatedBytes()} says how much that is. Thread-safe.
 */
public final class SharedCompressionScratch
        implements CompressionScratch
{
    @GuardedBy("this")
    private final ArrayDeque<byte[]> free = new ArrayDeque<>();
    @GuardedBy("this")
    private long allocatedBytes;
    @GuardedBy("this")
    private long peakAllocatedBytes;
    @GuardedBy("this")
    private boolean closed;

    @Override
    public synchronized byte[] take(int bytes)
    {
        checkArgument(bytes >= 0, "bytes is negative");
        byte[] array = free.pollFirst();
        if (array != null && array.length >= bytes) {
            return array;
        }
        if (array != null) {
            // blocks only grow when a sink's block size does, which it does not: dropping a short array is rare
            allocatedBytes -= array.length;
        }
        allocatedBytes += bytes;
        peakAllocatedBytes = Math.max(peakAllocatedBytes, allocatedBytes);
        return new byte[bytes];
    }

    @Override
    public synchronized void release(byte[] array)
    {
        if (closed) {
            allocatedBytes -= array.length;
            return;
        }
        free.addFirst(array);
    }

    /**
     * Drops the free arrays, and those lent out when they come back.
     */
    public synchronized void close()
    {
        closed = true;
        for (byte[] array : free) {
            allocatedBytes -= array.length;
        }
        free.clear();
    }

    /**
     * Bytes of the arrays this instance holds (lent out or free).
     */
    public synchronized long allocatedBytes()
    {
        return allocatedBytes;
    }

    public synchronized long peakAllocatedBytes()
    {
        return peakAllocatedBytes;
    }
}
