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

import java.util.ArrayList;
import java.util.List;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * The buffers one source's ranged reads land in. A buffer comes back once its chunk is decoded (the decoder keeps
 * nothing of it) and serves the next read it is large enough for, so a source reading gigabytes allocates a
 * handful of buffers instead of a new one, up to 4 MB on S3, per read. A buffer whose read was abandoned is never
 * reused: its transfer may still be writing to it. Not thread-safe: the owning source serializes calls.
 */
final class ReadBufferPool
{
    private final int maxFreeBuffers;
    private final List<byte[]> free = new ArrayList<>();
    private long retainedBytes;

    ReadBufferPool(int maxFreeBuffers)
    {
        checkArgument(maxFreeBuffers >= 0, "maxFreeBuffers is negative");
        this.maxFreeBuffers = maxFreeBuffers;
    }

    /**
     * A buffer of at least {@code length} bytes: a free one if one is large enough, else a new one of exactly that size.
     */
    byte[] take(int length)
    {
        int best = -1;
        for (int i = 0; i < free.size(); i++) {
            int capacity = free.get(i).length;
            if (capacity >= length && (best < 0 || capacity < free.get(best).length)) {
                best = i;
            }
        }
        if (best >= 0) {
            return free.remove(best);
        }
        retainedBytes += length;
        return new byte[length];
    }

    /**
     * Takes back a buffer nothing refers to any more; beyond the free limit the smallest buffer is dropped.
     */
    void release(byte[] buffer)
    {
        free.add(buffer);
        if (free.size() > maxFreeBuffers) {
            int smallest = 0;
            for (int i = 1; i < free.size(); i++) {
                if (free.get(i).length < free.get(smallest).length) {
                    smallest = i;
                }
            }
            retainedBytes -= free.remove(smallest).length;
        }
    }

    /**
     * Lets the free buffers go.
     */
    void dropFree()
    {
        for (byte[] buffer : free) {
            retainedBytes -= buffer.length;
        }
        free.clear();
    }

    /**
     * Forgets a buffer that is not coming back (its read was abandoned or failed).
     */
    void abandon(byte[] buffer)
    {
        retainedBytes -= buffer.length;
    }

    /**
     * Bytes of all buffers taken and not abandoned, and of the free ones.
     */
    long retainedBytes()
    {
        return retainedBytes;
    }

    int freeBuffers()
    {
        return free.size();
    }
}
