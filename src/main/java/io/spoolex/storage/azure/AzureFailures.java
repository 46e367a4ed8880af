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

import com.azure.core.exception.ClientAuthenticationException;
import com.azure.core.exception.HttpResponseException;
import com.azure.core.http.HttpHeaderName;
import com.azure.identity.CredentialUnavailableException;
import com.azure.storage.blob.models.BlobStorageException;
import com.azure.storage.file.datalake.models.DataLakeStorageException;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import io.spoolex.storage.RequestFailure;
import io.spoolex.storage.ShortAnswerException;
import io.spoolex.storage.SpoolStorage.StorageOperation;
import io.spoolex.storage.StorageErrors;
import io.trino.spi.TrinoException;
import reactor.core.Disposable;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;

import javax.xml.stream.XMLStreamException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static io.spoolex.config.BaseDirectories.PROPERTY;
import static io.spoolex.storage.RequestFailure.Kind.PERMANENT;
import static io.spoolex.storage.RequestFailure.Kind.THROTTLED;
import static io.spoolex.storage.RequestFailure.Kind.TRANSIENT;

/**
 * What the Azure SDK fails with: which failures another attempt can cure ({@link #classify}), the storage errors
 * (each naming the blob) that the others become ({@link #translate}), and diagnoses for operators.
 */
final class AzureFailures
{
    private AzureFailures() {}

    /**
     * Error codes of answers Azure gives when a request may succeed later (besides 429, 503 and every other 5xx).
     */
    private static final Set<String> TRANSIENT_CODES = Set.of("OperationTimedOut", "InternalError", "ServerBusy");

    /**
     * Subscribes to one attempt's SDK call and adapts its result, failures as the SDK reported them; cancelling the
     * future cancels the call (which aborts its HTTP request). An empty result completes with null.
     */
    static <T> ListenableFuture<T> adapt(Supplier<Mono<T>> call)
    {
        Mono<T> mono;
        try {
            mono = call.get();
        }
        catch (RuntimeException e) {
            return immediateFailedFuture(e);
        }
        SettableFuture<T> result = SettableFuture.create();
        Disposable subscription = mono.subscribe(
                result::set,
                failure -> result.setException(unwrap(failure)),
                () -> result.set(null));
        result.addListener(() -> {
            if (result.isCancelled()) {
                subscription.dispose();
            }
        }, directExecutor());
        return result;
    }

