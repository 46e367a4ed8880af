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
package io.spoolex.storage.azure;

import com.azure.core.http.rest.PagedResponse;
import com.azure.core.http.rest.Response;
import com.azure.storage.blob.batch.BlobBatch;
import com.azure.storage.blob.batch.BlobBatchAsyncClient;
import com.azure.storage.blob.models.BlobItem;
import com.azure.storage.blob.models.BlobStorageException;
import com.azure.storage.blob.models.DeleteSnapshotsOptionType;
import com.azure.storage.blob.models.ListBlobsOptions;
import com.azure.storage.blob.specialized.BlobAsyncClientBase;
import com.azure.storage.blob.specialized.BlockBlobAsyncClient;
import com.azure.storage.file.datalake.DataLakeDirectoryAsyncClient;
import com.azure.storage.file.datalake.models.ListPathsOptions;
import com.azure.storage.file.datalake.options.DataLakePathDeleteOptions;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.Lists;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import com.google.inject.Inject;
import io.airlift.concurrent.AsyncSemaphore;
import io.airlift.log.Logger;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.storage.DeletesInFlight;
import io.spoolex.storage.SpoolDirectoryContents;
import io.spoolex.storage.SpoolDirectoryStatus;
import io.spoolex.storage.SpoolFileReader;
import io.spoolex.storage.SpoolFileStatus;
import io.spoolex.storage.SpoolFileWriter;
import io.spoolex.storage.SpoolStorage;
import io.trino.spi.TrinoException;
import reactor.core.publisher.Mono;

import java.net.URI;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static com.google.common.collect.ImmutableList.toImmutableList;
import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.MoreFutures.asVoid;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static io.spoolex.storage.StorageErrors.storageError;
import static java.lang.Math.toIntExact;
import static java.util.Objects.requireNonNull;

/**
 * Spool storage on Azure Blob Storage, flat or with a hierarchical namespace (ADLS Gen2), through the Blob API for
 * data and the DFS API for directories of a hierarchical namespace:
 * <ul>
 * <li>a whole file is one Put Blob; a streamed file is staged blocks, committed once by {@code finish()};
 * <li>reads are ranged Get Blob requests into the caller's buffers;
 * <li>a directory is deleted, on a flat account, by listing its prefix and deleting with blob batches of at most 256
 * blobs; on a hierarchical one, by one recursive delete of the directory (no empty directories stay behind).
 * </ul>
 */
