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

import com.azure.core.http.HttpPipelineCallContext;
import com.azure.core.http.HttpPipelineNextPolicy;
import com.azure.core.http.HttpPipelinePosition;
import com.azure.core.http.HttpResponse;
import com.azure.core.http.policy.HttpLoggingPolicy;
import com.azure.core.http.policy.HttpPipelinePolicy;
import reactor.core.publisher.Mono;

import static java.util.Objects.requireNonNull;

/**
 * Counts every attempt the Azure SDK sends (this policy runs after its retry policy, once per attempt) and what came
 * back, into {@link AzureStorageStats}.
 */
final class AzureRequestCounter
        implements HttpPipelinePolicy
{
    private final AzureStorageStats stats;

    AzureRequestCounter(AzureStorageStats stats)
    {
        this.stats = requireNonNull(stats, "stats is null");
    }

    @Override
    public Mono<HttpResponse> process(HttpPipelineCallContext context, HttpPipelineNextPolicy next)
    {
        // the SDK's retry policy numbers attempts from 1
        int attempt = context.getData(HttpLoggingPolicy.RETRY_COUNT_CONTEXT)
                .filter(Integer.class::isInstance)
                .map(Integer.class::cast)
                .orElse(1);
        if (attempt <= 1) {
            stats.recordRequest(AzureOperation.of(context.getHttpRequest().getHttpMethod().name(), context.getHttpRequest().getUrl().getQuery()));
        }
        else {
            stats.getRetries().update(1);
        }
        stats.getAttempts().update(1);
        return next.process()
                .doOnNext(response -> {
                    int status = response.getStatusCode();
                    if (status == 429 || status == 503) {
                        stats.getThrottled().update(1);
                    }
                    if (status >= 500) {
                        stats.getServerErrors().update(1);
                    }
                    if (status >= 400) {
                        stats.getFailedRequests().update(1);
                    }
                })
                .doOnError(_ -> stats.getFailedRequests().update(1));
    }

    @Override
    public HttpPipelinePosition getPipelinePosition()
    {
        return HttpPipelinePosition.PER_RETRY;
    }
}
