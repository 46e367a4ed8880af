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
package io.spoolex.storage.hdfs;

import io.spoolex.storage.StorageErrors;
import io.trino.spi.TrinoException;

import java.io.FileNotFoundException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;

import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;

/**
 * Turns what Hadoop's client fails with into the storage errors of {@link StorageErrors}, each naming the file or
 * directory, and, when the cluster could not be reached, the namenode (the URI's authority: host and port, or the
 * nameservice of an HA cluster). All of them are retryable: the engine runs the task again.
 */
final class HdfsFailures
{
    private HdfsFailures() {}

    static boolean isNotFound(Throwable failure)
    {
        return failure instanceof FileNotFoundException;
    }

    static boolean isUnreachable(Throwable failure)
    {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            // Hadoop's ConnectTimeoutException is a SocketTimeoutException
            if (cause instanceof ConnectException || cause instanceof NoRouteToHostException || cause instanceof UnknownHostException || cause instanceof SocketTimeoutException) {
                return true;
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return false;
    }

    static TrinoException translate(String action, URI location, Throwable failure)
    {
        if (failure instanceof TrinoException trinoException) {
            return trinoException;
        }
        if (isUnreachable(failure)) {
            return new TrinoException(SPOOL_STORAGE_ERROR, "Failed to %s %s: the namenode %s cannot be reached: %s".formatted(action, location, namenode(location), message(failure)), failure);
        }
        return StorageErrors.storageError(action, location, failure);
    }

    private static String namenode(URI location)
    {
        return location.getAuthority() == null ? "of fs.defaultFS" : location.getAuthority();
    }

    private static String message(Throwable failure)
    {
        return failure.getMessage() == null ? failure.getClass().getSimpleName() : failure.getMessage();
    }
}
