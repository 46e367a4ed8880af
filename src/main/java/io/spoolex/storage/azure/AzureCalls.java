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
package io.spoolex.storage.azure;

import com.google.common.util.concurrent.ListenableFuture;
import io.spoolex.storage.RequestFailure;
import io.spoolex.storage.StorageRetrier;
import io.spoolex.storage.StorageRetryPolicy;
import reactor.core.publisher.Mono;

import java.time.Duration;
import java.util.function.Supplier;

import static io.airlift.concurrent.MoreFutures.addExceptionCallback;
import static java.util.Objects.requireNonNull;

/**
 * Every Azure Storage call Spoolex makes goes through here: attempted once by the SDK (its own retry policy makes a
 * single try), and retried by the storage layer's {@link StorageRetrier}, with {@link AzureFailures#classify} telling
 * which failures another attempt can cure: each request on its own timer, so a throttled request never slows
 * another, for at least {@code exchange.azure.max-error-retries} attempts and {@code exchange.azure.retry-time}.
 * Failures given up on, or that no retry cures, become storage errors naming the blob or directory.
 */
final class AzureCalls
        implements AutoCloseable
{
    /**
     * The attempt of a call (from 1), in the Reactor context of each attempt, for {@link AzureRequestCounter}: the
     * SDK's own retry count is always 1, as the SDK makes one try.
     */
    static final String ATTEMPT = "spoolex-attempt";

    private final StorageRetrier retrier;
    private final AzureStorageStats stats;

    AzureCalls(StorageRetryPolicy policy, AzureStorageStats stats)
    {
        this.stats = requireNonNull(stats, "stats is null");
        this.retrier = new StorageRetrier(policy, AzureFailures::classify, AzureFailures::describe, new StorageRetrier.Listener()
        {
            @Override
            public void retrying(RequestFailure failure)
            {
                stats.getRetries().update(1);
            }
        }, "spoolex-azure-retry");
    }

    /**
     * At least {@code max-error-retries} attempts and {@code retry-time} after the first failure; the backoff starts at
     * {@code retry-delay} (at {@code throttled-retry-delay} for 429 and 503 ServerBusy) and doubles up to
     * {@code max-retry-delay}.
     */
    static StorageRetryPolicy retryPolicy(AzureStorageConfig config)
    {
        return new StorageRetryPolicy(
                config.maxTries(),
                Duration.ofMillis(config.getRetryTime().toMillis()),
                Duration.ofMillis(config.getRetryDelay().toMillis()),
                Duration.ofMillis(config.getThrottledRetryDelay().toMillis()),
                Duration.ofMillis(config.getMaxRetryDelay().toMillis()),
                AzureStorageConfig.MAX_ERROR_RETRIES,
                AzureStorageConfig.RETRY_TIME);
    }

    StorageRetryPolicy policy()
    {
        return retrier.policy();
    }

    /**
     * @param action what the call does, for errors ({@code write}, {@code list}, ...)
     * @param attempt makes the SDK call of one attempt: subscribed to once per attempt, so a request body must be
     *         replayable
     */
    <T> ListenableFuture<T> call(String action, AzureLocation location, Supplier<Mono<T>> attempt)
    {
        ListenableFuture<T> result = retrier.call(
                action,
                location.toUri(),
                number -> AzureFailures.adapt(() -> attempt.get().contextWrite(context -> context.put(ATTEMPT, number))),
                failure -> AzureFailures.translate(action, location, failure));
        addExceptionCallback(result, () -> stats.getFailedRequests().update(1));
        return result;
    }

    @Override
    public void close()
    {
        retrier.close();
    }
}
