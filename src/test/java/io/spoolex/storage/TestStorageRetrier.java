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

import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import io.trino.spi.TrinoException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.spoolex.SpoolexErrorCode.SPOOL_FILE_NOT_FOUND;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static io.spoolex.storage.RequestFailure.Kind.PERMANENT;
import static io.spoolex.storage.RequestFailure.Kind.THROTTLED;
import static io.spoolex.storage.RequestFailure.Kind.TRANSIENT;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The storage layer's retry policy and retrier, with attempts made of plain futures: what is retried, for how long,
 * how far apart, what the error says when it gives up, and that cancelling stops it.
 */
public class TestStorageRetrier
{
    private static final URI FILE = URI.create("store://bucket/spool/0_0.spool");

    private final List<StorageRetrier> retriers = new ArrayList<>();

    @AfterEach
    public void close()
    {
        retriers.forEach(StorageRetrier::close);
        retriers.clear();
    }

    @Test
    public void testBackoffDoublesWithEqualJitterUpToTheCap()
    {
        StorageRetryPolicy policy = policy(20, Duration.ofSeconds(30));
        // half the exponential delay, plus up to the other half
        assertThat(policy.backoff(TRANSIENT, 1, Duration.ZERO, 0)).isEqualTo(Duration.ofMillis(50));
        assertThat(policy.backoff(TRANSIENT, 1, Duration.ZERO, 0.999999)).isBetween(Duration.ofMillis(99), Duration.ofMillis(100));
        assertThat(policy.backoff(TRANSIENT, 3, Duration.ZERO, 0)).isEqualTo(Duration.ofMillis(200));
        // throttled requests start from the longer delay
        assertThat(policy.backoff(THROTTLED, 1, Duration.ZERO, 0)).isEqualTo(Duration.ofMillis(500));
        assertThat(policy.backoff(THROTTLED, 2, Duration.ZERO, 0)).isEqualTo(Duration.ofSeconds(1));
        // capped at the longest delay however many attempts
        assertThat(policy.backoff(TRANSIENT, 30, Duration.ZERO, 0.999999)).isBetween(Duration.ofMillis(4999), Duration.ofSeconds(5));
        assertThat(policy.backoff(THROTTLED, 200, Duration.ZERO, 0)).isEqualTo(Duration.ofMillis(2500));
    }

