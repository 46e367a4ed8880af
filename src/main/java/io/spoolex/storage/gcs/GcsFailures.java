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
package io.spoolex.storage.gcs;

import com.google.cloud.BaseServiceException;
import io.spoolex.storage.RequestFailure;
import io.spoolex.storage.ShortAnswerException;
import io.spoolex.storage.SpoolStorage.StorageOperation;
import io.trino.spi.TrinoException;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import static io.spoolex.storage.RequestFailure.Kind.THROTTLED;
import static io.spoolex.storage.RequestFailure.Kind.TRANSIENT;
import static io.spoolex.storage.StorageErrors.fileNotFound;
import static io.spoolex.storage.StorageErrors.storageError;

/**
 * How a failed GCS JSON-API request is read: 429 is throttling, 408 and 5xx and answers that never came are
 * transient (retried with backoff), anything else permanent; 404 of an object is a missing spool file.
 */
final class GcsFailures
{
    private GcsFailures() {}

    static RequestFailure classify(Throwable failure)
    {
        Throwable cause = unwrap(failure);
        if (cause instanceof TrinoException) {
            return RequestFailure.permanent(cause.getMessage());
        }
        Optional<RequestFailure> shortAnswer = ShortAnswerException.classify(cause);
        if (shortAnswer.isPresent()) {
            return shortAnswer.orElseThrow();
        }
        Optional<BaseServiceException> service = serviceException(cause);
        if (service.isPresent()) {
            int code = service.orElseThrow().getCode();
            String status = status(service.orElseThrow());
            if (code == 429) {
                return new RequestFailure(THROTTLED, status);
            }
            if (code == 408 || code >= 500 || code <= 0) {
                // code 0: no HTTP answer (connection refused or reset, timeout)
                return new RequestFailure(TRANSIENT, status);
            }
            return RequestFailure.permanent(status);
        }
        if (isAnswerless(cause)) {
            return new RequestFailure(TRANSIENT, "no answer (%s)".formatted(cause.getClass().getSimpleName()));
        }
        if (cause instanceof InterruptedIOException || cause instanceof InterruptedException) {
            return RequestFailure.permanent("interrupted");
        }
        return RequestFailure.permanent(cause.getClass().getSimpleName());
    }

    /**
     * No HTTP answer: an I/O failure, a timeout included, that is not an interruption and carries no status. One
     * rule for Spoolex's retries ({@link #classify}) and the library's own (resumable uploads, {@code GcsClients}).
     * A {@link SocketTimeoutException} is an {@link InterruptedIOException} but no interruption: it is looked for first.
     */
    static boolean isAnswerless(Throwable failure)
    {
        if (failure == null || Thread.currentThread().isInterrupted() || serviceException(failure).map(service -> service.getCode() > 0).orElse(false)) {
            return false;
        }
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SocketTimeoutException) {
                return true;
            }
            if (cause instanceof InterruptedIOException) {
                return false;
            }
            if (cause instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    static String status(BaseServiceException exception)
    {
        if (exception.getCode() <= 0) {
            Throwable cause = exception.getCause();
            return "no answer (%s)".formatted(cause == null ? "connection failed" : cause.getClass().getSimpleName());
        }
        return exception.getReason() == null ? "HTTP " + exception.getCode() : "HTTP %s %s".formatted(exception.getCode(), exception.getReason());
    }

    static String describe(Throwable failure)
    {
        Throwable cause = unwrap(failure);
        String message = cause.getMessage();
        if (message == null) {
            return cause.getClass().getSimpleName();
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    /**
     * The error a caller sees once a request is given up on: a missing object names the file.
     */
    static TrinoException translate(String action, URI location, Throwable failure)
    {
        Throwable cause = unwrap(failure);
        if (cause instanceof TrinoException trinoException) {
            return trinoException;
        }
        if (isNotFound(cause) && !action.equals("list")) {
            return fileNotFound(location, cause);
        }
        return storageError(action, location, cause);
    }

    static boolean isNotFound(Throwable failure)
    {
        return serviceException(unwrap(failure)).map(exception -> exception.getCode() == 404).orElse(false);
    }

    static Optional<BaseServiceException> serviceException(Throwable failure)
    {
        Throwable cause = failure;
        for (int depth = 0; cause != null && depth < 5; depth++) {
            if (cause instanceof BaseServiceException service) {
                return Optional.of(service);
            }
            cause = cause.getCause();
        }
        return Optional.empty();
    }

    static Throwable unwrap(Throwable failure)
    {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    /**
     * What a failure means to an operator, with the permission most likely missing; never a secret.
     */
    static String diagnose(StorageOperation operation, Optional<GcsLocation> location, Throwable failure)
    {
        Throwable cause = unwrap(failure);
        while (cause instanceof TrinoException && cause.getCause() != null) {
            cause = unwrap(cause.getCause());
        }
        String where = location.map(found -> "gs://" + found.bucket()).orElse("the bucket");
        Optional<BaseServiceException> service = serviceException(cause);
        if (service.isEmpty()) {
            return "GCS %s: %s".formatted(cause.getClass().getSimpleName(), describe(cause));
        }
        int code = service.orElseThrow().getCode();
        String error = "GCS " + status(service.orElseThrow());
        String hint = switch (code) {
            case 401 -> "the credentials are not accepted: check exchange.gcs.json-key-file-path or exchange.gcs.json-key, or the application-default credentials";
            case 403 -> "the credentials probably lack %s on %s (roles/storage.objectUser grants every permission Spoolex needs)".formatted(switch (operation) {
                case WRITE -> "storage.objects.create (and storage.objects.delete)";
                case READ -> "storage.objects.get";
                case DELETE -> "storage.objects.delete";
                case LIST -> "storage.objects.list";
            }, where);
            case 404 -> operation == StorageOperation.READ ? "" : "the bucket does not exist: create it, or correct exchange.base-directories";
            case 429 -> "GCS is throttling the requests";
            default -> code <= 0 ? "GCS unreachable: check the network (and a proxy) to storage.googleapis.com" : "";
        };
        return error + (hint.isEmpty() ? "" : ": " + hint);
    }
}
