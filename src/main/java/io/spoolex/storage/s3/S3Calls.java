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
package io.spoolex.storage.s3;

import com.google.common.util.concurrent.ListenableFuture;
import io.airlift.stats.CounterStat;
import io.spoolex.storage.RequestFailure;
import io.spoolex.storage.StorageRetrier;
import io.spoolex.storage.StorageRetryPolicy;
import software.amazon.awssdk.core.retry.RetryMode;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;

import static io.airlift.concurrent.MoreFutures.addExceptionCallback;
import static java.util.Objects.requireNonNull;

/**
 * Every S3 request Spoolex makes goes through here: counted once by operation, attempted (the SDK itself never
 * retries), and retried by the storage layer's {@link StorageRetrier} with {@link S3Failures#classify} telling which
 * failures another attempt can cure. Failures the retrier gives up on, or that no retry cures, become storage errors
 * naming the object.
 */
final class S3Calls
        implements AutoCloseable
{
    private final StorageRetrier retrier;
    private final S3StorageStats stats;

    S3Calls(StorageRetryPolicy policy, S3StorageStats stats)
    {
        this.stats = requireNonNull(stats, "stats is null");
        this.retrier = new StorageRetrier(policy, S3Failures::classify, S3Failures::describe, new StorageRetrier.Listener()
        {
            @Override
            public void retrying(RequestFailure failure)
            {
                stats.getRetries().update(1);
            }
        }, "spoolex-s3-retry");
    }

    StorageRetryPolicy policy()
    {
        return retrier.policy();
    }

    /**
     * How Spoolex retries S3 requests: at least {@code exchange.s3.max-error-retries} attempts and at least
     * {@code exchange.s3.retry-time} after the first failure, with the SDK's backoff for {@code exchange.s3.retry-mode}
     * (100 ms doubled per retry; from 1 s for throttled requests, 500 ms with LEGACY), capped at 5 s instead of the
     * SDK's 20 s so that a request finds storage back soon after an outage ends. Under the adaptive modes each
     * throttled request backs off on its own; the SDK's client-side rate limiter, which slows every request of the
     * client after one SlowDown, is not used (docs/reliability.md has the measurements).
     */
    static StorageRetryPolicy retryPolicy(S3StorageConfig config)
    {
        Duration throttledBaseDelay = config.getRetryMode() == RetryMode.LEGACY ? Duration.ofMillis(500) : Duration.ofSeconds(1);
        return new StorageRetryPolicy(
                config.maxAttempts(),
                Duration.ofMillis(config.getRetryTime().toMillis()),
                Duration.ofMillis(100),
                throttledBaseDelay,
                Duration.ofSeconds(5),
                S3StorageConfig.MAX_ERROR_RETRIES,
                S3StorageConfig.RETRY_TIME);
    }

    /**
     * @param operation the counter of the API call
     * @param action what the call does, for errors ({@code write}, {@code list}, ...)
     * @param attempt starts attempt {@code n} (from 1); a request body or response transformer must be made anew for
     *         each attempt
     */
    <T> ListenableFuture<T> call(CounterStat operation, String action, S3Location location, IntFunction<CompletableFuture<T>> attempt)
    {
        operation.update(1);
        ListenableFuture<T> result = retrier.call(
                action,
                location.toUri(),
                number -> S3Failures.adapt(() -> attempt.apply(number)),
                failure -> S3Failures.translate(action, location, failure));
        addExceptionCallback(result, () -> stats.getFailedRequests().update(1));
        return result;
    }

    @Override
    public void close()
    {
        retrier.close();
    }
}
