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
package io.spoolex.storage.gcs;

import com.google.api.gax.paging.Page;
import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobInfo;
import com.google.cloud.storage.Storage.BlobField;
import com.google.cloud.storage.Storage.BlobListOption;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.Sets;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.inject.Inject;
import io.airlift.concurrent.AsyncSemaphore;
import io.airlift.log.Logger;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.storage.SpoolDirectoryContents;
import io.spoolex.storage.SpoolDirectoryStatus;
import io.spoolex.storage.SpoolFileReader;
import io.spoolex.storage.SpoolFileStatus;
import io.spoolex.storage.SpoolFileWriter;
import io.spoolex.storage.SpoolStorage;
import io.trino.spi.TrinoException;

import java.io.InputStream;
import java.io.SequenceInputStream;
import java.net.URI;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static com.google.common.util.concurrent.Futures.immediateVoidFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.MoreFutures.asVoid;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static io.spoolex.storage.StorageErrors.storageError;
import static java.util.Objects.requireNonNull;

/**
 * Spool files as GCS objects, every request through the GCS JSON API ({@code gs://} without an HMAC key: the native
 * mode, for which no long-lived key is needed, e.g. Workload Identity on GKE).
 * <ul>
 * <li>A file that fits one write buffer is one single-request (multipart) upload, its buffers streamed as they are;
 * a larger one is a resumable upload ({@link GcsResumableWriter}), visible only once finished.</li>
 * <li>Reads are ranged GETs into the caller's memory, of the generation whose size was checked ({@link GcsRangeReader}).</li>
 * <li>Deleting a directory lists its prefix page by page and deletes each page's objects in batch requests of at most
 * 100 deletes ({@link GcsBatchDeleter}); files known by name are deleted so without any listing.</li>
 * </ul>
 */
