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

import com.google.common.util.concurrent.ListenableFuture;
import io.airlift.slice.Slice;

/**
 * Ranged reads of one file. Reads may be issued concurrently and complete in any order.
 */
public interface SpoolFileReader
        extends AutoCloseable
{
    /**
     * Reads exactly {@code target.length()} bytes at {@code position} into {@code target}, heap memory the caller
     * lends until the read completes, fails or is cancelled by {@link #close()} (after which the memory must not be
     * lent again: a transfer may still be writing to it). Fails if the file is missing, has fewer bytes, or its size
     * differs from the size it was opened with.
     */
    ListenableFuture<Void> read(long position, Slice target);

    @Override
    void close();
}
