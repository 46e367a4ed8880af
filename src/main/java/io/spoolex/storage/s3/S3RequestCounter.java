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

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

import static java.util.Objects.requireNonNull;

/**
 * Counts S3 attempts and the answers that were throttling or server errors, as the SDK sends and receives them (every
 * attempt is an SDK call of its own: Spoolex retries, the SDK does not). API calls, retries and failed calls are
 * counted where Spoolex makes them ({@link S3Calls}).
 */
final class S3RequestCounter
        implements ExecutionInterceptor
{
    private final S3StorageStats stats;

    S3RequestCounter(S3StorageStats stats)
    {
        this.stats = requireNonNull(stats, "stats is null");
    }

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes executionAttributes)
    {
        stats.getAttempts().update(1);
    }

    @Override
    public void afterTransmission(Context.AfterTransmission context, ExecutionAttributes executionAttributes)
    {
        int status = context.httpResponse().statusCode();
        // S3 answers 503 SlowDown when a prefix exceeds its request rate; some S3-compatible stores answer 429
        if (status == 503 || status == 429) {
            stats.getThrottled().update(1);
        }
        if (status >= 500) {
            stats.getServerErrors().update(1);
        }
    }
}
