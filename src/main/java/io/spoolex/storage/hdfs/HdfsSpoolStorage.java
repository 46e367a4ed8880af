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

import com.google.common.collect.ImmutableList;
import com.google.common.collect.Sets;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.ListeningExecutorService;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.inject.Inject;
import io.airlift.concurrent.AsyncSemaphore;
import io.airlift.log.Logger;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.storage.SpoolDirectoryStatus;
import io.spoolex.storage.SpoolFileReader;
import io.spoolex.storage.SpoolFileStatus;
import io.spoolex.storage.SpoolFileWriter;
import io.spoolex.storage.SpoolStorage;
import io.trino.spi.classloader.ThreadContextClassLoader;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.security.UserGroupInformation;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static com.google.common.base.Strings.nullToEmpty;
import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.MoreFutures.asVoid;
import static io.airlift.concurrent.Threads.daemonThreadsNamed;
import static io.spoolex.storage.StorageErrors.fileNotFound;
import static io.spoolex.storage.StorageErrors.truncated;
import static io.spoolex.storage.StorageErrors.wrongSize;
import static java.util.Objects.requireNonNull;
import static java.util.concurrent.Executors.newFixedThreadPool;
import static org.apache.hadoop.fs.CommonConfigurationKeysPublic.HADOOP_SECURITY_AUTHENTICATION;

/**
 * Spool files in HDFS (or, with {@code exchange.hdfs.skip-directory-scheme-validation}, another file system of
 * Hadoop's client), one {@link FileSystem} per namenode of the base directories. Hadoop's client blocks on its RPCs
 * and data streams, so every call runs on this storage's own pool of I/O threads, never on the engine's.
 * <ul>
 * <li>A file is written under a temporary name in its directory and renamed when complete: HDFS shows a file
 * being written, with what it has so far, under its name.</li>
 * <li>An aborted writer closes its stream and deletes the temporary file.</li>
 * <li>A directory is deleted with one recursive delete, which the namenode performs atomically; what is already
 * gone is a success.</li>
 * </ul>
 */
