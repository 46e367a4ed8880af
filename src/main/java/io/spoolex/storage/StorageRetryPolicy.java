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

import java.time.Duration;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * How a backend retries a storage request that fails with a retryable error ({@link RequestFailure}): at least
 * {@code minAttempts} attempts and at least {@code retryTime} after the first failure, whichever allows more, with
 * exponential backoff (equal jitter) between attempts; throttled requests start from a longer delay. Each request
 * backs off on its own: a throttled or failing request never delays another.
 *
 * @param minAttempts attempts a failing request gets at least, counting the first
 * @param retryTime how long after its first failure a request is still retried: the storage outage it rides out
 * @param baseDelay backoff before the first retry of a transient failure; doubled for each further retry
 * @param throttledBaseDelay backoff before the first retry of a throttled request; doubled for each further retry
 * @param maxDelay the longest backoff between two attempts
 * @param minAttemptsProperty the property setting {@code minAttempts}, named in errors
 * @param retryTimeProperty the property setting {@code retryTime}, named in errors
 */
public record StorageRetryPolicy(
        int minAttempts,
        Duration retryTime,
        Duration baseDelay,
        Duration throttledBaseDelay,
        Duration maxDelay,
        String minAttemptsProperty,
        String retryTimeProperty)
{
    public StorageRetryPolicy
    {
        checkArgument(minAttempts >= 1, "minAttempts must be at least 1");
        requireNonNull(retryTime, "retryTime is null");
        checkArgument(!retryTime.isNegative(), "retryTime is negative");
        requireNonNull(baseDelay, "baseDelay is null");
        requireNonNull(throttledBaseDelay, "throttledBaseDelay is null");
        requireNonNull(maxDelay, "maxDelay is null");
        checkArgument(baseDelay.isPositive() && throttledBaseDelay.isPositive() && maxDelay.isPositive(), "delays must be positive");
        requireNonNull(minAttemptsProperty, "minAttemptsProperty is null");
        requireNonNull(retryTimeProperty, "retryTimeProperty is null");
    }

    /**
     * Whether a request that has made {@code attempts} attempts, the first failing {@code sinceFirstFailure} ago, is
     * tried again.
     */
    public boolean retryAgain(int attempts, Duration sinceFirstFailure)
    {
        return attempts < minAttempts || sinceFirstFailure.compareTo(retryTime) < 0;
    }

    /**
     * The backoff before attempt {@code attempts + 1}: half of {@code base * 2^(attempts - 1)} (capped at
     * {@code maxDelay}) plus a random part of up to the other half, shortened so that the last retry starts when
     * {@code retryTime} is up rather than long after (unless attempts are still owed).
     *
     * @param random a uniform draw in [0, 1)
     */
    public Duration backoff(RequestFailure.Kind kind, int attempts, Duration sinceFirstFailure, double random)
    {
        checkArgument(attempts >= 1, "attempts must be at least 1");
        Duration base = kind == RequestFailure.Kind.THROTTLED ? throttledBaseDelay : baseDelay;
        long capNanos = maxDelay.toNanos();
        long exponential = base.toNanos();
        for (int i = 1; i < attempts && exponential < capNanos; i++) {
            exponential *= 2;
        }
        long delay = Math.min(exponential, capNanos);
        long jittered = delay / 2 + (long) (random * (delay - delay / 2));
        if (attempts >= minAttempts) {
            long left = retryTime.toNanos() - sinceFirstFailure.toNanos();
            jittered = Math.max(Math.min(jittered, left), 0);
        }
        return Duration.ofNanos(jittered);
    }
}
