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

import com.google.common.util.concurrent.ListenableFuture;
import io.airlift.slice.Slice;

import java.net.URI;
import java.util.List;

/**
 * Where spool files live. One implementation per backend (local disk, S3, Azure, GCS, HDFS); nothing above this
 * interface knows which one is in use. Every method is non-blocking: work that touches the disk or network runs
 * on the backend's own threads and completes the returned future.
 * <p>
 * Failures complete futures exceptionally with a {@code TrinoException} whose message names the file or directory:
 * {@code SPOOL_FILE_NOT_FOUND} for a missing file, {@code SPOOL_FILE_CORRUPTED} for a file of the wrong size,
 * {@code SPOOL_STORAGE_ERROR} for anything else.
 */
public interface SpoolStorage
        extends AutoCloseable
{
    /**
     * Preferred bytes per ranged read.
     */
    int readBufferSize();

    /**
     * Writes a whole file in one request; the file becomes visible complete or not at all. Used for files that fit
     * one write buffer and for manifests. The buffers must stay unchanged until the future completes.
     */
    ListenableFuture<Void> putFile(URI file, List<Slice> content);

    /**
     * Starts a file too large for {@link #putFile}; its content arrives through {@link SpoolFileWriter#write}, and it
     * becomes visible, complete, only when {@link SpoolFileWriter#finish()} succeeds.
     */
    SpoolFileWriter createFile(URI file);

    /**
     * Reads a whole small file (a manifest).
     */
    ListenableFuture<Slice> getFile(URI file);

    /**
     * Opens a file for ranged reads; a file whose size is not {@code expectedBytes} fails its first read.
     */
    SpoolFileReader openFile(URI file, long expectedBytes);

    /**
     * Deletes the directories and everything below them. What is already gone, wholly or in part, is a success,
     * also when another delete of the same or an enclosing directory runs at the same time.
     */
    ListenableFuture<Void> deleteRecursively(List<URI> directories);

    /**
     * Deletes directories whose content the caller knows ({@link SpoolDirectoryContents}): an object store deletes
     * the named objects by key, in batches, and lists only the directories whose content is not known, so that
     * cleaning up after attempts that committed sends no listing at all. The default, for storage whose directories
     * exist of their own (a recursive delete is one operation there, or a local one), deletes each directory
     * recursively. What is already gone is a success.
     */
    default ListenableFuture<Void> deleteDirectories(List<SpoolDirectoryContents> directories)
    {
        return deleteRecursively(directories.stream().map(SpoolDirectoryContents::directory).toList());
    }

    /**
     * Every file below the directory, recursively (used by cleanup and tests, never on the data path).
     */
    ListenableFuture<List<SpoolFileStatus>> listFiles(URI directory);

    /**
     * The directories directly below a base directory, from one listing with a delimiter (an object store's common
     * prefixes), never a walk of what lies below them. Files directly in the base directory are not returned. A base
     * directory that does not exist has none.
     */
    ListenableFuture<List<SpoolDirectoryStatus>> listDirectories(URI baseDirectory);

    /**
     * For an operator: what a failure of {@code operation} on {@code location} means on this storage, with the
     * storage's own error code and the permission or setting most likely missing, e.g. {@code S3 AccessDenied (HTTP
     * 403): the credentials probably lack s3:PutObject on s3://bucket/prefix/*}. Never includes a secret.
     */
    default String diagnose(StorageOperation operation, URI location, Throwable failure)
    {
        Throwable cause = failure;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return "%s: %s".formatted(cause.getClass().getSimpleName(), cause.getMessage());
    }

    /**
     * What a caller was doing, for {@link #diagnose}.
     */
    enum StorageOperation
    {
        WRITE, READ, DELETE, LIST
    }

    @Override
    void close();
}
