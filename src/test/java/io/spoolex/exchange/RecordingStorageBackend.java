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
package io.spoolex.exchange;

import com.google.common.collect.ImmutableList;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.inject.Binder;
import com.google.inject.Inject;
import com.google.inject.Scopes;
import io.airlift.slice.Slice;
import io.spoolex.config.BaseDirectories;
import io.spoolex.storage.SpoolDirectoryContents;
import io.spoolex.storage.SpoolDirectoryStatus;
import io.spoolex.storage.SpoolFileReader;
import io.spoolex.storage.SpoolFileStatus;
import io.spoolex.storage.SpoolFileWriter;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.SpoolStorageBackend;
import io.spoolex.storage.SpoolStorageModule;
import io.spoolex.storage.StorageWriteLimits;
import io.spoolex.storage.local.LocalSpoolStorage;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.Objects.requireNonNull;

/**
 * A {@code file:} backend for sink tests: local storage (the real one) with
 * write limits of the test's choosing, which records the size of every streamed write and can be told to fail
 * writes or deletes.
 */
final class RecordingStorageBackend
        implements SpoolStorageBackend
{
    private final StorageWriteLimits limits;
    private final Map<URI, List<Long>> writes = new ConcurrentHashMap<>();
    private final Set<URI> finished = ConcurrentHashMap.newKeySet();
    private final AtomicReference<RuntimeException> writeFailure = new AtomicReference<>();
    private final AtomicReference<RuntimeException> deleteFailure = new AtomicReference<>();
    private final AtomicInteger deleteCalls = new AtomicInteger();
    private final List<SpoolDirectoryContents> deletedContents = new CopyOnWriteArrayList<>();

    RecordingStorageBackend(StorageWriteLimits limits)
    {
        this.limits = requireNonNull(limits, "limits is null");
    }

    /**
     * Sizes of the streamed writes of each file, in order.
     */
    Map<URI, List<Long>> writes()
    {
        return writes;
    }

    /**
     * Files whose streamed writer finished.
     */
    Set<URI> finished()
    {
        return finished;
    }

    /**
     * From now on every write (whole or streamed) fails with this.
     */
    void failWrites(RuntimeException failure)
    {
        writeFailure.set(failure);
    }

    /**
     * From now on every delete fails with this; {@code null} lets them succeed again.
     */
    void failDeletes(RuntimeException failure)
    {
        deleteFailure.set(failure);
    }

    /**
     * Deletes asked for so far (each a call with its directories).
     */
    int deleteCalls()
    {
        return deleteCalls.get();
    }

    /**
     * Every directory asked to be deleted with known contents, in order.
     */
    List<SpoolDirectoryContents> deletedContents()
    {
        return deletedContents;
    }

    @Override
    public Set<String> schemes()
    {
        return Set.of("file");
    }

    @Override
    public SpoolStorageModule module(BaseDirectories baseDirectories)
    {
        return new SpoolStorageModule()
        {
            @Override
            protected StorageWriteLimits setupStorage(Binder binder)
            {
                binder.bind(RecordingStorageBackend.class).toInstance(RecordingStorageBackend.this);
                binder.bind(SpoolStorage.class).to(RecordingStorage.class).in(Scopes.SINGLETON);
                return limits;
            }
        };
    }

    static final class RecordingStorage
            implements SpoolStorage
    {
        private final SpoolStorage delegate;
        private final RecordingStorageBackend backend;

        @Inject
        RecordingStorage(RecordingStorageBackend backend)
        {
            this.delegate = new LocalSpoolStorage();
            this.backend = requireNonNull(backend, "backend is null");
        }

        @Override
        public int readBufferSize()
        {
            return delegate.readBufferSize();
        }

        @Override
        public ListenableFuture<Void> putFile(URI file, List<Slice> content)
        {
            RuntimeException failure = backend.writeFailure.get();
            return failure != null ? Futures.immediateFailedFuture(failure) : delegate.putFile(file, content);
        }

        @Override
        public SpoolFileWriter createFile(URI file)
        {
            SpoolFileWriter writer = delegate.createFile(file);
            List<Long> sizes = new CopyOnWriteArrayList<>();
            backend.writes.put(file, sizes);
            return new SpoolFileWriter()
            {
                @Override
                public ListenableFuture<Void> write(List<Slice> buffers)
                {
                    sizes.add(buffers.stream().mapToLong(Slice::length).sum());
                    RuntimeException failure = backend.writeFailure.get();
                    return failure != null ? Futures.immediateFailedFuture(failure) : writer.write(ImmutableList.copyOf(buffers));
                }

                @Override
                public ListenableFuture<Void> finish()
                {
                    backend.finished.add(file);
                    return writer.finish();
                }

                @Override
                public ListenableFuture<Void> abort()
                {
                    return writer.abort();
                }
            };
        }

        @Override
        public ListenableFuture<Slice> getFile(URI file)
        {
            return delegate.getFile(file);
        }

        @Override
        public SpoolFileReader openFile(URI file, long expectedBytes)
        {
            return delegate.openFile(file, expectedBytes);
        }

        @Override
        public ListenableFuture<Void> deleteRecursively(List<URI> directories)
        {
            backend.deleteCalls.incrementAndGet();
            RuntimeException failure = backend.deleteFailure.get();
            return failure != null ? Futures.immediateFailedFuture(failure) : delegate.deleteRecursively(directories);
        }

        @Override
        public ListenableFuture<Void> deleteDirectories(List<SpoolDirectoryContents> directories)
        {
            backend.deletedContents.addAll(directories);
            return SpoolStorage.super.deleteDirectories(directories);
        }

        @Override
        public ListenableFuture<List<SpoolFileStatus>> listFiles(URI directory)
        {
            return delegate.listFiles(directory);
        }

        @Override
        public ListenableFuture<List<SpoolDirectoryStatus>> listDirectories(URI baseDirectory)
        {
            return delegate.listDirectories(baseDirectory);
        }

        @Override
        public void close()
        {
            delegate.close();
        }
    }
}
