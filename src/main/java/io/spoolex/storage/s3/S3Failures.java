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

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import io.spoolex.storage.StorageErrors;
import io.trino.spi.TrinoException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;

/**
 * Turns what the SDK fails with into the storage errors of {@link StorageErrors}, each naming the object.
 */
final class S3Failures
{
    private S3Failures() {}

    /**
     * Starts an SDK call and adapts its future: failures become storage errors naming the object, and cancelling
     * the result cancels the call (which aborts its HTTP request).
     */
    static <T> ListenableFuture<T> call(String action, S3Location location, Supplier<CompletableFuture<T>> call)
    {
        CompletableFuture<T> future;
        try {
            future = call.get();
        }
        catch (RuntimeException e) {
            return immediateFailedFuture(translate(action, location, e));
        }
        SettableFuture<T> result = SettableFuture.create();
        var _ = future.whenComplete((value, failure) -> {
            if (failure == null) {
                result.set(value);
            }
            else {
                result.setException(translate(action, location, failure));
            }
        });
        result.addListener(() -> {
            if (result.isCancelled()) {
                future.cancel(true);
            }
        }, directExecutor());
        return result;
    }

    static TrinoException translate(String action, S3Location location, Throwable failure)
    {
        Throwable cause = unwrap(failure);
        // a check of ours inside a response transformer, wrapped by the SDK on its way out
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof TrinoException trinoException) {
                return trinoException;
            }
        }
        if (isNoSuchKey(cause)) {
            return StorageErrors.fileNotFound(location.toUri(), cause);
        }
        return StorageErrors.storageError(action, location.toUri(), cause);
    }

    static boolean isNoSuchKey(Throwable failure)
    {
        Throwable cause = unwrap(failure);
        if (cause instanceof NoSuchKeyException) {
            return true;
        }
        // some S3-compatible stores answer without the error code the SDK maps to NoSuchKeyException
        return cause instanceof AwsServiceException service
                && service.statusCode() == 404
                && service.awsErrorDetails() != null
                && "NoSuchKey".equals(service.awsErrorDetails().errorCode());
    }

    static boolean hasErrorCode(Throwable failure, String errorCode)
    {
        return unwrap(failure) instanceof AwsServiceException service
                && service.awsErrorDetails() != null
                && errorCode.equals(service.awsErrorDetails().errorCode());
    }

    static Throwable unwrap(Throwable failure)
    {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
