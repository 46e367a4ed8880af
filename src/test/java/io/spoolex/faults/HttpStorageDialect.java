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
package io.spoolex.faults;

import com.google.common.collect.ImmutableMap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntPredicate;

import static java.util.Objects.requireNonNull;

/**
 * What the fault proxy needs to know about one storage's HTTP API: which operation a request is, what kind of
 * request that is, and how the storage words an error answer. S3 has one ({@code S3HttpDialect}), Azure Blob
 * another ({@code AzureHttpDialect}); each runs the same fault scenarios.
 */
public interface HttpStorageDialect
{
    /**
     * The storage operation of a request (e.g. {@code UploadPart}), from its method, target and headers.
     */
    String operation(String method, String target, Map<String, String> headers);

    RequestKind kind(String operation);

    /**
     * The answer the storage would give for this error.
     */
    ErrorResponse errorResponse(HttpFault.ErrorKind error);

    /**
     * An error answer with this status and error code in the storage's format.
     */
    ErrorResponse answer(int status, String reason, String errorCode);

    /**
     * Whether {@link #answerBatch} can take this storage's batch requests apart.
     */
    default boolean splitsBatches()
    {
        return false;
    }

    /**
     * Answers a batch request by sending its sub-requests to the storage one by one through {@code upstream}, except
     * those {@code refused} picks (by their index in the batch), which get {@code error}; empty if this request is
     * not a batch this dialect can take apart (it is then passed on as it is).
     */
    default Optional<RawAnswer> answerBatch(FaultInjectingHttpProxy.Request request, byte[] body, Upstream upstream, IntPredicate refused, HttpFault.ErrorKind error)
            throws IOException
    {
        return Optional.empty();
    }

    /**
     * Sends one request to the storage server, as it is, and returns its answer.
     */
    @FunctionalInterface
    interface Upstream
    {
        RawAnswer send(String requestLine, Map<String, String> headers, byte[] body)
                throws IOException;
    }

    /**
     * An answer as it goes over the wire (its framing headers are the proxy's business).
     */
    record RawAnswer(int status, String reason, Map<String, String> headers, byte[] body)
    {
        public RawAnswer
        {
            requireNonNull(reason, "reason is null");
            headers = ImmutableMap.copyOf(headers);
            requireNonNull(body, "body is null");
        }
    }

    /**
     * @param headers besides Content-Type and Content-Length, e.g. {@code x-ms-error-code}
     */
    record ErrorResponse(int status, String reason, String contentType, Map<String, String> headers, byte[] body)
    {
        public ErrorResponse
        {
            requireNonNull(reason, "reason is null");
            requireNonNull(contentType, "contentType is null");
            headers = ImmutableMap.copyOf(headers);
            requireNonNull(body, "body is null");
        }

        public static ErrorResponse xml(int status, String reason, Map<String, String> headers, String xml)
        {
            return new ErrorResponse(status, reason, "application/xml", headers, xml.getBytes(StandardCharsets.UTF_8));
        }
    }
}
