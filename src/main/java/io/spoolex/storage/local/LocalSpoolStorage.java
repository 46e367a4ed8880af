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
package io.spoolex.storage.local;

import com.google.common.collect.ImmutableList;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.ListeningExecutorService;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.inject.Inject;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.storage.SpoolDirectoryStatus;
import io.spoolex.storage.SpoolFileReader;
import io.spoolex.storage.SpoolFileStatus;
import io.spoolex.storage.SpoolFileWriter;
import io.spoolex.storage.SpoolStorage;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static io.airlift.concurrent.Threads.daemonThreadsNamed;
import static io.spoolex.storage.StorageErrors.fileNotFound;
import static io.spoolex.storage.StorageErrors.storageError;
import static io.spoolex.storage.StorageErrors.truncated;
import static io.spoolex.storage.StorageErrors.wrongSize;
import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static java.util.concurrent.Executors.newFixedThreadPool;

/**
 * Spool files on a local or mounted (NFS, for several nodes) file system, for {@code file:} URIs and bare paths.
 * Blocking file calls run on a small pool of I/O threads so the engine's threads never wait on the disk.
 */
public class LocalSpoolStorage
        implements SpoolStorage
{
    static final int WRITE_BUFFER_BYTES = 1024 * 1024;
    static final int READ_BUFFER_BYTES = 1024 * 1024;
    private static final int IO_THREADS = 16;
    /**
     * Walks of one directory tree before a delete gives up on files that keep appearing in it.
     */
    private static final int DELETE_WALKS = 3;

    private final ExecutorService threads;
    private final ListeningExecutorService executor;

    @Inject
    public LocalSpoolStorage()
    {
        threads = newFixedThreadPool(IO_THREADS, daemonThreadsNamed("spoolex-local-io-%s"));
        executor = MoreExecutors.listeningDecorator(threads);
    }

    @Override
    public int readBufferSize()
    {
        return READ_BUFFER_BYTES;
    }

    @Override
    public ListenableFuture<Void> putFile(URI file, List<Slice> content)
    {
        return submit("write", file, () -> {
            Path path = path(file);
            Path temporary = temporaryPath(path);
            try (FileChannel channel = createFile(temporary)) {
                writeFully(channel, content);
            }
            publish(temporary, path);
            return null;
        });
    }

    @Override
    public SpoolFileWriter createFile(URI file)
    {
        return new LocalFileWriter(file, path(file), MoreExecutors.newSequentialExecutor(executor));
    }

    @Override
    public ListenableFuture<Slice> getFile(URI file)
    {
        return submit("read", file, () -> Slices.wrappedBuffer(Files.readAllBytes(path(file))));
    }

    @Override
    public SpoolFileReader openFile(URI file, long expectedBytes)
    {
        return new LocalFileReader(file, path(file), expectedBytes);
    }

    @Override
    public ListenableFuture<Void> deleteRecursively(List<URI> directories)
    {
        List<URI> toDelete = ImmutableList.copyOf(directories);
        return executor.submit(() -> {
            for (URI directory : toDelete) {
                try {
                    deleteTree(path(directory));
                }
                catch (IOException | RuntimeException e) {
                    throw storageError("delete", directory, e);
                }
            }
            return null;
        });
    }

    @Override
    public ListenableFuture<List<SpoolFileStatus>> listFiles(URI directory)
    {
        return submit("list", directory, () -> {
            ImmutableList.Builder<SpoolFileStatus> files = ImmutableList.builder();
            // what a concurrent delete removes during the walk is simply not listed
            Files.walkFileTree(path(directory), new SimpleFileVisitor<>()
            {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
                {
                    if (attributes.isRegularFile()) {
                        files.add(new SpoolFileStatus(file.toUri(), attributes.size(), Optional.of(attributes.lastModifiedTime().toInstant())));
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException failure)
                        throws IOException
                {
                    if (failure instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw failure;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path visited, IOException failure)
                        throws IOException
                {
                    if (failure != null && !(failure instanceof NoSuchFileException)) {
                        throw failure;
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
            return files.build();
        });
    }

    @Override
    public ListenableFuture<List<SpoolDirectoryStatus>> listDirectories(URI baseDirectory)
    {
        return submit("list", baseDirectory, () -> {
            ImmutableList.Builder<SpoolDirectoryStatus> directories = ImmutableList.builder();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(path(baseDirectory))) {
                for (Path entry : entries) {
                    BasicFileAttributes attributes;
                    try {
                        attributes = Files.readAttributes(entry, BasicFileAttributes.class, NOFOLLOW_LINKS);
                    }
                    catch (NoSuchFileException _) {
                        // deleted while the directory was read
                        continue;
                    }
                    if (attributes.isDirectory()) {
                        directories.add(new SpoolDirectoryStatus(
                                baseDirectory.resolve(new URI(null, null, "./" + entry.getFileName() + "/", null)),
                                Optional.of(attributes.lastModifiedTime().toInstant())));
                    }
                }
            }
            catch (NoSuchFileException _) {
                // no base directory yet: nothing in it
            }
            return directories.build();
        });
    }

    @Override
    public void close()
    {
        // let deletes of closed exchanges finish, but do not hold up shutdown for long
        threads.shutdown();
        try {
            if (!threads.awaitTermination(10, TimeUnit.SECONDS)) {
                threads.shutdownNow();
            }
        }
        catch (InterruptedException e) {
            threads.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String diagnose(StorageOperation operation, URI location, Throwable failure)
    {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            String user = System.getProperty("user.name");
            if (cause instanceof AccessDeniedException denied) {
                return "permission denied on %s: the user Trino runs as (%s) needs %s permission there".formatted(
                        denied.getFile(), user, operation == StorageOperation.READ || operation == StorageOperation.LIST ? "read" : "write");
            }
            if (cause instanceof FileSystemException fileSystem && fileSystem.getReason() != null && fileSystem.getReason().contains("Read-only file system")) {
                return "%s is on a read-only file system: mount it read-write".formatted(fileSystem.getFile());
            }
            if (cause instanceof NoSuchFileException missing && operation == StorageOperation.WRITE) {
                return "%s cannot be created (no such file or directory): its parent is missing or takes no new entries".formatted(missing.getFile());
            }
            if (cause instanceof FileSystemException fileSystem && cause.getCause() == null) {
                return "%s: %s".formatted(fileSystem.getClass().getSimpleName(), fileSystem.getMessage());
            }
        }
        return SpoolStorage.super.diagnose(operation, location, failure);
    }

    static Path path(URI location)
    {
        return location.getScheme() == null ? Path.of(location.getPath()) : Path.of(location);
    }

    /**
     * Deletes a directory tree; what vanishes during the walk (another delete of the same tree or of one inside it)
     * is skipped, not an error. A file that appears while the tree is walked (a write racing the delete) makes its
     * directory non-empty: the walk starts over, a few times.
     */
    static void deleteTree(Path root)
            throws IOException
    {
        for (int walk = 1; ; walk++) {
            try {
                Files.walkFileTree(root, new SimpleFileVisitor<>()
                {
                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
                            throws IOException
                    {
                        // a symbolic link is deleted, never followed
                        Files.deleteIfExists(file);
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path file, IOException failure)
                            throws IOException
                    {
                        if (failure instanceof NoSuchFileException) {
                            return FileVisitResult.CONTINUE;
                        }
                        throw failure;
                    }

                    @Override
                    public FileVisitResult postVisitDirectory(Path directory, IOException failure)
                            throws IOException
                    {
                        if (failure != null && !(failure instanceof NoSuchFileException)) {
                            throw failure;
                        }
                        Files.deleteIfExists(directory);
                        return FileVisitResult.CONTINUE;
                    }
                });
                return;
            }
            catch (DirectoryNotEmptyException e) {
                if (walk >= DELETE_WALKS) {
                    throw e;
                }
            }
        }
    }

    /**
     * Where a file is written until it is complete: a reader never sees a partial file under its real name.
     */
    private static Path temporaryPath(Path path)
    {
        return path.resolveSibling(path.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    }

    private static FileChannel createFile(Path path)
            throws IOException
    {
        Files.createDirectories(path.getParent());
        return FileChannel.open(path, CREATE_NEW, WRITE);
    }

    private static void publish(Path temporary, Path path)
            throws IOException
    {
        try {
            Files.move(temporary, path, ATOMIC_MOVE, REPLACE_EXISTING);
        }
        catch (AtomicMoveNotSupportedException e) {
            Files.move(temporary, path, REPLACE_EXISTING);
        }
    }

    private <T> ListenableFuture<T> submit(String action, URI location, Callable<T> task)
    {
        return submit(executor, action, location, task);
    }

    private static <T> ListenableFuture<T> submit(Executor executor, String action, URI location, Callable<T> task)
    {
        try {
            return Futures.submit(() -> {
                try {
                    return task.call();
                }
                catch (NoSuchFileException e) {
                    throw fileNotFound(location, e);
                }
                catch (Exception e) {
                    throw storageError(action, location, e);
                }
            }, executor);
        }
        catch (RuntimeException e) {
            return immediateFailedFuture(storageError(action, location, e));
        }
    }

    private static void writeFully(FileChannel channel, List<Slice> buffers)
            throws IOException
    {
        ByteBuffer[] byteBuffers = new ByteBuffer[buffers.size()];
        long remaining = 0;
        for (int i = 0; i < byteBuffers.length; i++) {
            byteBuffers[i] = buffers.get(i).toByteBuffer();
            remaining += byteBuffers[i].remaining();
        }
        while (remaining > 0) {
            remaining -= channel.write(byteBuffers);
        }
    }

    /**
     * Writes run one after another on a sequential view of the I/O pool, so they land in order, into a temporary
     * file that {@link #finish()} renames to the file's name.
     */
    private static final class LocalFileWriter
            implements SpoolFileWriter
    {
        private final URI file;
        private final Path path;
        private final Path temporary;
        private final Executor sequential;
        private FileChannel channel; // touched only by tasks of the sequential executor

        LocalFileWriter(URI file, Path path, Executor sequential)
        {
            this.file = file;
            this.path = path;
            this.temporary = temporaryPath(path);
            this.sequential = sequential;
        }

        @Override
        public ListenableFuture<Void> write(List<Slice> buffers)
        {
            List<Slice> content = ImmutableList.copyOf(buffers);
            return submit(sequential, "write", file, () -> {
                writeFully(channel(), content);
                return null;
            });
        }

        @Override
        public ListenableFuture<Void> finish()
        {
            return submit(sequential, "write", file, () -> {
                channel().close();
                publish(temporary, path);
                return null;
            });
        }

        @Override
        public ListenableFuture<Void> abort()
        {
            return submit(sequential, "discard", file, () -> {
                if (channel != null) {
                    channel.close();
                }
                Files.deleteIfExists(temporary);
                return null;
            });
        }

        private FileChannel channel()
                throws IOException
        {
            if (channel == null) {
                channel = createFile(temporary);
            }
            return channel;
        }
    }

    private final class LocalFileReader
            implements SpoolFileReader
    {
        private final URI file;
        private final Path path;
        private final long expectedBytes;
        private ListenableFuture<FileChannel> channel;
        private boolean closed;

        LocalFileReader(URI file, Path path, long expectedBytes)
        {
            this.file = file;
            this.path = path;
            this.expectedBytes = expectedBytes;
        }

        @Override
        public synchronized ListenableFuture<Void> read(long position, Slice target)
        {
            if (channel == null) {
                channel = submit("open", file, () -> {
                    FileChannel opened = FileChannel.open(path, READ);
                    long size = opened.size();
                    if (size != expectedBytes) {
                        opened.close();
                        throw wrongSize(file, size, expectedBytes);
                    }
                    return opened;
                });
            }
            return Futures.transformAsync(channel, opened -> submit("read", file, () -> {
                ByteBuffer buffer = ByteBuffer.wrap(target.byteArray(), target.byteArrayOffset(), target.length()).slice();
                while (buffer.hasRemaining()) {
                    int read = opened.read(buffer, position + buffer.position());
                    if (read < 0) {
                        throw truncated(file, position + buffer.position(), expectedBytes);
                    }
                }
                return (Void) null;
            }), MoreExecutors.directExecutor());
        }

        @Override
        public synchronized void close()
        {
            if (closed) {
                return;
            }
            closed = true;
            if (channel != null) {
                channel.addListener(() -> {
                    try {
                        Futures.getDone(channel).close();
                    }
                    catch (Exception _) {
                        // the open failed, or closing a read-only channel failed: nothing to release
                    }
                }, MoreExecutors.directExecutor());
            }
        }
    }
}
