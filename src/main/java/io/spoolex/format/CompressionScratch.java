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

/**
 * Where an encrypting {@link SpoolFileEncoder} borrows the array it compresses a block into before sealing it (the
 * JDK's AES-GCM runs about twice as fast out of place). An array is lent for one block only, so however many files a
 * sink keeps open (one per output partition), it holds about as many as it encodes blocks at once. A sink lends them
 * from its buffer pool, so they count against the pool's budget like every other buffer.
 */
public interface CompressionScratch
{
    /**
     * An array of at least {@code bytes}; give it back with {@link #release}. May wait for memory.
     */
    byte[] take(int bytes);

    void release(byte[] array);
}
