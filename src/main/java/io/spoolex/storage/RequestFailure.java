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

import static java.util.Objects.requireNonNull;

/**
 * What one failed storage request means for retrying it, as the backend that made it reads the failure.
 *
 * @param kind whether, and how, to retry
 * @param status what the storage answered, for messages: {@code 503 SlowDown}, {@code connection reset}, ...
 */
public record RequestFailure(Kind kind, String status)
{
    public enum Kind
    {
        /**
         * The storage asks the client to slow down (S3 503 SlowDown, 429): retried after a longer backoff.
         */
        THROTTLED,
        /**
         * A failure that another attempt may not see: server errors, connection failures, answers cut short.
         */
        TRANSIENT,
        /**
         * Retrying cannot help (access denied, missing object, a file of the wrong size, a closed storage).
         */
        PERMANENT,
    }

    public RequestFailure
    {
        requireNonNull(kind, "kind is null");
        requireNonNull(status, "status is null");
    }

    public static RequestFailure permanent(String status)
    {
        return new RequestFailure(Kind.PERMANENT, status);
    }

    public boolean retryable()
    {
        return kind != Kind.PERMANENT;
    }
}
