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

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;

import java.util.concurrent.CompletableFuture;

import static com.google.common.util.concurrent.MoreExecutors.directExecutor;

/**
 * Bridges Guava futures (storage) and the {@link CompletableFuture}s the SPI returns, without letting the engine's
 * cancellation of a returned future cancel the storage operation underneath.
 */
final class ExchangeFutures
{
    static final CompletableFuture<Void> NOT_BLOCKED = CompletableFuture.completedFuture(null);

    private ExchangeFutures() {}

    static <T> CompletableFuture<T> toCompletableFuture(ListenableFuture<T> future)
    {
        CompletableFuture<T> result = new CompletableFuture<>();
        Futures.addCallback(future, new FutureCallback<>()
        {
            @Override
            public void onSuccess(T value)
            {
                result.complete(value);
            }

            @Override
            public void onFailure(Throwable t)
            {
                result.completeExceptionally(t);
            }
        }, directExecutor());
        return result;
    }
}
