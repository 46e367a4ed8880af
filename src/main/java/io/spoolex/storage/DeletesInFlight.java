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

import com.google.common.collect.ImmutableList;
import com.google.common.collect.Sets;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.log.Logger;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static com.google.common.util.concurrent.MoreExecutors.directExecutor;

/**
 * The deletes a storage has running, so that closing it lets them finish for a moment (the deletes of exchanges
 * closed just before the server stops) instead of cutting them off with the clients.
 */
public final class DeletesInFlight
{
    private static final Logger log = Logger.get(DeletesInFlight.class);

    @GuardedBy("this")
    private final Set<ListenableFuture<?>> running = Sets.newIdentityHashSet();

    /**
     * Remembers the delete until it completes; returns it.
     */
    @SuppressWarnings("CollectionUndefinedEquality") // an identity set: a delete is removed as the same object
    public <T> ListenableFuture<T> track(ListenableFuture<T> delete)
    {
        synchronized (this) {
            running.add(delete);
        }
        delete.addListener(() -> {
            synchronized (this) {
                running.remove(delete);
            }
        }, directExecutor());
        return delete;
    }

    /**
     * Waits up to {@code wait} for the deletes running now; logs how many were still running if that was not enough.
     */
    public void awaitAtClose(Duration wait)
    {
        List<ListenableFuture<?>> pending;
        synchronized (this) {
            pending = ImmutableList.copyOf(running);
        }
        try {
            Futures.whenAllComplete(pending).call(() -> null, directExecutor()).get(wait.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        catch (ExecutionException | TimeoutException e) {
            log.warn("%s deletes of spool data were still running at shutdown and were cut off", pending.size());
        }
    }
}