public class GcsSpoolStorage
        implements SpoolStorage
{
    private static final Logger log = Logger.get(GcsSpoolStorage.class);

    /**
     * Bytes per ranged read: 4 MiB less 4 KiB, below half of an 8 MiB G1 region (see the S3 backend).
     */
    static final int READ_BUFFER_BYTES = 4 * 1024 * 1024 - 4 * 1024;
    /**
     * Bytes a sink collects before it writes: one upload chunk, so that every write is about one request.
     */
    static final int WRITE_BYTES = GcsResumableWriter.CHUNK_BYTES;
    private static final int DIRECTORY_PARALLELISM = 8;
    private static final long CLOSE_WAIT_SECONDS = 10;

    private final GcsClients clients;
    private final GcsStorageStats stats;
    private final GcsBatchDeleter deleter;

    @GuardedBy("this")
    private final Set<ListenableFuture<Void>> deletesInFlight = Sets.newIdentityHashSet();

    @Inject
    public GcsSpoolStorage(GcsStorageConfig config, GcsCredentials credentials, GcsServiceFactory serviceFactory, GcsStorageStats stats)
    {
        requireNonNull(config, "config is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.clients = new GcsClients(
                credentials,
                GcsClients.retryPolicy(config.maxAttempts(), config.getRetryTime(), GcsStorageConfig.MAX_ERROR_RETRIES, GcsStorageConfig.RETRY_TIME),
                serviceFactory,
                stats,
                "spoolex-gcs");
        this.deleter = new GcsBatchDeleter(clients, stats);
        log.info("Spool storage: GCS native mode (no HMAC key: every request through the JSON API), %s, upload chunks of %s bytes, batch deletes of up to %s objects, retries: %s",
                clients,
                GcsResumableWriter.CHUNK_BYTES,
                GcsBatchDeleter.MAX_OPERATIONS,
                clients.policy());
    }

    @Override
    public int readBufferSize()
    {
        return READ_BUFFER_BYTES;
    }

    @Override
    public ListenableFuture<Void> putFile(URI file, List<Slice> content)
    {
        return upload(clients, stats, GcsLocation.of(file), ImmutableList.copyOf(content));
    }

    /**
     * One single-request upload of the buffers, read in place (no copy into one array, which at this size would be a
     * humongous object); each attempt reads them anew.
     */
    @SuppressWarnings("deprecation") // create from a stream is deprecated for the library's own retries, which are off here: each attempt streams anew
    static ListenableFuture<Void> upload(GcsClients clients, GcsStorageStats stats, GcsLocation location, List<Slice> content)
    {
        long bytes = content.stream().mapToLong(Slice::length).sum();
        return clients.call(stats.getSingleUploads(), "write", location.toUri(), () -> {
            List<InputStream> streams = content.stream().map(Slice::getInput).map(InputStream.class::cast).toList();
            try (InputStream body = new SequenceInputStream(Collections.enumeration(streams))) {
                clients.storage().create(BlobInfo.newBuilder(location.blobId()).build(), body);
            }
            stats.getUploadedBytes().update(bytes);
            return null;
        });
    }

    static ListenableFuture<Void> deleteObject(GcsClients clients, GcsStorageStats stats, GcsLocation location)
    {
        return clients.call(stats.getSingleDeletes(), "discard", location.toUri(), () -> {
            if (clients.storage().delete(location.blobId())) {
                stats.getDeletedObjects().update(1);
            }
            return null;
        });
    }

    @Override
    public SpoolFileWriter createFile(URI file)
    {
        return new GcsResumableWriter(clients, GcsLocation.of(file), stats);
    }

    @Override
    public ListenableFuture<Slice> getFile(URI file)
    {
        GcsLocation location = GcsLocation.of(file);
        return clients.call(stats.getReads(), "read", file, () -> {
            byte[] bytes = clients.storage().readAllBytes(location.blobId());
            stats.getDownloadedBytes().update(bytes.length);
            return Slices.wrappedBuffer(bytes);
        });
    }

    @Override
    public SpoolFileReader openFile(URI file, long expectedBytes)
    {
        return new GcsRangeReader(clients, GcsLocation.of(file), expectedBytes, stats);
    }

    @Override
    @SuppressWarnings("CollectionUndefinedEquality") // an identity set: a delete is removed as the same object
    public ListenableFuture<Void> deleteRecursively(List<URI> directories)
    {
        List<GcsLocation> locations;
        try {
            locations = directories.stream().map(GcsLocation::of).toList();
        }
        catch (IllegalArgumentException e) {
            return immediateFailedFuture(new TrinoException(SPOOL_STORAGE_ERROR, "Failed to delete %s: %s".formatted(directories, e.getMessage()), e));
        }
        ListenableFuture<Void> deleted = asVoid(AsyncSemaphore.processAll(locations, this::deleteDirectory, DIRECTORY_PARALLELISM, directExecutor()));
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

    private ListenableFuture<Void> deleteDirectory(GcsLocation directory)
    {
        if (directory.directoryPrefix().isEmpty()) {
            // spool directories always lie below a base directory; an empty prefix would be the whole bucket
            return immediateFailedFuture(storageError("delete", directory.toUri(), new IllegalArgumentException("refusing to delete a whole bucket")));
        }
        return forEachPage(directory, Optional.empty(), blobs -> deleter.delete(directory.toUri(), directory.bucket(), blobs.stream().map(Blob::getName).toList()), new ArrayList<>());
    }

    /**
     * Deletes the known files by name in batch requests of at most 100 deletes (across the directories of one bucket),
     * and lists only the unlisted directories: no listing at all for a directory whose content is known.
     */
    @Override
    @SuppressWarnings("CollectionUndefinedEquality") // an identity set: a delete is removed as the same object
    public ListenableFuture<Void> deleteDirectories(List<SpoolDirectoryContents> directories)
    {
        Map<String, List<String>> namesByBucket = new LinkedHashMap<>();
        Map<String, URI> directoryOfBucket = new LinkedHashMap<>();
        List<URI> unlisted = new ArrayList<>();
        try {
            for (SpoolDirectoryContents directory : directories) {
                GcsLocation location = GcsLocation.of(directory.directory());
                if (location.directoryPrefix().isEmpty()) {
                    return immediateFailedFuture(storageError("delete", directory.directory(), new IllegalArgumentException("refusing to delete a whole bucket")));
                }
                directoryOfBucket.putIfAbsent(location.bucket(), directory.directory());
                for (URI file : directory.files()) {
                    GcsLocation object = GcsLocation.of(file);
                    checkArgument(object.bucket().equals(location.bucket()), "%s is not in the bucket of %s", file, directory.directory());
                    namesByBucket.computeIfAbsent(location.bucket(), _ -> new ArrayList<>()).add(object.name());
                }
                unlisted.addAll(directory.unlistedDirectories());
            }
        }
        catch (IllegalArgumentException e) {
            return immediateFailedFuture(new TrinoException(SPOOL_STORAGE_ERROR, "Failed to delete %s: %s".formatted(directories.stream().map(SpoolDirectoryContents::directory).toList(), e.getMessage()), e));
        }
        List<ListenableFuture<Void>> work = new ArrayList<>();
        namesByBucket.forEach((bucket, names) -> work.add(deleter.delete(directoryOfBucket.get(bucket), bucket, names)));
        if (!unlisted.isEmpty()) {
            work.add(deleteRecursively(unlisted));
        }
        ListenableFuture<Void> deleted = Futures.whenAllComplete(work).callAsync(() -> asVoid(Futures.allAsList(work)), directExecutor());
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

    @Override
    public ListenableFuture<List<SpoolDirectoryStatus>> listDirectories(URI baseDirectory)
    {
        GcsLocation location = GcsLocation.of(baseDirectory);
        List<SpoolDirectoryStatus> directories = new ArrayList<>();
        ListenableFuture<Void> listed = forEachDirectoryPage(location, Optional.empty(), directories);
        return Futures.transform(listed, _ -> ImmutableList.copyOf(directories), directExecutor());
    }

    /**
     * One level of a listing with the delimiter '/': the prefixes are the directories, page by page.
     */
    private ListenableFuture<Void> forEachDirectoryPage(GcsLocation directory, Optional<String> pageToken, List<SpoolDirectoryStatus> directories)
    {
        ListenableFuture<ListedPage> page = clients.call(stats.getListings(), "list", directory.toUri(), () -> {
            List<BlobListOption> options = new ArrayList<>();
            options.add(BlobListOption.prefix(directory.directoryPrefix()));
            options.add(BlobListOption.currentDirectory());
            pageToken.ifPresent(token -> options.add(BlobListOption.pageToken(token)));
            Page<Blob> listed = clients.storage().list(directory.bucket(), options.toArray(BlobListOption[]::new));
            List<Blob> blobs = new ArrayList<>();
            listed.getValues().forEach(blobs::add);
            return new ListedPage(blobs, Optional.ofNullable(listed.getNextPageToken()).filter(token -> !token.isEmpty()));
        });
        return Futures.transformAsync(page, listed -> {
            for (Blob blob : listed.blobs()) {
                if (blob.isDirectory() && blob.getName().endsWith("/") && !blob.getName().equals(directory.directoryPrefix())) {
                    directories.add(new SpoolDirectoryStatus(directory.withName(blob.getName()).toUri(), Optional.empty()));
                }
            }
            if (listed.nextPageToken().isPresent()) {
                return forEachDirectoryPage(directory, listed.nextPageToken(), directories);
            }
            return immediateVoidFuture();
        }, directExecutor());
    }

    private record ListedPage(List<Blob> blobs, Optional<String> nextPageToken) {}

    /**
     * Lists the prefix page by page (each page a request of its own, retried like any other), starting
     * {@code action} for each page's objects while the listing goes on; completes once the listing and every action
     * have, failing with the first failure.
     */
    private ListenableFuture<Void> forEachPage(GcsLocation directory, Optional<String> pageToken, Function<List<Blob>, ListenableFuture<Void>> action, List<ListenableFuture<Void>> actions)
    {
        ListenableFuture<ListedPage> page = clients.call(stats.getListings(), "list", directory.toUri(), () -> {
            List<BlobListOption> options = new ArrayList<>();
            options.add(BlobListOption.prefix(directory.directoryPrefix()));
            options.add(BlobListOption.fields(BlobField.NAME, BlobField.SIZE, BlobField.UPDATED, BlobField.TIME_CREATED));
            pageToken.ifPresent(token -> options.add(BlobListOption.pageToken(token)));
            Page<Blob> listed = clients.storage().list(directory.bucket(), options.toArray(BlobListOption[]::new));
            List<Blob> blobs = new ArrayList<>();
            listed.getValues().forEach(blobs::add);
            return new ListedPage(blobs, Optional.ofNullable(listed.getNextPageToken()).filter(token -> !token.isEmpty()));
        });
        ListenableFuture<Void> listing = Futures.transformAsync(page, listed -> {
            if (!listed.blobs().isEmpty()) {
                actions.add(action.apply(listed.blobs()));
            }
            if (listed.nextPageToken().isPresent()) {
                return forEachPage(directory, listed.nextPageToken(), action, actions);
            }
            return immediateVoidFuture();
        }, directExecutor());
        return Futures.whenAllComplete(listing).callAsync(() -> {
            List<ListenableFuture<Void>> all = new ArrayList<>(actions);
            all.add(listing);
            return Futures.whenAllComplete(all).callAsync(() -> asVoid(Futures.allAsList(all)), directExecutor());
        }, directExecutor());
    }

    @Override
    public ListenableFuture<List<SpoolFileStatus>> listFiles(URI directory)
    {
        GcsLocation location = GcsLocation.of(directory);
        List<SpoolFileStatus> files = new ArrayList<>();
        ListenableFuture<Void> listed = forEachPage(location, Optional.empty(), blobs -> {
            synchronized (files) {
                for (Blob blob : blobs) {
                    // a "folder" placeholder some tools make is no spool file
                    if (!blob.getName().endsWith("/")) {
                        files.add(new SpoolFileStatus(location.withName(blob.getName()).toUri(), blob.getSize() == null ? 0 : blob.getSize(), written(blob)));
                    }
                }
            }
            return immediateVoidFuture();
        }, new ArrayList<>());
        return Futures.transform(listed, _ -> {
            synchronized (files) {
                return ImmutableList.copyOf(files);
            }
        }, directExecutor());
    }

    /**
     * When the object was written: its update time (an object is written once), else its creation time.
     */
    private static Optional<Instant> written(Blob blob)
    {
        return Optional.ofNullable(blob.getUpdateTimeOffsetDateTime())
                .or(() -> Optional.ofNullable(blob.getCreateTimeOffsetDateTime()))
                .map(OffsetDateTime::toInstant);
    }

    @Override
    public String diagnose(StorageOperation operation, URI location, Throwable failure)
    {
        Optional<GcsLocation> gcsLocation;
        try {
            gcsLocation = Optional.of(GcsLocation.of(location));
        }
        catch (IllegalArgumentException e) {
            gcsLocation = Optional.empty();
        }
        return GcsFailures.diagnose(operation, gcsLocation, failure);
    }

    @Override
    public void close()
    {
        // let deletes of closed exchanges finish, but not for long
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
        clients.close();
    }

    @Override
    public String toString()
    {
        return "GcsSpoolStorage{%s}".formatted(clients);
    }
}
