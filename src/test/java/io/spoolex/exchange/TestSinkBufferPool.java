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

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

public class TestSinkBufferPool
{
    private volatile Thread executorThread;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "sink-buffer-pool-test");
        thread.setDaemon(true);
        executorThread = thread;
        return thread;
    });

    @AfterEach
    public void tearDown()
    {
        executor.shutdownNow();
    }

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

        pool.release(taken.removeLast());
        assertThat(blocked).isDone();
        assertThat(pool.isBlocked()).isDone();

        // released buffers are reused, not reallocated
        taken.add(pool.take());
        assertThat(pool.allocatedBytes()).isEqualTo(3000);
        assertThat(pool.peakAllocatedBytes()).isEqualTo(3000);
        assertThat(pool.waits()).isZero();

        pool.close();
        assertThat(pool.allocatedBytes()).isEqualTo(3000);
        taken.forEach(pool::release);
        assertThat(pool.allocatedBytes()).isZero();
        assertThat(pool.isBlocked()).isDone();
    }

    @Test
    public void testTakeWaitsForAReleaseOnceTheBudgetIsSpent()
            throws Exception
    {
        // a page being added when the pool runs dry waits for a write to return a buffer: never above the budget
        SinkBufferPool pool = new SinkBufferPool(1000, 2000);
        byte[] first = pool.take();
        pool.take();
        CompletableFuture<byte[]> third = CompletableFuture.supplyAsync(pool::take, executor);
        awaitWaiting(third);
        assertThat(pool.allocatedBytes()).isEqualTo(2000);
        pool.release(first);
        assertThat(third.get(10, SECONDS)).isSameAs(first);
        assertThat(pool.waits()).isEqualTo(1);
        assertThat(pool.peakAllocatedBytes()).isEqualTo(2000);
    }

    @Test
    public void testScratchComesFromThePool()
    {
        SinkBufferPool pool = new SinkBufferPool(1000, 2000);
        byte[] scratch = pool.take(900);
        assertThat(scratch).hasSize(1000);
        assertThat(pool.allocatedBytes()).isEqualTo(1000);
        pool.release(scratch);
        assertThatThrownBy(() -> pool.take(1001)).hasMessageContaining("1001");
    }

    @Test
    public void testCloseReleasesAWaitingTake()
            throws Exception
    {
        SinkBufferPool pool = new SinkBufferPool(1000, 1000);
        pool.take();
        CompletableFuture<byte[]> waiting = CompletableFuture.supplyAsync(pool::take, executor);
        awaitWaiting(waiting);
        pool.close();
        // the sink is going away: the late page gets a buffer it will drop, and the pool forgets it once released
        pool.release(waiting.get(10, SECONDS));
        assertThat(pool.allocatedBytes()).isEqualTo(1000);
    }

    private void awaitWaiting(CompletableFuture<byte[]> taking)
            throws InterruptedException
    {
        // the taker is parked in wait() once its thread is WAITING; it cannot have finished without a release
        while (executorThread == null || executorThread.getState() != Thread.State.WAITING) {
            Thread.sleep(5);
        }
        assertThat(taking).isNotDone();
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