public class HdfsSpoolStorage
        implements SpoolStorage
{
    private static final Logger log = Logger.get(HdfsSpoolStorage.class);

    /**
     * Bytes per ranged read: as for S3, 4 MiB less 4 KiB, below half of the G1 region of large heaps (see
     * {@code S3SpoolStorage.READ_BUFFER_BYTES}).
     */
    static final int READ_BUFFER_BYTES = 4 * 1024 * 1024 - 4 * 1024;
    /**
     * Hadoop calls running at once; each blocks its thread for an RPC or a data transfer.
     */
    private static final int IO_THREADS = 32;
    /**
     * Directories one deleteRecursively call deletes at once (one namenode RPC each).
     */
    private static final int DIRECTORY_PARALLELISM = 8;
    private static final long CLOSE_WAIT_SECONDS = 10;

    private final Configuration hadoop;
    private final HdfsStorageStats stats;
    private final ExecutorService threads;
    private final ListeningExecutorService executor;
    // by scheme://authority/
    private final Map<URI, FileSystem> fileSystems = new ConcurrentHashMap<>();

    @GuardedBy("this")
    private final Set<ListenableFuture<Void>> deletesInFlight = Sets.newIdentityHashSet();

    @Inject
    public HdfsSpoolStorage(HdfsStorageConfig config, HdfsStorageStats stats)
    {
        requireNonNull(config, "config is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.hadoop = HadoopConfigurations.load(config.getConfigResources());
        ClassLoader classLoader = HdfsSpoolStorage.class.getClassLoader();
        String authentication = hadoop.get(HADOOP_SECURITY_AUTHENTICATION, "simple");
        if (!authentication.equalsIgnoreCase("simple")) {
            // Hadoop's client reads hadoop.security.authentication from a configuration of its own (core-site.xml on
            // the class path, which a plugin has not): give it the one of hdfs.config.resources
            try (ThreadContextClassLoader _ = new ThreadContextClassLoader(classLoader)) {
                UserGroupInformation.setConfiguration(hadoop);
            }
        }
        ThreadFactory daemons = daemonThreadsNamed("spoolex-hdfs-io-%s");
        // Hadoop finds its file systems, codecs and security providers through the thread context class loader
        this.threads = newFixedThreadPool(IO_THREADS, runnable -> {
            Thread thread = daemons.newThread(runnable);
            thread.setContextClassLoader(classLoader);
            return thread;
        });
        this.executor = MoreExecutors.listeningDecorator(threads);
        log.info("Spool storage: HDFS through Hadoop's client, fs.defaultFS %s, hadoop.security.authentication %s, write size %s, files %s",
                FileSystem.getDefaultUri(hadoop),
                authentication,
                config.getBlockSize(),
                config.getConfigResources());
    }

    @Override
    public int readBufferSize()
    {
        return READ_BUFFER_BYTES;
    }

    @Override
    public ListenableFuture<Void> putFile(URI file, List<Slice> content)
    {
        List<Slice> buffers = ImmutableList.copyOf(content);
        return submit(executor, "write", file, false, () -> {
            FileSystem fileSystem = fileSystem(file);
            Path path = new Path(file);
            Path temporary = temporaryPath(path);
            long bytes = 0;
            try {
                try (FSDataOutputStream stream = fileSystem.create(temporary, false)) {
                    for (Slice buffer : buffers) {
                        stream.write(buffer.byteArray(), buffer.byteArrayOffset(), buffer.length());
                        bytes += buffer.length();
                    }
                }
                publish(fileSystem, temporary, path);
            }
            catch (IOException | RuntimeException e) {
                deleteQuietly(fileSystem, temporary, e);
                throw e;
            }
            stats.getWrittenBytes().update(bytes);
            stats.getFilesWritten().update(1);
            return null;
        });
    }

    @Override
    public SpoolFileWriter createFile(URI file)
    {
        return new HdfsFileWriter(file, MoreExecutors.newSequentialExecutor(executor));
    }

    @Override
    public ListenableFuture<Slice> getFile(URI file)
    {
        return submit(executor, "read", file, true, () -> {
            byte[] bytes;
            try (FSDataInputStream stream = fileSystem(file).open(new Path(file))) {
                bytes = stream.readAllBytes();
            }
            stats.getFilesOpened().update(1);
            stats.getReadBytes().update(bytes.length);
            return Slices.wrappedBuffer(bytes);
        });
    }

    @Override
    public SpoolFileReader openFile(URI file, long expectedBytes)
    {
        return new HdfsFileReader(file, expectedBytes);
    }

    @Override
    @SuppressWarnings("CollectionUndefinedEquality") // an identity set: a delete is removed as the same object
    public ListenableFuture<Void> deleteRecursively(List<URI> directories)
    {
        List<URI> toDelete = ImmutableList.copyOf(directories);
        ListenableFuture<Void> deleted = asVoid(AsyncSemaphore.processAll(toDelete, this::deleteDirectory, DIRECTORY_PARALLELISM, directExecutor()));
        synchronized (this) {
            deletesInFlight.add(deleted);
        }
        deleted.addListener(() -> {
            synchronized (this) {
                deletesInFlight.remove(deleted);
            }
        }, directExecutor());
        return deleted;
    }

    private ListenableFuture<Void> deleteDirectory(URI directory)
    {
        return submit(executor, "delete", directory, false, () -> {
            Path path = new Path(directory);
            if (path.isRoot()) {
                // spool directories always lie below a base directory
                throw new IOException("refusing to delete the root of a file system");
            }
            try {
                // false when it is not there: already deleted, which is what was asked
                fileSystem(directory).delete(path, true);
            }
            catch (FileNotFoundException _) {
                // removed by a concurrent delete of the same or an enclosing directory
            }
            stats.getDirectoriesDeleted().update(1);
            return null;
        });
    }

    @Override
    public ListenableFuture<List<SpoolFileStatus>> listFiles(URI directory)
    {
        return submit(executor, "list", directory, false, () -> {
            FileSystem fileSystem = fileSystem(directory);
            ImmutableList.Builder<SpoolFileStatus> files = ImmutableList.builder();
            Deque<URI> pending = new ArrayDeque<>();
            pending.push(directory);
            while (!pending.isEmpty()) {
                URI listed = pending.pop();
                stats.getListings().update(1);
                try {
                    RemoteIterator<FileStatus> entries = fileSystem.listStatusIterator(new Path(listed));
                    while (entries.hasNext()) {
                        FileStatus entry = entries.next();
                        if (entry.isDirectory()) {
                            pending.push(child(listed, entry.getPath().getName() + "/"));
                        }
                        else if (entry.isFile()) {
                            files.add(new SpoolFileStatus(child(listed, entry.getPath().getName()), entry.getLen(), Optional.of(Instant.ofEpochMilli(entry.getModificationTime()))));
                        }
                    }
                }
                catch (FileNotFoundException _) {
                    // not there, or removed by a concurrent delete while it was listed: nothing (more) to list
                }
            }
            return files.build();
        });
    }

    @Override
    public ListenableFuture<List<SpoolDirectoryStatus>> listDirectories(URI baseDirectory)
    {
        return submit(executor, "list", baseDirectory, false, () -> {
            ImmutableList.Builder<SpoolDirectoryStatus> directories = ImmutableList.builder();
            stats.getListings().update(1);
            try {
                RemoteIterator<FileStatus> entries = fileSystem(baseDirectory).listStatusIterator(new Path(baseDirectory));
                while (entries.hasNext()) {
                    FileStatus entry = entries.next();
                    if (entry.isDirectory()) {
                        directories.add(new SpoolDirectoryStatus(child(baseDirectory, entry.getPath().getName() + "/"), Optional.of(Instant.ofEpochMilli(entry.getModificationTime()))));
                    }
                }
            }
            catch (FileNotFoundException _) {
                // no base directory yet: nothing in it
            }
            return directories.build();
        });
    }

    @Override
    public void close()
    {
        // let deletes of closed exchanges finish, but do not hold up shutdown for long
        List<ListenableFuture<Void>> pending;
        synchronized (this) {
            pending = ImmutableList.copyOf(deletesInFlight);
        }
        try {
            Futures.whenAllComplete(pending).call(() -> null, directExecutor()).get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        catch (Exception e) {
            log.warn("%s deletes of spool data were still running at shutdown and were cut off", pending.size());
        }
        threads.shutdown();
        try {
            if (!threads.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                threads.shutdownNow();
            }
        }
        catch (InterruptedException e) {
            threads.shutdownNow();
            Thread.currentThread().interrupt();
        }
        for (FileSystem fileSystem : fileSystems.values()) {
            try {
                fileSystem.close();
            }
            catch (IOException | RuntimeException e) {
                log.warn(e, "Failed to close %s", fileSystem.getUri());
            }
        }
        fileSystems.clear();
    }

    @Override
    public String toString()
    {
        return "HdfsSpoolStorage{defaultFS=%s, fileSystems=%s}".formatted(FileSystem.getDefaultUri(hadoop), fileSystems.keySet());
    }

    /**
     * The client of the file system holding {@code location}, made on first use (which does not contact the namenode).
     */
    private FileSystem fileSystem(URI location)
            throws IOException
    {
        URI key = URI.create(location.getScheme() + "://" + nullToEmpty(location.getRawAuthority()) + "/");
        FileSystem fileSystem = fileSystems.get(key);
        if (fileSystem != null) {
            return fileSystem;
        }
        synchronized (fileSystems) {
            fileSystem = fileSystems.get(key);
            if (fileSystem == null) {
                try (ThreadContextClassLoader _ = new ThreadContextClassLoader(HdfsSpoolStorage.class.getClassLoader())) {
                    // a client of its own, outside Hadoop's shared cache, so that closing it closes nobody else's
                    fileSystem = FileSystem.newInstance(key, hadoop);
                }
                fileSystems.put(key, fileSystem);
            }
            return fileSystem;
        }
    }

    private static URI child(URI directory, String name)
            throws URISyntaxException
    {
        // "./" keeps a colon in the name from reading as a scheme
        return directory.resolve(new URI(null, null, "./" + name, null));
    }

    /**
     * Where a file is written until it is complete: a reader never sees a partial file under its real name.
     */
    private static Path temporaryPath(Path path)
    {
        return new Path(path.getParent(), path.getName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    }

    private static void publish(FileSystem fileSystem, Path temporary, Path path)
            throws IOException
    {
        if (fileSystem.rename(temporary, path)) {
            return;
        }
        // HDFS's rename does not replace a file: one of that name is there already (a file written again)
        if (fileSystem.exists(path) && fileSystem.delete(path, false) && fileSystem.rename(temporary, path)) {
            return;
        }
        throw new IOException("cannot rename %s to %s".formatted(temporary, path));
    }

    private static void deleteQuietly(FileSystem fileSystem, Path path, Exception failure)
    {
        try {
            fileSystem.delete(path, false);
        }
        catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private <T> ListenableFuture<T> submit(Executor executor, String action, URI location, boolean missingFileNotFound, Callable<T> task)
    {
        try {
            return Futures.submit(() -> {
                try {
                    return task.call();
                }
                catch (Exception e) {
                    stats.getFailedOperations().update(1);
                    if (HdfsFailures.isUnreachable(e)) {
                        stats.getUnreachable().update(1);
                    }
                    if (missingFileNotFound && HdfsFailures.isNotFound(e)) {
                        throw fileNotFound(location, e);
                    }
                    throw HdfsFailures.translate(action, location, e);
                }
            }, executor);
        }
        catch (RuntimeException e) {
            return immediateFailedFuture(HdfsFailures.translate(action, location, e));
        }
    }

    /**
     * Writes run one after another on a sequential view of the I/O pool, so they land in order, into a temporary
     * file that {@link #finish()} renames to the file's name.
     */
    private final class HdfsFileWriter
            implements SpoolFileWriter
    {
        private final URI file;
        private final Path path;
        private final Path temporary;
        private final Executor sequential;
        // touched only by tasks of the sequential executor
        private FileSystem fileSystem;
        private FSDataOutputStream stream;

        HdfsFileWriter(URI file, Executor sequential)
        {
            this.file = file;
            this.path = new Path(file);
            this.temporary = temporaryPath(path);
            this.sequential = sequential;
        }

        @Override
        public ListenableFuture<Void> write(List<Slice> buffers)
        {
            List<Slice> content = ImmutableList.copyOf(buffers);
            return submit(sequential, "write", file, false, () -> {
                FSDataOutputStream output = stream();
                long bytes = 0;
                for (Slice buffer : content) {
                    output.write(buffer.byteArray(), buffer.byteArrayOffset(), buffer.length());
                    bytes += buffer.length();
                }
                stats.getWrittenBytes().update(bytes);
                return null;
            });
        }

        @Override
        public ListenableFuture<Void> finish()
        {
            return submit(sequential, "write", file, false, () -> {
                stream().close();
                publish(fileSystem, temporary, path);
                stats.getFilesWritten().update(1);
                return null;
            });
        }

        @Override
        public ListenableFuture<Void> abort()
        {
            return submit(sequential, "discard", file, false, () -> {
                if (stream == null) {
                    // nothing was created
                    return null;
                }
                IOException closeFailure = null;
                try {
                    stream.close();
                }
                catch (IOException e) {
                    // the file goes below whatever state the stream is in
                    closeFailure = e;
                }
                try {
                    fileSystem.delete(temporary, false);
                }
                catch (IOException | RuntimeException e) {
                    if (closeFailure != null) {
                        e.addSuppressed(closeFailure);
                    }
                    throw e;
                }
                stats.getWritesAborted().update(1);
                return null;
            });
        }

        private FSDataOutputStream stream()
                throws IOException
        {
            if (stream == null) {
                fileSystem = fileSystem(file);
                stream = fileSystem.create(temporary, false);
            }
            return stream;
        }
    }

    private final class HdfsFileReader
            implements SpoolFileReader
    {
        private final URI file;
        private final long expectedBytes;
        private ListenableFuture<FSDataInputStream> stream;
        private boolean closed;

        HdfsFileReader(URI file, long expectedBytes)
        {
            this.file = file;
            this.expectedBytes = expectedBytes;
        }

        @Override
        public synchronized ListenableFuture<Void> read(long position, Slice target)
        {
            if (stream == null) {
                stream = submit(executor, "open", file, true, () -> {
                    FileSystem fileSystem = fileSystem(file);
                    Path path = new Path(file);
                    long size = fileSystem.getFileStatus(path).getLen();
                    if (size != expectedBytes) {
                        throw wrongSize(file, size, expectedBytes);
                    }
                    FSDataInputStream opened = fileSystem.open(path);
                    stats.getFilesOpened().update(1);
                    return opened;
                });
            }
            return Futures.transformAsync(stream, opened -> submit(executor, "read", file, true, () -> {
                try {
                    // a positioned read: concurrent reads of one stream are safe
                    opened.readFully(position, target.byteArray(), target.byteArrayOffset(), target.length());
                }
                catch (EOFException e) {
                    throw truncated(file, position, expectedBytes);
                }
                stats.getReads().update(1);
                stats.getReadBytes().update(target.length());
                return (Void) null;
            }), directExecutor());
        }

        @Override
        public synchronized void close()
        {
            if (closed) {
                return;
            }
            closed = true;
            if (stream != null) {
                stream.addListener(() -> {
                    try {
                        Futures.getDone(stream).close();
                    }
                    catch (Exception _) {
                        // the open failed, or closing a read-only stream failed: nothing to release
                    }
                }, directExecutor());
            }
        }
    }
}