    @Test
    public void testRetriesForAtLeastTheAttemptsAndAtLeastTheRetryTime()
    {
        StorageRetryPolicy policy = policy(3, Duration.ofSeconds(10));
        assertThat(policy.retryAgain(1, Duration.ofSeconds(60))).as("attempts owed").isTrue();
        assertThat(policy.retryAgain(2, Duration.ofSeconds(60))).as("attempts owed").isTrue();
        assertThat(policy.retryAgain(3, Duration.ofSeconds(9))).as("time left").isTrue();
        assertThat(policy.retryAgain(50, Duration.ofSeconds(9))).as("time left").isTrue();
        assertThat(policy.retryAgain(3, Duration.ofSeconds(10))).isFalse();
        // the last retry starts when the retry time is up, not a whole backoff after it
        assertThat(policy.backoff(TRANSIENT, 10, Duration.ofMillis(9_900), 0.5)).isEqualTo(Duration.ofMillis(100));
        // attempts still owed wait their whole backoff
        assertThat(policy.backoff(TRANSIENT, 2, Duration.ofSeconds(20), 0)).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    public void testTransientFailuresAreRetriedUntilSuccess()
            throws Exception
    {
        AtomicInteger attempts = new AtomicInteger();
        List<RequestFailure> retried = new CopyOnWriteArrayList<>();
        StorageRetrier retrier = retrier(policy(1, Duration.ofSeconds(10)), retried);
        ListenableFuture<String> result = retrier.call("read", FILE, attempt -> {
            attempts.incrementAndGet();
            return attempt < 4 ? Futures.immediateFailedFuture(new IOException("connection reset")) : Futures.immediateFuture("content");
        }, TestStorageRetrier::translate);
        assertThat(result.get(10, SECONDS)).isEqualTo("content");
        assertThat(attempts).hasValue(4);
        assertThat(retried).hasSize(3).allSatisfy(failure -> assertThat(failure.kind()).isEqualTo(TRANSIENT));
    }

    @Test
    public void testPermanentFailuresAreNotRetried()
    {
        AtomicInteger attempts = new AtomicInteger();
        StorageRetrier retrier = retrier(policy(10, Duration.ofSeconds(10)), new ArrayList<>());
        ListenableFuture<String> result = retrier.call("read", FILE, _ -> {
            attempts.incrementAndGet();
            return Futures.immediateFailedFuture(new IllegalStateException("access denied"));
        }, TestStorageRetrier::translate);
        assertThatThrownBy(() -> result.get(10, SECONDS))
                .cause()
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode()).isEqualTo(SPOOL_FILE_NOT_FOUND.toErrorCode()))
                .hasMessageContaining("access denied");
        assertThat(attempts).hasValue(1);
    }

    @Test
    public void testGivingUpNamesTheFileTheAnswerAndTheAttempts()
    {
        AtomicInteger attempts = new AtomicInteger();
        StorageRetrier retrier = retrier(policy(4, Duration.ZERO), new ArrayList<>());
        ListenableFuture<String> result = retrier.call("write", FILE, _ -> {
            attempts.incrementAndGet();
            return Futures.immediateFailedFuture(new SlowDown());
        }, TestStorageRetrier::translate);
        assertThatThrownBy(() -> result.get(30, SECONDS))
                .cause()
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode()).isEqualTo(SPOOL_STORAGE_ERROR.toErrorCode()))
                .hasMessageStartingWith("Failed to write store://bucket/spool/0_0.spool: 503 SlowDown, 4 attempts over ")
                .hasMessageContaining("(test.max-attempts=4, test.retry-time=0s): please slow down")
                .cause()
                .isInstanceOf(SlowDown.class);
        assertThat(attempts).hasValue(4);
    }

    @Test
    public void testRidesOutAnOutageOfTheRetryTime()
            throws Exception
    {
        // an outage of 1.5 s with two attempts and 3 s of retry time: the attempts alone would not ride it out
        long outageEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
        AtomicInteger attempts = new AtomicInteger();
        StorageRetrier retrier = retrier(policy(2, Duration.ofSeconds(3)), new ArrayList<>());
        ListenableFuture<String> result = retrier.call("write", FILE, _ -> {
            attempts.incrementAndGet();
            return System.nanoTime() < outageEnd ? Futures.immediateFailedFuture(new IOException("connection refused")) : Futures.immediateFuture("written");
        }, TestStorageRetrier::translate);
        assertThat(result.get(30, SECONDS)).isEqualTo("written");
        assertThat(attempts.get()).isGreaterThan(2);
    }

    @Test
    public void testCancellingStopsTheAttemptInFlightAndTheRetries()
            throws Exception
    {
        List<SettableFuture<String>> started = new CopyOnWriteArrayList<>();
        StorageRetrier retrier = retrier(policy(100, Duration.ofSeconds(60)), new ArrayList<>());
        ListenableFuture<String> result = retrier.call("read", FILE, attempt -> {
            SettableFuture<String> future = SettableFuture.create();
            started.add(future);
            if (attempt == 1) {
                future.setException(new IOException("reset"));
            }
            return future;
        }, TestStorageRetrier::translate);
        long deadline = System.nanoTime() + SECONDS.toNanos(10);
        while (started.size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(started).hasSize(2);
        result.cancel(true);
        assertThat(started.get(1).isCancelled()).as("the attempt in flight is cancelled").isTrue();
        Thread.sleep(300);
        assertThat(started).as("no attempt after the cancel").hasSize(2);
        assertThatThrownBy(result::get).isInstanceOf(CancellationException.class);
    }

    @Test
    public void testCloseFailsEveryRequestStillInFlight()
            throws Exception
    {
        StorageRetrier retrier = retrier(policy(100, Duration.ofSeconds(60)), new ArrayList<>());
        // an attempt whose client was closed under it and never answers
        SettableFuture<String> neverAnswered = SettableFuture.create();
        ListenableFuture<String> unanswered = retrier.call("write", FILE, _ -> neverAnswered, TestStorageRetrier::translate);
        // a request waiting for its next attempt on the retry timer
        ListenableFuture<String> waiting = retrier.call("read", FILE, _ -> Futures.immediateFailedFuture(new SlowDown()), TestStorageRetrier::translate);
        assertThat(unanswered.isDone()).isFalse();
        assertThat(waiting.isDone()).isFalse();

        retrier.close();

        for (ListenableFuture<String> future : List.of(unanswered, waiting)) {
            assertThat(future.isDone()).as("completed by the close").isTrue();
            assertThatThrownBy(future::get)
                    .cause()
                    .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode()).isEqualTo(SPOOL_STORAGE_ERROR.toErrorCode()))
                    .hasMessageContaining("store://bucket/spool/0_0.spool")
                    .hasMessageContaining("the spool storage was closed before the request completed");
        }
        assertThat(neverAnswered.isCancelled()).as("the attempt in flight is let go").isTrue();

        // and a request made after the close fails at once, without an attempt
        AtomicInteger attempts = new AtomicInteger();
        ListenableFuture<String> late = retrier.call("list", FILE, _ -> {
            attempts.incrementAndGet();
            return SettableFuture.create();
        }, TestStorageRetrier::translate);
        assertThat(late.isDone()).isTrue();
        assertThatThrownBy(late::get).hasMessageContaining("Failed to list store://bucket/spool/0_0.spool: the spool storage was closed");
        assertThat(attempts).hasValue(0);
    }

    private StorageRetrier retrier(StorageRetryPolicy policy, List<RequestFailure> retried)
    {
        StorageRetrier retrier = new StorageRetrier(policy, TestStorageRetrier::classify, Throwable::getMessage, new StorageRetrier.Listener()
        {
            @Override
            public void retrying(RequestFailure failure)
            {
                retried.add(failure);
            }
        }, "test-retry");
        retriers.add(retrier);
        return retrier;
    }

    private static StorageRetryPolicy policy(int attempts, Duration retryTime)
    {
        return new StorageRetryPolicy(attempts, retryTime, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofSeconds(5), "test.max-attempts", "test.retry-time");
    }

    private static RequestFailure classify(Throwable failure)
    {
        if (failure instanceof SlowDown) {
            return new RequestFailure(THROTTLED, "503 SlowDown");
        }
        if (failure instanceof IOException) {
            return new RequestFailure(TRANSIENT, "connection failure");
        }
        return new RequestFailure(PERMANENT, failure.getClass().getSimpleName());
    }

    private static TrinoException translate(Throwable failure)
    {
        return new TrinoException(SPOOL_FILE_NOT_FOUND, "translated: " + failure.getMessage(), failure);
    }

    private static final class SlowDown
            extends RuntimeException
    {
        SlowDown()
        {
            super("please slow down");
        }
    }
}