public class AzureSpoolStorage
        implements SpoolStorage
{
    private static final Logger log = Logger.get(AzureSpoolStorage.class);

    /**
     * Bytes per ranged read: 4 MiB less 4 KiB, so that a read buffer stays below half of an 8 MiB G1 region (the
     * region size of heaps from 16 GB) and is never a humongous object.
     */
    static final int READ_BUFFER_BYTES = 4 * 1024 * 1024 - 4 * 1024;
    /**
     * The most sub-requests one blob batch may carry.
     */
    static final int BATCH_MAX_BLOBS = 256;
    /**
     * Directories one deleteRecursively call works on at once.
     */
    private static final int DIRECTORY_PARALLELISM = 8;
    /**
     * Blob batches in flight per directory.
     */
    private static final int BATCH_PARALLELISM = 4;
    private static final long CLOSE_WAIT_SECONDS = 10;

    private final AzureClients clients;
    private final AzureCalls calls;
    private final AzureStorageStats stats;
    private final AzureNamespace namespace;
    private final int blockBytes;

    private final DeletesInFlight deletesInFlight = new DeletesInFlight();
    // directory deletes in flight, by container and prefix
    @GuardedBy("this")
    private final Map<ListenableFuture<Void>, String> directoryDeletes = new IdentityHashMap<>();

    @Inject
    public AzureSpoolStorage(AzureStorageConfig config, AzureBaseDirectories baseDirectories, AzureStorageStats stats)
    {
        requireNonNull(config, "config is null");
        requireNonNull(baseDirectories, "baseDirectories is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.blockBytes = toIntExact(config.getBlockSize().toBytes());
        this.clients = new AzureClients(config, stats);
        this.calls = clients.calls();
        try {
            this.namespace = AzureNamespace.detect(clients, baseDirectories.locations());
        }
        catch (RuntimeException e) {
            clients.close();
            throw e;
        }
        String account = clients.accountName();
        for (AzureLocation directory : baseDirectories.locations()) {
            if (account != null && !directory.accountInUri().equals(account.toLowerCase(Locale.ENGLISH))) {
                // as in Trino, the URI's account does not route requests; a different one is likely a mistake
                log.warn("Base directory %s names account %s, but spool data goes to account %s, the one of %s",
                        directory,
                        directory.accountInUri(),
                        account,
                        config.getConnectionString().isPresent() ? AzureStorageConfig.CONNECTION_STRING : AzureStorageConfig.ENDPOINT);
            }
        }
        log.info("Spool storage: %s, %s namespace, block size %s", clients, namespace == AzureNamespace.HIERARCHICAL ? "hierarchical" : "flat", config.getBlockSize());
    }

    AzureNamespace namespace()
    {
        return namespace;
    }

    @Override
    public int readBufferSize()
    {
        return READ_BUFFER_BYTES;
    }

    @Override
    public ListenableFuture<Void> putFile(URI file, List<Slice> content)
    {
        AzureLocation location = AzureLocation.of(file);
        return AzureBlockWriter.upload(blockBlob(location), location, stats, calls, content);
    }

    @Override
    public SpoolFileWriter createFile(URI file)
    {
        AzureLocation location = AzureLocation.of(file);
        return new AzureBlockWriter(blockBlob(location), location, stats, calls);
    }

    @Override
    public ListenableFuture<Slice> getFile(URI file)
    {
        AzureLocation location = AzureLocation.of(file);
        return Futures.transform(
                calls.call("read", location, () -> clients.container(location.container()).getBlobAsyncClient(location.path()).downloadContentWithResponse(null, null)),
                response -> {
                    byte[] bytes = response.getValue().toBytes();
                    stats.getDownloadedBytes().update(bytes.length);
                    return Slices.wrappedBuffer(bytes);
                },
                directExecutor());
    }

    @Override
    public SpoolFileReader openFile(URI file, long expectedBytes)
    {
        AzureLocation location = AzureLocation.of(file);
        return new AzureRangeReader(clients.container(location.container()).getBlobAsyncClient(location.path()), location, expectedBytes, stats, calls);
    }

    @Override
    public ListenableFuture<Void> deleteRecursively(List<URI> directories)
    {
        List<AzureLocation> locations;
        try {
            locations = directories.stream().map(AzureLocation::of).toList();
        }
        catch (IllegalArgumentException e) {
            return immediateFailedFuture(new TrinoException(SPOOL_STORAGE_ERROR, "Failed to delete %s: %s".formatted(directories, e.getMessage()), e));
        }
        ListenableFuture<Void> deleted = asVoid(AsyncSemaphore.processAll(locations, this::deleteDirectory, DIRECTORY_PARALLELISM, directExecutor()));
        return deletesInFlight.track(deleted);
    }

    /**
     * Deletes the directory once the deletes in flight of the same, an enclosing or an enclosed directory are done
     * (an exchange's close and its sinks' aborts do overlap): deleting the same blobs at once would only make some of
     * the requests fail as "not found" (which the batch client logs as errors, one line per blob), while the later
     * delete now finds only what was written since.
     */
    @SuppressWarnings("CollectionUndefinedEquality") // an identity map: a delete is removed as the same object
    private ListenableFuture<Void> deleteDirectory(AzureLocation directory)
    {
        if (directory.directoryPrefix().isEmpty()) {
            // spool directories always lie below a base directory; an empty path would be the whole container
            return immediateFailedFuture(storageError("delete", directory.toUri(), new IllegalArgumentException("refusing to delete a whole container")));
        }
        String key = directory.container() + "/" + directory.directoryPrefix();
        SettableFuture<Void> deleted = SettableFuture.create();
        List<ListenableFuture<Void>> overlapping;
        synchronized (this) {
            overlapping = directoryDeletes.entrySet().stream()
                    .filter(entry -> entry.getValue().startsWith(key) || key.startsWith(entry.getValue()))
                    .map(Map.Entry::getKey)
                    .collect(toImmutableList());
            directoryDeletes.put(deleted, key);
        }
        deleted.addListener(() -> {
            synchronized (this) {
                directoryDeletes.remove(deleted);
            }
        }, directExecutor());
        deleted.setFuture(Futures.whenAllComplete(overlapping).callAsync(() -> deleteNow(directory), directExecutor()));
        return deleted;
    }

    private ListenableFuture<Void> deleteNow(AzureLocation directory)
    {
        return switch (namespace) {
            case FLAT -> calls.call("delete", directory, () -> deleteByPrefix(directory));
            case HIERARCHICAL -> deleteHierarchicalDirectory(directory);
        };
    }

    /**
     * Lists the prefix page by page and deletes each page's blobs in batches while the listing goes on.
     */
    private Mono<Void> deleteByPrefix(AzureLocation directory)
    {
        return clients.container(directory.container())
                .listBlobs(new ListBlobsOptions().setPrefix(directory.directoryPrefix()))
                .byPage()
                .concatMapIterable(page -> Lists.partition(names(page), BATCH_MAX_BLOBS))
                .flatMap(batch -> deleteBatch(directory, batch), BATCH_PARALLELISM)
                .then();
    }

    private static List<String> names(PagedResponse<BlobItem> page)
    {
        return page.getValue().stream().map(BlobItem::getName).toList();
    }

    private Mono<Void> deleteBatch(AzureLocation directory, List<String> names)
    {
        return deleteBatch(directory, new PendingDeletes(names));
    }

    /**
     * The blobs of a batch delete not yet deleted: a retry of the batch sends only these (the SDK logs every blob
     * answered 404 as an error, so resending the deleted ones would log a line per blob).
     */
    private static final class PendingDeletes
    {
        @GuardedBy("this")
        private final Set<String> names;

        PendingDeletes(List<String> names)
        {
            this.names = new LinkedHashSet<>(names);
        }

        synchronized List<String> names()
        {
            return ImmutableList.copyOf(names);
        }

        synchronized void done(String name)
        {
            names.remove(name);
        }
    }

    private Mono<Void> deleteBatch(AzureLocation directory, PendingDeletes pending)
    {
        return Mono.defer(() -> {
            List<String> names = pending.names();
            if (names.isEmpty()) {
                return Mono.empty();
            }
            BlobBatchAsyncClient batchClient = clients.batch();
            BlobBatch batch = batchClient.getBlobBatch();
            List<Response<Void>> responses = new ArrayList<>(names.size());
            for (String name : names) {
                responses.add(batch.deleteBlob(clients.container(directory.container()).getBlobAsyncClient(name).getBlobUrl(), DeleteSnapshotsOptionType.INCLUDE, null));
            }
            // each blob's answer is looked at on its own: one that is already gone is deleted all the same
            return batchClient.submitBatchWithResponse(batch, false).then(Mono.defer(() -> {
                int deleted = 0;
                BlobStorageException refused = null;
                for (int i = 0; i < responses.size(); i++) {
                    try {
                        responses.get(i).getStatusCode();
                        deleted++;
                        pending.done(names.get(i));
                    }
                    catch (BlobStorageException e) {
                        if (AzureFailures.isMissing(e)) {
                            pending.done(names.get(i));
                        }
                        else if (refused == null) {
                            // Azure's own answer for the blob (throttled, say), for the retry to judge: the next
                            // attempt deletes what is still there
                            refused = e;
                        }
                    }
                }
                stats.getDeletedBlobs().update(deleted);
                return refused == null ? Mono.empty() : Mono.error(refused);
            }));
        });
    }

    /**
     * One recursive Path - Delete of the directory (the SDK follows the continuations a large directory needs).
     */
    private ListenableFuture<Void> deleteHierarchicalDirectory(AzureLocation directory)
    {
        DataLakeDirectoryAsyncClient client = clients.fileSystem(directory.container()).getDirectoryAsyncClient(directory.directoryPath());
        ListenableFuture<Void> deleted = calls.call("delete", directory, () -> client.deleteIfExistsWithResponse(new DataLakePathDeleteOptions().setIsRecursive(true))
                .doOnNext(response -> {
                    if (Boolean.TRUE.equals(response.getValue())) {
                        stats.getDeletedDirectories().update(1);
                    }
                })
                .then());
        // a delete of the same or an enclosing directory that runs at the same time may make this one fail (409):
        // what is gone is deleted all the same
        return Futures.catchingAsync(deleted, TrinoException.class, failure -> Futures.transformAsync(
                calls.call("delete", directory, client::exists),
                exists -> Boolean.TRUE.equals(exists) ? immediateFailedFuture(failure) : Futures.immediateVoidFuture(),
                directExecutor()), directExecutor());
    }

    @Override
    public ListenableFuture<List<SpoolFileStatus>> listFiles(URI directory)
    {
        AzureLocation location = AzureLocation.of(directory);
        return switch (namespace) {
            case FLAT -> calls.call("list", location, () -> clients.container(location.container())
                    .listBlobs(new ListBlobsOptions().setPrefix(location.directoryPrefix()))
                    .map(blob -> new SpoolFileStatus(location.withPath(blob.getName()).toUri(), blob.getProperties().getContentLength(), Optional.ofNullable(blob.getProperties().getLastModified()).map(OffsetDateTime::toInstant)))
                    .collect(toImmutableList()));
            case HIERARCHICAL -> Futures.catchingAsync(
                    calls.call("list", location, () -> clients.fileSystem(location.container())
                            .listPaths(new ListPathsOptions().setPath(location.directoryPath().isEmpty() ? null : location.directoryPath()).setRecursive(true))
                            .filter(path -> !path.isDirectory())
                            .map(path -> new SpoolFileStatus(location.withPath(path.getName()).toUri(), path.getContentLength(), Optional.ofNullable(path.getLastModified()).map(OffsetDateTime::toInstant)))
                            .collect(toImmutableList())),
                    TrinoException.class,
                    // a directory that does not exist has no files
                    failure -> AzureFailures.isMissing(failure.getCause()) ? Futures.immediateFuture(ImmutableList.of()) : immediateFailedFuture(failure),
                    directExecutor());
        };
    }

    /**
     * On a flat account, deletes the known blobs by name in blob batches (across directories of the same container)
     * and lists only the unlisted directories; on a hierarchical one, a recursive delete per directory needs no
     * listing anyway.
     */
    @Override
    public ListenableFuture<Void> deleteDirectories(List<SpoolDirectoryContents> directories)
    {
        if (namespace == AzureNamespace.HIERARCHICAL) {
            return SpoolStorage.super.deleteDirectories(directories);
        }
        Map<String, List<String>> namesByContainer = new LinkedHashMap<>();
        Map<String, AzureLocation> containerLocations = new LinkedHashMap<>();
        List<URI> unlisted = new ArrayList<>();
        try {
            for (SpoolDirectoryContents directory : directories) {
                AzureLocation location = AzureLocation.of(directory.directory());
                if (location.directoryPrefix().isEmpty()) {
                    return immediateFailedFuture(storageError("delete", directory.directory(), new IllegalArgumentException("refusing to delete a whole container")));
                }
                containerLocations.putIfAbsent(location.container(), location);
                for (URI file : directory.files()) {
                    namesByContainer.computeIfAbsent(location.container(), _ -> new ArrayList<>()).add(AzureLocation.of(file).path());
                }
                unlisted.addAll(directory.unlistedDirectories());
            }
        }
        catch (IllegalArgumentException e) {
            return immediateFailedFuture(new TrinoException(SPOOL_STORAGE_ERROR, "Failed to delete %s: %s".formatted(directories.stream().map(SpoolDirectoryContents::directory).toList(), e.getMessage()), e));
        }
        List<ListenableFuture<Void>> work = new ArrayList<>();
        namesByContainer.forEach((container, names) -> {
            AzureLocation location = containerLocations.get(container);
            // each batch retried on its own: a batch of which Azure refused some blobs is sent again, and the blobs
            // it deleted the first time count as deleted (gone) the second
            work.add(asVoid(AsyncSemaphore.processAll(
                    Lists.partition(names, BATCH_MAX_BLOBS),
                    batch -> {
                        PendingDeletes pending = new PendingDeletes(batch);
                        return calls.call("delete", location, () -> deleteBatch(location, pending));
                    },
                    BATCH_PARALLELISM,
                    directExecutor())));
        });
        if (!unlisted.isEmpty()) {
            work.add(deleteRecursively(unlisted));
        }
        ListenableFuture<Void> deleted = Futures.whenAllComplete(work).callAsync(() -> asVoid(Futures.allAsList(work)), directExecutor());
        return deletesInFlight.track(deleted);
    }

    @Override
    public ListenableFuture<List<SpoolDirectoryStatus>> listDirectories(URI baseDirectory)
    {
        AzureLocation location = AzureLocation.of(baseDirectory);
        return switch (namespace) {
            case FLAT -> calls.call("list", location, () -> clients.container(location.container())
                    .listBlobsByHierarchy("/", new ListBlobsOptions().setPrefix(location.directoryPrefix()))
                    .filter(item -> Boolean.TRUE.equals(item.isPrefix()))
                    .map(item -> new SpoolDirectoryStatus(location.withPath(item.getName()).toUri(), Optional.empty()))
                    .collect(toImmutableList()));
            case HIERARCHICAL -> Futures.catchingAsync(
                    calls.call("list", location, () -> clients.fileSystem(location.container())
                            .listPaths(new ListPathsOptions().setPath(location.directoryPath().isEmpty() ? null : location.directoryPath()).setRecursive(false))
                            .filter(path -> path.isDirectory())
                            .map(path -> new SpoolDirectoryStatus(location.withPath(path.getName() + "/").toUri(), Optional.ofNullable(path.getLastModified()).map(OffsetDateTime::toInstant)))
                            .collect(toImmutableList())),
                    TrinoException.class,
                    // a base directory that does not exist has nothing in it
                    failure -> AzureFailures.isMissing(failure.getCause()) ? Futures.immediateFuture(ImmutableList.of()) : immediateFailedFuture(failure),
                    directExecutor());
        };
    }

    private BlockBlobAsyncClient blockBlob(AzureLocation location)
    {
        return clients.container(location.container()).getBlobAsyncClient(location.path()).getBlockBlobAsyncClient();
    }

    static ListenableFuture<Void> deleteBlob(BlobAsyncClientBase client, AzureLocation location, AzureStorageStats stats, AzureCalls calls)
    {
        return Futures.transform(
                calls.call("discard", location, () -> client.deleteIfExistsWithResponse(DeleteSnapshotsOptionType.INCLUDE, null)),
                response -> {
                    if (Boolean.TRUE.equals(response.getValue())) {
                        stats.getDeletedBlobs().update(1);
                    }
                    return null;
                },
                directExecutor());
    }

    @Override
    public void close()
    {
        // let deletes of closed exchanges finish (closing the clients would abort them), but not for long
        deletesInFlight.awaitAtClose(Duration.ofSeconds(CLOSE_WAIT_SECONDS));
        clients.close();
    }

    @Override
    public String diagnose(StorageOperation operation, URI location, Throwable failure)
    {
        AzureLocation azureLocation;
        try {
            azureLocation = AzureLocation.of(location);
        }
        catch (IllegalArgumentException e) {
            azureLocation = null;
        }
        return AzureFailures.diagnose(operation, azureLocation, failure);
    }

    @Override
    public String toString()
    {
        return "AzureSpoolStorage{%s, namespace=%s, blockBytes=%s}".formatted(clients, namespace, blockBytes);
    }
}
