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

import io.airlift.slice.Slice;
import io.spoolex.storage.ShortAnswerException;
import io.trino.spi.TrinoException;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.async.SdkPublisher;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

import java.net.URI;
import java.nio.ByteBuffer;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;

import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static io.spoolex.storage.StorageErrors.wrongSize;
import static java.util.Objects.requireNonNull;

/**
 * Receives a ranged GET straight into the caller's heap memory (no intermediate copies), checking on the way that
 * the object has the size the manifest recorded and that the body is complete. One transformer per attempt (Spoolex
 * retries, not the SDK); {@link #prepare()} starts over all the same.
 */
final class RangeReadTransformer
        implements AsyncResponseTransformer<GetObjectResponse, Void>
{
    private final URI file;
    private final long position;
    private final Slice target;
    private final int length;
    private final long expectedFileBytes;

    // one attempt at a time; the SDK signals them in order, and reactive-streams signals happen-before each other
    private CompletableFuture<Void> result;
    private TrinoException responseFailure;
    private int written;

    RangeReadTransformer(URI file, long position, Slice target, long expectedFileBytes)
    {
        this.file = requireNonNull(file, "file is null");
        this.position = position;
        this.target = requireNonNull(target, "target is null");
        this.length = target.length();
        this.expectedFileBytes = expectedFileBytes;
    }

    @Override
    public CompletableFuture<Void> prepare()
    {
        result = new CompletableFuture<>();
        responseFailure = null;
        written = 0;
        return result;
    }

    @Override
    public void onResponse(GetObjectResponse response)
    {
        OptionalLong objectBytes = objectBytes(response);
        if (objectBytes.isEmpty()) {
            responseFailure = new TrinoException(SPOOL_STORAGE_ERROR, "Failed to read %s: the store answered a range request without the object's size (Content-Range: %s)".formatted(file, response.contentRange()));
            return;
        }
        if (objectBytes.getAsLong() != expectedFileBytes) {
            responseFailure = wrongSize(file, objectBytes.getAsLong(), expectedFileBytes);
            return;
        }
        if (response.contentRange() == null && (position != 0 || length != expectedFileBytes)) {
            responseFailure = new TrinoException(SPOOL_STORAGE_ERROR, "Failed to read %s: the store ignored the Range header of a ranged GET".formatted(file));
        }
    }

    @Override
    public void onStream(SdkPublisher<ByteBuffer> publisher)
    {
        CompletableFuture<Void> attempt = result;
        if (responseFailure != null) {
            TrinoException failure = responseFailure;
            publisher.subscribe(new Subscriber<>()
            {
                @Override
                public void onSubscribe(Subscription subscription)
                {
                    // the body is of no use: let the SDK drop the connection's remaining bytes
                    subscription.cancel();
                    attempt.completeExceptionally(failure);
                }

                @Override
                public void onNext(ByteBuffer buffer) {}

                @Override
                public void onError(Throwable t)
                {
                    attempt.completeExceptionally(failure);
                }

                @Override
                public void onComplete()
                {
                    attempt.completeExceptionally(failure);
                }
            });
            return;
        }
        publisher.subscribe(new Subscriber<>()
        {
            private Subscription subscription;

            @Override
            public void onSubscribe(Subscription subscription)
            {
                this.subscription = subscription;
                subscription.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(ByteBuffer buffer)
            {
                int bytes = buffer.remaining();
                if (bytes > length - written) {
                    subscription.cancel();
                    attempt.completeExceptionally(new TrinoException(SPOOL_STORAGE_ERROR, "Failed to read %s: the store sent more than the %s bytes asked for at offset %s".formatted(file, length, position)));
                    return;
                }
                buffer.get(target.byteArray(), target.byteArrayOffset() + written, bytes);
                written += bytes;
            }

            @Override
            public void onError(Throwable t)
            {
                attempt.completeExceptionally(t);
            }

            @Override
            public void onComplete()
            {
                if (written < length) {
                    // the answer named the object's recorded size, so the object is whole: the answer was cut short
                    attempt.completeExceptionally(new ShortAnswerException(written, length, position));
                    return;
                }
                attempt.complete(null);
            }
        });
    }

    @Override
    public void exceptionOccurred(Throwable error)
    {
        if (result != null) {
            result.completeExceptionally(error);
        }
    }

    /**
     * The object's size from {@code Content-Range: bytes a-b/size}, or from Content-Length for a whole-object answer.
     */
    private static OptionalLong objectBytes(GetObjectResponse response)
    {
        String contentRange = response.contentRange();
        if (contentRange == null) {
            return response.contentLength() == null ? OptionalLong.empty() : OptionalLong.of(response.contentLength());
        }
        int slash = contentRange.lastIndexOf('/');
        if (slash < 0) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(contentRange.substring(slash + 1).trim()));
        }
        catch (NumberFormatException e) {
            // "bytes a-b/*": size unknown
            return OptionalLong.empty();
        }
    }
}
