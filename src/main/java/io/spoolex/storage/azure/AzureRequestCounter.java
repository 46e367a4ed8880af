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
import com.azure.core.http.policy.HttpPipelinePolicy;
import reactor.core.publisher.Mono;

import static java.util.Objects.requireNonNull;

/**
 * Counts every HTTP request the Azure SDK sends and what came back into {@link AzureStorageStats}: the API call by
 * operation on a call's first attempt ({@link AzureCalls} puts the attempt into the context), every attempt in
 * {@code Attempts}. Retries and failed calls are counted by {@link AzureCalls}.
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
        // requests made outside AzureCalls (none in Spoolex; credential requests of the identity library) are firsts
        int attempt = context.getData(AzureCalls.ATTEMPT)
                .filter(Integer.class::isInstance)
                .map(Integer.class::cast)
                .orElse(1);
        if (attempt <= 1) {
            stats.recordRequest(AzureOperation.of(context.getHttpRequest().getHttpMethod().name(), context.getHttpRequest().getUrl().getQuery()));
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
                });
    }

    @Override
    public HttpPipelinePosition getPipelinePosition()
    {
        return HttpPipelinePosition.PER_RETRY;
    }
}
