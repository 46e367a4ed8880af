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

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

public class TestSinkBufferPool
{
    @Test
    public void testBlocksAtBudgetAndUnblocksOnRelease()
    {
        SinkBufferPool pool = new SinkBufferPool(1000, 3000);
        assertThat(pool.isBlocked()).isDone();
        assertThat(pool.allocatedBytes()).isZero();

        List<byte[]> taken = new ArrayList<>();
        taken.add(pool.take());
        taken.add(pool.take());
        assertThat(pool.isBlocked()).isDone();
        taken.add(pool.take());
        CompletableFuture<Void> blocked = pool.isBlocked();
        assertThat(blocked).isNotDone();
        assertThat(pool.allocatedBytes()).isEqualTo(3000);

        // taking never blocks: one page may overshoot, and the engine is told to wait
        taken.add(pool.take());
        assertThat(pool.allocatedBytes()).isEqualTo(4000);
        pool.release(taken.removeLast());
        assertThat(blocked).isNotDone();
        pool.release(taken.removeLast());
        assertThat(blocked).isDone();
        assertThat(pool.isBlocked()).isDone();

        // released buffers are reused, not reallocated
        taken.add(pool.take());
        assertThat(pool.allocatedBytes()).isEqualTo(4000);
        assertThat(pool.peakAllocatedBytes()).isEqualTo(4000);

        pool.close();
        assertThat(pool.allocatedBytes()).isEqualTo(3000);
        taken.forEach(pool::release);
        assertThat(pool.allocatedBytes()).isZero();
        assertThat(pool.isBlocked()).isDone();
    }

    @Test
    public void testWakeUpCompletesWaiters()
    {
        SinkBufferPool pool = new SinkBufferPool(1000, 1000);
        pool.take();
        CompletableFuture<Void> blocked = pool.isBlocked();
        assertThat(blocked).isNotDone();
        pool.wakeUp();
        assertThat(blocked).isDone();
    }
}
