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

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

public class TestReadBufferPool
{
    @Test
    public void testReusesTheSmallestBufferThatFits()
    {
        ReadBufferPool pool = new ReadBufferPool(4);
        byte[] large = pool.take(4000);
        byte[] small = pool.take(100);
        assertThat(large).hasSize(4000);
        assertThat(small).hasSize(100);
        assertThat(pool.retainedBytes()).isEqualTo(4100);

        pool.release(large);
        pool.release(small);
        assertThat(pool.take(50)).isSameAs(small);
        assertThat(pool.take(3000)).isSameAs(large);
        // nothing free: a new buffer of exactly the size asked for
        assertThat(pool.take(50)).isNotSameAs(small).isNotSameAs(large).hasSize(50);
        assertThat(pool.retainedBytes()).isEqualTo(4150);
    }

    @Test
    public void testKeepsTheLargestFreeBuffersUpToItsLimit()
    {
        ReadBufferPool pool = new ReadBufferPool(2);
        byte[] a = pool.take(10);
        byte[] b = pool.take(30);
        byte[] c = pool.take(20);
        pool.release(a);
        pool.release(b);
        pool.release(c);
        assertThat(pool.freeBuffers()).isEqualTo(2);
        assertThat(pool.retainedBytes()).isEqualTo(50);
        assertThat(pool.take(25)).isSameAs(b);
        assertThat(pool.take(15)).isSameAs(c);
        assertThat(pool.freeBuffers()).isZero();
    }

    @Test
    public void testAbandonedAndDroppedBuffersAreNoLongerCounted()
    {
        ReadBufferPool pool = new ReadBufferPool(4);
        byte[] inFlight = pool.take(1000);
        byte[] done = pool.take(500);
        pool.release(done);
        // an abandoned read's buffer is never handed out again
        pool.abandon(inFlight);
        assertThat(pool.retainedBytes()).isEqualTo(500);
        assertThat(pool.take(800)).isNotSameAs(inFlight);
        assertThat(pool.retainedBytes()).isEqualTo(1300);

        pool.dropFree();
        assertThat(pool.freeBuffers()).isZero();
        assertThat(pool.retainedBytes()).isEqualTo(800);
    }
}
