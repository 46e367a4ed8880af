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
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;

import java.util.concurrent.atomic.AtomicInteger;

import static java.util.Objects.requireNonNull;

/**
 * Counts S3 calls, attempts and throttling as the SDK executes them: the interceptor sees each call once before it
 * starts and each attempt (the first and every retry) as it is sent and answered, which the retry strategy alone
 * does not expose.
 */
final class S3RequestCounter
        implements ExecutionInterceptor
{
    private static final ExecutionAttribute<AtomicInteger> ATTEMPTS = new ExecutionAttribute<>("SpoolexAttempts");

    private final S3StorageStats stats;

    S3RequestCounter(S3StorageStats stats)
    {
        this.stats = requireNonNull(stats, "stats is null");
    }

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes executionAttributes)
    {
        executionAttributes.putAttribute(ATTEMPTS, new AtomicInteger());
        String operation = executionAttributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
        stats.recordRequest(operation == null ? "" : operation);
    }

    @Override
    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes executionAttributes)
    {
        stats.getAttempts().update(1);
        AtomicInteger attempts = executionAttributes.getAttribute(ATTEMPTS);
        if (attempts != null && attempts.incrementAndGet() > 1) {
            stats.getRetries().update(1);
        }
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

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes executionAttributes)
    {
        stats.getFailedRequests().update(1);
    }
}
