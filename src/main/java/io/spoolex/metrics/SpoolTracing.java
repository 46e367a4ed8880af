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
package io.spoolex.metrics;

import com.google.common.util.concurrent.ListenableFuture;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;

import java.time.Instant;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import static io.opentelemetry.api.common.AttributeKey.longKey;
import static io.opentelemetry.api.common.AttributeKey.stringKey;

/**
 * The spans Spoolex adds to a query's trace, through the engine's tracer ({@code ExchangeManagerContext.getTracer()}):
 * {@code spoolex.sink.finish} (a task attempt's output committed), {@code spoolex.file.write} (one spool file, from its
 * first block to its last byte in storage), {@code spoolex.exchange.read-manifests} (on the coordinator, the committed
 * attempts' manifests read into source handles) and {@code spoolex.file.read} (one spool file read back by a source).
 * Their attributes are named here.
 */
public final class SpoolTracing
{
    public static final AttributeKey<String> EXCHANGE = stringKey("spoolex.exchange");
    public static final AttributeKey<Long> TASK_PARTITION = longKey("spoolex.task_partition");
    public static final AttributeKey<Long> ATTEMPT = longKey("spoolex.attempt");
    public static final AttributeKey<String> STORAGE = stringKey("spoolex.storage");
    public static final AttributeKey<String> FILE = stringKey("spoolex.file");
    public static final AttributeKey<Long> OUTPUT_PARTITION = longKey("spoolex.output_partition");
    public static final AttributeKey<Long> FILES = longKey("spoolex.files");
    public static final AttributeKey<Long> ATTEMPTS = longKey("spoolex.attempts");
    public static final AttributeKey<Long> SOURCE_HANDLES = longKey("spoolex.source_handles");
    public static final AttributeKey<Long> PAGE_BYTES = longKey("spoolex.page_bytes");
    public static final AttributeKey<Long> STORED_BYTES = longKey("spoolex.stored_bytes");

    private SpoolTracing() {}

    /**
     * Wall-clock time for a span's explicit start.
     */
    public static long nowEpochNanos()
    {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /**
     * Ends the span with the outcome of a finished future.
     */
    public static void end(Span span, ListenableFuture<?> done)
    {
        Throwable failure = null;
        try {
            done.get();
        }
        catch (ExecutionException e) {
            failure = e.getCause();
        }
        catch (CancellationException e) {
            failure = e;
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failure = e;
        }
        end(span, failure);
    }

    /**
     * Ends the span, marked failed with the exception when {@code failure} is not null.
     */
    public static void end(Span span, Throwable failure)
    {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause != null) {
            span.setStatus(StatusCode.ERROR, String.valueOf(cause.getMessage()));
            span.recordException(cause);
        }
        span.end();
    }
}
