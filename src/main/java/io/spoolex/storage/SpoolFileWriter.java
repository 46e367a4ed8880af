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

import java.util.List;

/**
 * Streams one file to storage. Calls are made in order by one sink; each {@link #write} appends its buffers after
 * those of the previous call, even if the backend sends them concurrently (as S3 multipart parts). The writes keep
 * to the {@link StorageWriteLimits} the backend's module declares.
 */
public interface SpoolFileWriter
{
    /**
     * Appends the buffers; they must stay unchanged until the returned future completes.
     */
    ListenableFuture<Void> write(List<Slice> buffers);

    /**
     * Completes the file once all writes have; the file is not visible as complete before.
     */
    ListenableFuture<Void> finish();

    /**
     * Discards the file and anything uploaded for it, after waiting for writes in flight; leaves nothing behind.
     */
    ListenableFuture<Void> abort();
}
