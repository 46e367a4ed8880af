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

import java.net.URI;
import java.util.List;
import java.util.Optional;

/**
 * Deletes objects of one bucket in bulk through another API than S3's, for an S3 dialect that has no DeleteObjects of
 * its own (GCS's S3 interoperability API). Installed by the module of that dialect's backend: the S3 package itself
 * knows no such API.
 */
public interface S3BulkDeleter
        extends AutoCloseable
{
    /**
     * Deletes the keys of the bucket; a key that is already gone counts as deleted. Fails with a {@code TrinoException}
     * naming the object that could not be deleted.
     *
     * @param directory the directory being deleted, for messages
     */
    ListenableFuture<Void> deleteObjects(URI directory, String bucket, List<String> keys);

    /**
     * How deletes go, for the start-up log line: no secret in it.
     */
    String describe();

    @Override
    void close();

    /**
     * Makes the deleter from the S3 configuration, or none: then objects are deleted one request each.
     */
    @FunctionalInterface
    interface Factory
    {
        Optional<S3BulkDeleter> create(S3StorageConfig config);
    }
}
