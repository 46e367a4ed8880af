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
package io.spoolex.storage.gcs;

import com.google.api.gax.retrying.ResultRetryAlgorithm;
import com.google.api.gax.retrying.RetrySettings;
import com.google.api.gax.retrying.TimedAttemptSettings;
import com.google.cloud.storage.HttpStorageOptions;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageOptions;
import com.google.cloud.storage.StorageRetryStrategy;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.ListeningExecutorService;
import io.airlift.log.Logger;
import io.airlift.stats.CounterStat;
import io.spoolex.storage.RequestFailure;
import io.spoolex.storage.StorageRetrier;
import io.spoolex.storage.StorageRetryPolicy;

import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import static com.google.common.util.concurrent.MoreExecutors.listeningDecorator;
import static io.airlift.concurrent.MoreFutures.addExceptionCallback;
import static io.airlift.concurrent.Threads.daemonThreadsNamed;
import static java.util.Objects.requireNonNull;

/**
 * The GCS JSON-API client of one storage: the library's {@link Storage} service is blocking, so its calls run on a
 * pool of Spoolex's own threads, and every single request is attempted once by the library and retried by the storage
 * layer's {@link StorageRetrier} (as S3 and Azure requests are). A resumable upload's chunks are the exception: they go
 * through a second service whose own retries (429, 5xx, broken connections; same backoff and time) resume the upload
 * where GCS has it, which a retry from outside could not.
 */