    /**
     * Whether another attempt can cure the failure, and what Azure answered: throttling (429, 503 ServerBusy) is
     * retried after a longer backoff; other server errors, network failures, timeouts and answers cut short or
     * malformed on the way are retried; client errors and checks of ours (a blob of the wrong size) are not.
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
                return RequestFailure.permanent(trinoException.getErrorCode().getName());
            }
        }
        if (cause instanceof HttpResponseException response && response.getResponse() != null) {
            int status = response.getResponse().getStatusCode();
            String code = errorCode(response);
            String answer = code == null ? Integer.toString(status) : status + " " + code;
            if (status == 429 || status == 503) {
                return new RequestFailure(THROTTLED, answer);
            }
            // 501 Not Implemented and 505 HTTP Version Not Supported say what the service cannot do, not how it is
            if ((status >= 500 && status != 501 && status != 505) || status == 408 || (code != null && TRANSIENT_CODES.contains(code))) {
                return new RequestFailure(TRANSIENT, answer);
            }
            if (response.getCause() != null && isMalformedAnswer(response.getCause())) {
                return new RequestFailure(TRANSIENT, "malformed answer (%s)".formatted(answer));
            }
            return new RequestFailure(PERMANENT, answer);
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException) {
                // the answer's own timeouts, and no connection slot becoming free (exchange.azure.connection-acquisition-timeout)
                return new RequestFailure(TRANSIENT, "timeout (%s)".formatted(firstSentence(t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage())));
            }
            if (isMalformedAnswer(t)) {
                // a listing or an error document cut off on the way
                return new RequestFailure(TRANSIENT, "malformed answer");
            }
            if (t instanceof IOException || t instanceof UncheckedIOException) {
                return new RequestFailure(TRANSIENT, "connection failure (%s)".formatted(t.getMessage() == null ? t.getClass().getSimpleName() : firstSentence(t.getMessage())));
            }
        }
        return RequestFailure.permanent(cause.getClass().getSimpleName());
    }

    private static boolean isMalformedAnswer(Throwable failure)
    {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof XMLStreamException) {
                return true;
            }
        }
        return false;
    }

    private static String firstSentence(String message)
    {
        int end = message.indexOf(". ");
        String sentence = end < 0 ? message : message.substring(0, end + 1);
        int line = sentence.indexOf('\n');
        return line < 0 ? sentence : sentence.substring(0, line);
    }

    /**
     * The last failure in the error of a request given up on: Azure's own words (never the SDK's message, which may
     * quote request URLs, a SAS included), or the network failure.
     */
    static String describe(Throwable failure)
    {
        Throwable cause = unwrap(failure);
        if (cause instanceof BlobStorageException blob && blob.getServiceMessage() != null) {
            return firstSentence(blob.getServiceMessage());
        }
        if (cause instanceof HttpResponseException response && response.getResponse() != null) {
            String code = errorCode(response);
            return "HTTP %s%s".formatted(response.getResponse().getStatusCode(), code == null ? "" : " " + code);
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : firstSentence(cause.getMessage());
    }

    static TrinoException translate(String action, AzureLocation location, Throwable failure)
    {
        Throwable cause = unwrap(failure);
        // a check of ours inside the SDK's stream, wrapped on its way out
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof TrinoException trinoException) {
                return trinoException;
            }
        }
        if (cause instanceof HttpResponseException response && response.getResponse() != null) {
            int status = response.getResponse().getStatusCode();
            String errorCode = errorCode(response);
            if (isMissing(response)) {
                return StorageErrors.fileNotFound(location.toUri(), cause);
            }
            if (status == 404 && "ContainerNotFound".equals(errorCode)) {
                return new TrinoException(SPOOL_STORAGE_ERROR, "Failed to %s %s: container %s does not exist".formatted(action, location, location.container()), cause);
            }
            return new TrinoException(SPOOL_STORAGE_ERROR, "Failed to %s %s: Azure Storage answered %s%s".formatted(action, location, status, errorCode == null ? "" : " " + errorCode), cause);
        }
        return StorageErrors.storageError(action, location.toUri(), cause);
    }

    /**
     * For an operator: Azure's error code and status, and the permission or setting most likely missing. Never a
     * secret: the SDK's message is left out (it may quote request URLs, SAS included). The location is null when it is
     * not an Azure location.
     */
    static String diagnose(StorageOperation operation, AzureLocation location, Throwable failure)
    {
        Throwable cause = unwrap(failure);
        while (cause instanceof TrinoException && cause.getCause() != null) {
            cause = unwrap(cause.getCause());
        }
        if (cause instanceof HttpResponseException response && response.getResponse() != null) {
            int status = response.getResponse().getStatusCode();
            String code = Optional.ofNullable(errorCode(response)).orElse("HTTP " + status);
            String container = location == null ? "the container" : "container %s".formatted(location.container());
            String hint = switch (code) {
                case "AuthorizationPermissionMismatch" -> "the identity probably lacks %s on %s (the role Storage Blob Data Contributor covers it)".formatted(permission(operation), container);
                case "AuthorizationFailure" -> "the request was refused: a SAS without %s, or the account's firewall or network rules do not admit this node".formatted(permission(operation));
                case "AuthorizationResourceTypeMismatch" -> "the account SAS lacks the resource types container and object (srt=co)";
                case "AuthorizationServiceMismatch" -> "the SAS does not cover the blob service (ss=b)";
                case "AuthorizationProtocolMismatch" -> "the SAS allows HTTPS only: use https in the connection string or endpoint";
                case "AuthorizationSourceIPMismatch" -> "the SAS does not admit this node's IP address";
                case "AuthenticationFailed", "InvalidAuthenticationInfo", "NoAuthenticationInformation" -> "the credentials are not accepted: a wrong account key or an expired SAS in %s, a token of another tenant, or a clock more than 15 minutes off".formatted(AzureStorageConfig.CONNECTION_STRING + " or " + AzureStorageConfig.ENDPOINT);
                case "ContainerNotFound" -> "%s does not exist in the account of %s: create it, or correct %s".formatted(container, AzureStorageConfig.CONNECTION_STRING + " or " + AzureStorageConfig.ENDPOINT, PROPERTY);
                case "AccountIsDisabled" -> "the storage account is disabled";
                case "ServerBusy", "OperationTimedOut", "InternalError", "TooManyRequests" -> "the account is throttling or failing after all %s attempts: retry later, or spread the load over more accounts".formatted(AzureStorageConfig.MAX_ERROR_RETRIES);
                default -> status == 403 ? "the identity probably lacks %s on %s".formatted(permission(operation), container) : "";
            };
            return "Azure Storage %s (HTTP %s)%s".formatted(code, status, hint.isEmpty() ? "" : ": " + hint);
        }
        if (cause instanceof ClientAuthenticationException || cause instanceof CredentialUnavailableException) {
            return "Azure credentials unavailable (%s): the default Azure credential chain found no usable identity (managed identity, workload identity, AZURE_* environment variables, Azure CLI login); or set %s"
                    .formatted(cause.getClass().getSimpleName(), AzureStorageConfig.CONNECTION_STRING);
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof UnknownHostException || t instanceof ConnectException || t instanceof HttpConnectTimeoutException) {
                return "Azure Storage unreachable (%s): check the blob endpoint of %s and the network".formatted(t.getClass().getSimpleName(), AzureStorageConfig.CONNECTION_STRING + " or " + AzureStorageConfig.ENDPOINT);
            }
        }
        return "%s: %s".formatted(cause.getClass().getSimpleName(), cause.getMessage());
    }

    private static String permission(StorageOperation operation)
    {
        return switch (operation) {
            case WRITE -> "write permission (Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write; SAS w, c, a)";
            case READ -> "read permission (…/blobs/read; SAS r)";
            case DELETE -> "delete permission (…/blobs/delete; SAS d)";
            case LIST -> "list permission (…/blobs/read at container scope; SAS l)";
        };
    }

    /**
     * A blob or path that does not exist (the container does).
     */
    static boolean isMissing(Throwable failure)
    {
        if (!(unwrap(failure) instanceof HttpResponseException response) || response.getResponse() == null || response.getResponse().getStatusCode() != 404) {
            return false;
        }
        String errorCode = errorCode(response);
        // a HEAD answer has no body to carry an error code
        return errorCode == null || errorCode.equals("BlobNotFound") || errorCode.equals("PathNotFound");
    }

    static int statusCode(Throwable failure)
    {
        return unwrap(failure) instanceof HttpResponseException response && response.getResponse() != null ? response.getResponse().getStatusCode() : -1;
    }

    static String errorCode(HttpResponseException exception)
    {
        if (exception instanceof BlobStorageException blob && blob.getErrorCode() != null) {
            return blob.getErrorCode().toString();
        }
        if (exception instanceof DataLakeStorageException dataLake && dataLake.getErrorCode() != null) {
            return dataLake.getErrorCode();
        }
        return exception.getResponse() == null ? null : exception.getResponse().getHeaderValue(HttpHeaderName.fromString("x-ms-error-code"));
    }

    static Throwable unwrap(Throwable failure)
    {
        Throwable cause = Exceptions.unwrap(failure);
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = Exceptions.unwrap(cause.getCause());
        }
        return cause;
    }
}
