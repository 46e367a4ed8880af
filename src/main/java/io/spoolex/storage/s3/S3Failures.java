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
import io.spoolex.storage.RequestFailure;
import io.spoolex.storage.ShortAnswerException;
import io.spoolex.storage.StorageErrors;
import io.trino.spi.TrinoException;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

import javax.xml.stream.XMLStreamException;

import java.io.IOException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.spoolex.storage.RequestFailure.Kind.PERMANENT;
import static io.spoolex.storage.RequestFailure.Kind.THROTTLED;
import static io.spoolex.storage.RequestFailure.Kind.TRANSIENT;

/**
 * What the SDK fails with: which failures another attempt can cure ({@link #classify}), and the storage errors of
 * {@link StorageErrors}, each naming the object, that the others become ({@link #translate}).
 */
final class S3Failures
{
    /**
     * Error codes S3 and S3-compatible stores answer when they want fewer requests (besides 429 and 503 SlowDown).
     */
    private static final Set<String> THROTTLING_CODES = Set.of("SlowDown", "Throttling", "ThrottlingException", "RequestThrottled", "RequestLimitExceeded", "TooManyRequests", "TooManyRequestsException", "BandwidthLimitExceeded");
    /**
     * Error codes of failures inside the store that another attempt can cure (besides every 5xx).
     */
    private static final Set<String> TRANSIENT_CODES = Set.of("RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable", "PriorRequestNotComplete", "IDPCommunicationError", "OperationAborted");

    private static final Pattern SDK_ATTEMPT_COUNT = Pattern.compile(" ?\\(SDK Attempt Count: \\d+\\)");

    private S3Failures() {}

    /**
     * Starts an SDK call and adapts its future, failures as the SDK reported them; cancelling the result cancels
     * the call (which aborts its HTTP request).
     */
    static <T> ListenableFuture<T> adapt(Supplier<CompletableFuture<T>> call)
    {
        CompletableFuture<T> future;
        try {
            future = call.get();
        }
        catch (RuntimeException e) {
            return immediateFailedFuture(e);
        }
        SettableFuture<T> result = SettableFuture.create();
        var _ = future.whenComplete((value, failure) -> {
            if (failure == null) {
                result.set(value);
            }
            else {
                result.setException(unwrap(failure));
            }
        });
        result.addListener(() -> {
            if (result.isCancelled()) {
                future.cancel(true);
            }
        }, directExecutor());
        return result;
    }

    /**
     * The SDK's connection errors go on for several sentences of advice; the error's detail has them in full.
     */
    private static String firstSentence(String message)
    {
        int end = message.indexOf(". ");
        return end < 0 ? message : message.substring(0, end + 1);
    }

    /**
     * Whether retrying the request can help, and what S3 answered.
     */
    static RequestFailure classify(Throwable failure)
    {
        Throwable cause = unwrap(failure);
        Optional<RequestFailure> shortAnswer = ShortAnswerException.classify(cause);
        if (shortAnswer.isPresent()) {
            return shortAnswer.orElseThrow();
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof TrinoException trinoException) {
                // a check of ours: a file of the wrong size is not cured by reading it again
                return RequestFailure.permanent(trinoException.getErrorCode().getName());
            }
        }
        if (cause instanceof AwsServiceException service) {
            int status = service.statusCode();
            String code = service.awsErrorDetails() == null || service.awsErrorDetails().errorCode() == null ? "" : service.awsErrorDetails().errorCode();
            String answer = code.isEmpty() ? Integer.toString(status) : status + " " + code;
            if (status == 429 || THROTTLING_CODES.contains(code) || service.isThrottlingException()) {
                return new RequestFailure(THROTTLED, answer);
            }
            // 501 Not Implemented and 505 HTTP Version Not Supported say what the store cannot do, not how it is
            if ((status >= 500 && status != 501 && status != 505) || status == 408 || TRANSIENT_CODES.contains(code)) {
                return new RequestFailure(TRANSIENT, answer);
            }
            return new RequestFailure(PERMANENT, answer);
        }
        if (cause instanceof SdkException || cause instanceof IOException) {
            for (Throwable t = cause; t != null; t = t.getCause()) {
                if (t instanceof IOException io) {
                    return new RequestFailure(TRANSIENT, "connection failure (%s)".formatted(io.getMessage() == null ? io.getClass().getSimpleName() : firstSentence(io.getMessage())));
                }
                if (t instanceof TimeoutException) {
                    return new RequestFailure(TRANSIENT, "timeout");
                }
                if (t instanceof XMLStreamException || (t.getMessage() != null && t.getMessage().startsWith("Could not parse XML response"))) {
                    // a listing or an error document cut off on the way
                    return new RequestFailure(TRANSIENT, "malformed answer");
                }
                String message = t.getMessage() == null ? "" : t.getMessage();
                if (message.contains("Acquire operation took longer") || message.contains("Maximum pending connection acquisitions exceeded")) {
                    // every connection of the pool busy: a retry after backoff finds one
                    return new RequestFailure(TRANSIENT, "no free connection");
                }
            }
        }
        return RequestFailure.permanent(cause.getClass().getSimpleName());
    }

    /**
     * The failure's message, without the SDK's attempt count (Spoolex counts the attempts: the SDK makes one each).
     */
    static String describe(Throwable failure)
    {
        Throwable cause = unwrap(failure);
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        return SDK_ATTEMPT_COUNT.matcher(message).replaceAll("");
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