final class GcsClients
        implements AutoCloseable
{
    private static final Logger log = Logger.get(GcsClients.class);

    /**
     * Blocking requests at once: reads, uploads and deletes of every sink and source of this worker.
     */
    static final int THREADS = 64;

    private final Storage storage;
    private final Storage resumable;
    private final ThreadPoolExecutor pool;
    private final ListeningExecutorService executor;
    private final StorageRetrier retrier;
    private final GcsStorageStats stats;
    private final String description;

    GcsClients(GcsCredentials credentials, StorageRetryPolicy policy, GcsServiceFactory serviceFactory, GcsStorageStats stats, String threadName)
    {
        requireNonNull(credentials, "credentials is null");
        requireNonNull(policy, "policy is null");
        requireNonNull(serviceFactory, "serviceFactory is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.storage = serviceFactory.create(options(credentials, RetrySettings.newBuilder().setMaxAttempts(1).build()));
        this.resumable = serviceFactory.create(options(credentials, libraryRetries(policy)));
        this.pool = new ThreadPoolExecutor(THREADS, THREADS, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), daemonThreadsNamed(threadName + "-%s"));
        pool.allowCoreThreadTimeOut(true);
        this.executor = listeningDecorator(pool);
        this.retrier = new StorageRetrier(policy, GcsFailures::classify, GcsFailures::describe, new StorageRetrier.Listener()
        {
            @Override
            public void retrying(RequestFailure failure)
            {
                stats.getRetries().update(1);
                if (failure.kind() == RequestFailure.Kind.THROTTLED) {
                    stats.getThrottled().update(1);
                }
            }
        }, threadName + "-retry");
        this.description = "GCS JSON API at %s, credentials: %s".formatted(storage.getOptions().getHost(), credentials);
    }

    private static HttpStorageOptions.Builder options(GcsCredentials credentials, RetrySettings retries)
    {
        HttpStorageOptions.Builder builder = StorageOptions.http()
                .setCredentials(credentials.credentials())
                .setRetrySettings(retries)
                // every request may be retried: Spoolex never writes a name twice, so a repeated write writes the same bytes
                .setStorageRetryStrategy(new AnswerlessRetried());
        credentials.projectId().ifPresent(builder::setProjectId);
        return builder;
    }

    /**
     * The library's uniform strategy (every request retryable), which also retries a request that got no answer for
     * any I/O failure, as {@link GcsFailures} does for Spoolex's own retries: the uniform one knows only some
     * exceptions (resets, an unexpected end of file), so a resumable upload whose session start failed with the JDK's
     * {@code IOException: Error writing to server} during a short outage was given up on at once, failing the task.
     */
    static final class AnswerlessRetried
            implements StorageRetryStrategy
    {
        private static final long serialVersionUID = 1;

        private final StorageRetryStrategy uniform = StorageRetryStrategy.getUniformStorageRetryStrategy();

        @Override
        public ResultRetryAlgorithm<?> getIdempotentHandler()
        {
            return withAnswerless(uniform.getIdempotentHandler());
        }

        @Override
        public ResultRetryAlgorithm<?> getNonidempotentHandler()
        {
            return withAnswerless(uniform.getNonidempotentHandler());
        }

        private static <T> ResultRetryAlgorithm<T> withAnswerless(ResultRetryAlgorithm<T> delegate)
        {
            return new ResultRetryAlgorithm<>()
            {
                @Override
                public TimedAttemptSettings createNextAttempt(Throwable previousThrowable, T previousResponse, TimedAttemptSettings previousSettings)
                {
                    return delegate.createNextAttempt(previousThrowable, previousResponse, previousSettings);
                }

                @Override
                public boolean shouldRetry(Throwable previousThrowable, T previousResponse)
                {
                    return delegate.shouldRetry(previousThrowable, previousResponse) || GcsFailures.isAnswerless(previousThrowable);
                }
            };
        }
    }

    /**
     * The library's own retries, for resumable uploads: the storage layer's backoff, for at least the retry time and
     * about the attempts of the policy.
     */
    static RetrySettings libraryRetries(StorageRetryPolicy policy)
    {
        Duration total = policy.retryTime().compareTo(policy.maxDelay().multipliedBy(policy.minAttempts())) > 0
                ? policy.retryTime()
                : policy.maxDelay().multipliedBy(policy.minAttempts());
        return RetrySettings.newBuilder()
                .setMaxAttempts(0)
                .setTotalTimeoutDuration(total)
                .setInitialRetryDelayDuration(policy.baseDelay())
                .setRetryDelayMultiplier(2.0)
                .setMaxRetryDelayDuration(policy.maxDelay())
                .setJittered(true)
                .build();
    }

    /**
     * How Spoolex retries GCS requests: at least {@code exchange.s3.max-error-retries} attempts and at least
     * {@code exchange.s3.retry-time} after the first failure; 100 ms doubled per retry (from 1 s when throttled, as
     * GCS asks for exponential backoff on 429), at most 5 s apart.
     */
    static StorageRetryPolicy retryPolicy(int minAttempts, io.airlift.units.Duration retryTime, String minAttemptsProperty, String retryTimeProperty)
    {
        return new StorageRetryPolicy(
                minAttempts,
                Duration.ofMillis(retryTime.toMillis()),
                Duration.ofMillis(100),
                Duration.ofSeconds(1),
                Duration.ofSeconds(5),
                minAttemptsProperty,
                retryTimeProperty);
    }

    Storage storage()
    {
        return storage;
    }

    Storage resumable()
    {
        return resumable;
    }

    StorageRetryPolicy policy()
    {
        return retrier.policy();
    }

    /**
     * One request, on the pool, retried by the policy; failures given up on name the location.
     *
     * @param operation the request's counter
     * @param action what it does, for errors ({@code write}, {@code read}, ...)
     */
    <T> ListenableFuture<T> call(CounterStat operation, String action, URI location, Callable<T> attempt)
    {
        operation.update(1);
        ListenableFuture<T> result = retrier.call(action, location, _ -> executor.submit(attempt), failure -> GcsFailures.translate(action, location, failure));
        addExceptionCallback(result, () -> stats.getFailedRequests().update(1));
        return result;
    }

    /**
     * Work of its own on the pool, not retried here (a resumable upload's writes, which the library retries).
     */
    <T> ListenableFuture<T> submit(Callable<T> work)
    {
        return executor.submit(work);
    }

    @Override
    public void close()
    {
        // work that never started fails as cancelled instead of never completing; running work is interrupted
        for (Runnable queued : pool.shutdownNow()) {
            if (queued instanceof Future<?> future) {
                future.cancel(false);
            }
        }
        retrier.close();
        for (Storage service : new Storage[] {storage, resumable}) {
            try {
                service.close();
            }
            catch (Exception e) {
                log.debug(e, "Closing the GCS client failed");
            }
        }
    }

    @Override
    public String toString()
    {
        return description;
    }
}
