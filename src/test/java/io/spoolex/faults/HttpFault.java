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

import java.time.Duration;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * One fault the proxy injects into one request, in place of (or on top of) passing it to the storage server.
 */
public sealed interface HttpFault
{
    /**
     * Answers the request itself with an error status, in the storage's own error format (see
     * {@link HttpStorageDialect#errorResponse}), without passing it on.
     */
    record Respond(ErrorKind error)
            implements HttpFault
    {
        public Respond
        {
            requireNonNull(error, "error is null");
        }
    }

    /**
     * Answers the request itself with this status and error code, in the storage's own error format (see
     * {@link HttpStorageDialect#answer}), without passing it on: for the answers a scenario of errors has no kind
     * for (403 AuthorizationPermissionMismatch, say).
     */
    record Answer(int status, String reason, String errorCode)
            implements HttpFault
    {
        public Answer
        {
            checkArgument(status >= 400 && status < 600, "status must be an error status");
            requireNonNull(reason, "reason is null");
            requireNonNull(errorCode, "errorCode is null");
        }
    }

    /**
     * Passes a batch request's sub-requests to the storage one by one, except this fraction of them, which are
     * answered with the error instead, and answers the batch as the storage would, well-formed: a batch that
     * succeeds as a whole while some of what it asked for was refused (Azure's blob batch under throttling). Only
     * for storages whose dialect can take a batch apart ({@link HttpStorageDialect#answerBatch}); other requests
     * pass.
     */
    record FailBatchSubrequests(double fraction, ErrorKind error)
            implements HttpFault
    {
        public FailBatchSubrequests
        {
            checkArgument(fraction > 0 && fraction <= 1, "fraction must be in (0, 1]");
            requireNonNull(error, "error is null");
        }
    }

    /**
     * Passes the request on and flips this many bytes of the answer's body, well-framed (the length is right, the
     * content is not): corruption on the way that no transport check caught.
     */
    record CorruptBody(int flippedBytes)
            implements HttpFault
    {
        public CorruptBody
        {
            checkArgument(flippedBytes > 0, "flippedBytes must be positive");
        }
    }

    /**
     * Reads the request, then resets the connection (TCP RST) without an answer, as a crashed server or a dropped
     * load balancer connection does. The request is not passed on.
     */
    record Reset()
            implements HttpFault {}

    /**
     * Resets the connection after receiving this fraction of the request body (an upload cut off mid-way).
     */
    record ResetDuringRequest(double bodyFraction)
            implements HttpFault
    {
        public ResetDuringRequest
        {
            checkArgument(bodyFraction >= 0 && bodyFraction < 1, "bodyFraction must be in [0, 1)");
        }
    }

    /**
     * Reads the request, then closes the connection without an answer (an empty response).
     */
    record CloseWithoutResponse()
            implements HttpFault {}

    /**
     * Passes the request on, sends the answer's head and this fraction of its body, then closes the connection: the
     * client sees the body end early.
     */
    record TruncateResponse(double bodyFraction)
            implements HttpFault
    {
        public TruncateResponse
        {
            checkArgument(bodyFraction >= 0 && bodyFraction < 1, "bodyFraction must be in [0, 1)");
        }
    }

    /**
     * Passes the request on and sends a well-framed answer whose body is cut to this fraction (its Content-Length
     * says so): a listing that ends mid-document, a ranged read that returns fewer bytes than it promises.
     */
    record ShortBody(double bodyFraction)
            implements HttpFault
    {
        public ShortBody
        {
            checkArgument(bodyFraction >= 0 && bodyFraction < 1, "bodyFraction must be in [0, 1)");
        }
    }

    /**
     * Waits before passing the request on.
     */
    record Delay(Duration delay)
            implements HttpFault
    {
        public Delay
        {
            requireNonNull(delay, "delay is null");
        }
    }

    /**
     * Error answers a storage gives, rendered in each storage's format by its dialect.
     */
    enum ErrorKind
    {
        /**
         * Throttling: S3's 503 SlowDown, Azure's 503 ServerBusy.
         */
        SLOW_DOWN(503),
        /**
         * Throttling as some S3-compatible stores (and Azure, for some limits) answer it: 429 Too Many Requests.
         */
        TOO_MANY_REQUESTS(429),
        /**
         * 500 InternalError.
         */
        INTERNAL_ERROR(500),
        /**
         * 503 ServiceUnavailable (Azure has no such code: its 503 is ServerBusy, which it means as throttling).
         */
        SERVICE_UNAVAILABLE(503);

        private final int status;

        ErrorKind(int status)
        {
            this.status = status;
        }

        public int status()
        {
            return status;
        }
    }

    static HttpFault slowDown()
    {
        return new Respond(ErrorKind.SLOW_DOWN);
    }
}
