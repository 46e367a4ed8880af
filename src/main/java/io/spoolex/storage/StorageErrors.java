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

import io.trino.spi.TrinoException;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;

import static io.spoolex.SpoolexErrorCode.SPOOL_FILE_CORRUPTED;
import static io.spoolex.SpoolexErrorCode.SPOOL_FILE_NOT_FOUND;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;

/**
 * The exceptions backends fail futures with, so every storage error names its file and carries a retryable code.
 */
public final class StorageErrors
{
    private StorageErrors() {}

    public static TrinoException fileNotFound(URI file, Throwable cause)
    {
        return new TrinoException(SPOOL_FILE_NOT_FOUND, "Spool file %s does not exist".formatted(file), cause);
    }

    public static TrinoException wrongSize(URI file, long actualBytes, long expectedBytes)
    {
        return new TrinoException(SPOOL_FILE_CORRUPTED, "Spool file %s is corrupt: it has %s bytes but its manifest recorded %s".formatted(file, actualBytes, expectedBytes));
    }

    public static TrinoException truncated(URI file, long position, long expectedBytes)
    {
        return new TrinoException(SPOOL_FILE_CORRUPTED, "Spool file %s is corrupt: it ends at byte %s but its manifest recorded %s bytes".formatted(file, position, expectedBytes));
    }

    public static TrinoException storageError(String action, URI location, Throwable cause)
    {
        if (cause instanceof TrinoException trinoException) {
            return trinoException;
        }
        return new TrinoException(SPOOL_STORAGE_ERROR, "Failed to %s %s: %s".formatted(action, location, cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()), cause);
    }

    /**
     * A request given up on after retries: names the file, the storage's last answer, the attempts and the
     * properties that would let it ride out more. The code is retryable, so fault-tolerant execution runs the task
     * again; the last failure is the cause.
     */
    public static TrinoException retriesExhausted(String action, URI location, String status, int attempts, Duration elapsed, StorageRetryPolicy policy, String detail, Throwable lastFailure)
    {
        return new TrinoException(
                SPOOL_STORAGE_ERROR,
                "Failed to %s %s: %s, %s attempts over %s (%s=%s, %s=%s): %s".formatted(
                        action,
                        location,
                        status,
                        attempts,
                        String.format(Locale.ROOT, "%.1fs", elapsed.toNanos() / 1e9),
                        policy.minAttemptsProperty(),
                        policy.minAttempts(),
                        policy.retryTimeProperty(),
                        policy.retryTime().toMillis() % 1000 == 0 ? policy.retryTime().toSeconds() + "s" : policy.retryTime().toMillis() + "ms",
                        detail),
                lastFailure);
    }
}
