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

import com.google.common.collect.ImmutableList;
import com.google.common.collect.Lists;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
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
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.AbortMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.DeleteObjectRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.util.concurrent.Futures.immediateFailedFuture;
import static com.google.common.util.concurrent.Futures.immediateVoidFuture;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static io.airlift.concurrent.MoreFutures.asVoid;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static io.spoolex.storage.StorageErrors.storageError;
import static java.lang.Math.toIntExact;
import static java.util.Objects.requireNonNull;

/**
 * Spool files as objects in S3 or an S3-compatible store ({@code s3://}), or in GCS through its S3 interoperability
 * API ({@code gs://}). Everything goes through the SDK's asynchronous client; no thread of Spoolex's waits for S3.
 * <ul>
 * <li>A file that fits one write buffer is one PutObject; a larger one a multipart upload with one part per write,
 * parts uploaded concurrently ({@link S3MultipartWriter}).</li>
 * <li>Reads are ranged GETs into fresh heap arrays, each checking the object's size ({@link S3RangeReader}).</li>
 * <li>Deleting a directory lists it and removes its objects with DeleteObjects, up to 1,000 keys a request (GCS has
 * no such request: its JSON API's batch deletes through an {@link S3BulkDeleter}, or one DeleteObject per key), and aborts multipart uploads left under it by writers that
 * died, which S3 would otherwise keep (and bill) until a lifecycle rule removes them.</li>
 * <li>Deleting directories whose content is known (committed attempts) sends DeleteObjects for the named keys only,
 * batched across directories of a bucket: no listing.</li>
 * </ul>
 */
public class S3SpoolStorage
        implements SpoolStorage
{
    private static final Logger log = Logger.get(S3SpoolStorage.class);

    /**
     * Bytes per ranged GET: 4 MiB less 4 KiB, so that the array a read lands in stays below half of an 8 MiB G1
     * region, the region size of heaps from 16 GB. Half a region or more would make every read buffer a humongous
     * object, allocated outside the young generation and freed only by a concurrent cycle. (Trino's recommended
     * {@code -XX:G1HeapRegionSize=32M} leaves room for more, but the gain in request count is small.)
     */
    static final int READ_BUFFER_BYTES = 4 * 1024 * 1024 - 4 * 1024;
    /**
     * The most keys one DeleteObjects may name.
     */
    static final int DELETE_OBJECTS_MAX_KEYS = 1000;
    /**
     * Directories one deleteRecursively call works on at once, each with a listing and its deletes in flight.
     */
    private static final int DIRECTORY_PARALLELISM = 8;
    /**
     * Single-object deletes in flight per directory where there is no batch delete (GCS).
     */
    private static final int SINGLE_DELETE_PARALLELISM = 32;
    /**
     * DeleteObjects requests of one call in flight at once.
     */
    private static final int DELETE_BATCH_PARALLELISM = 8;
    private static final long CLOSE_WAIT_SECONDS = 10;

    private final S3Dialect dialect;
    private final S3StorageStats stats;
    private final S3ClientPool clients;
    private final S3Calls calls;
    private final S3WriteOptions writeOptions;
    private final int partBytes;
    private final Optional<S3BulkDeleter> bulkDeleter;

    private final DeletesInFlight deletesInFlight = new DeletesInFlight();

    @Inject
    public S3SpoolStorage(S3StorageConfig config, S3Dialect dialect, S3StorageStats stats, S3BulkDeletes bulkDeletes)
    {
        requireNonNull(config, "config is null");
        this.dialect = requireNonNull(dialect, "dialect is null");
        this.stats = requireNonNull(stats, "stats is null");
        requireNonNull(bulkDeletes, "bulkDeletes is null");
        this.clients = new S3ClientPool(config, dialect, stats);
        this.calls = new S3Calls(S3Calls.retryPolicy(config), stats);
        this.writeOptions = S3WriteOptions.from(config);
        this.partBytes = toIntExact(config.getUploadPartSize().toBytes());
        Optional<S3BulkDeleter> deleter;
        try {
            deleter = dialect == S3Dialect.GCS ? bulkDeletes.factory().flatMap(factory -> factory.create(config)) : Optional.empty();
        }
        catch (RuntimeException e) {
            clients.close();
            calls.close();
            throw e;
        }
        this.bulkDeleter = deleter;
        String deletes = switch (dialect) {
            case S3 -> "DeleteObjects";
            case GCS -> bulkDeleter.map(S3BulkDeleter::describe).orElse("one DeleteObject per object");
        };
        if (dialect == S3Dialect.S3 && (config.getGcsJsonKeyFilePath().isPresent() || config.getGcsJsonKey().isPresent())) {
            log.info("%s / %s are accepted for s3:// (as Trino does) but not used: they only matter for gs://", S3StorageConfig.GCS_JSON_KEY_FILE_PATH, S3StorageConfig.GCS_JSON_KEY);
        }
        log.info("Spool storage: %s, part size %s, deletes: %s, retries: %s", clients, config.getUploadPartSize(), deletes, calls.policy());
    }

    @Override
    public int readBufferSize()
    {
        return READ_BUFFER_BYTES;
    }

    @Override
    public ListenableFuture<Void> putFile(URI file, List<Slice> content)
    {
        S3Location location = S3Location.of(file);
        return withClient(location, client -> putObject(calls, stats, client, location, writeOptions, content));
    }

    /**
     * Makes requests with the bucket's client; once the storage is closed, the future fails saying so.
     */
    private <T> ListenableFuture<T> withClient(S3Location location, Function<S3AsyncClient, ListenableFuture<T>> requests)
    {
        S3AsyncClient client;
        try {
            client = clients.client(location.bucket());
        }
        catch (TrinoException e) {
            return immediateFailedFuture(e);
        }
        return requests.apply(client);
    }

    static ListenableFuture<Void> putObject(S3Calls calls, S3StorageStats stats, S3AsyncClient client, S3Location location, S3WriteOptions options, List<Slice> content)
    {
        ByteBuffer[] body = new ByteBuffer[content.size()];
        long bytes = 0;
        for (int i = 0; i < body.length; i++) {
            body[i] = content.get(i).toByteBuffer();
            bytes += body[i].remaining();
        }
        long objectBytes = bytes;
        PutObjectRequest request = options.apply(PutObjectRequest.builder())
                .bucket(location.bucket())
                .key(location.key())
                .contentLength(objectBytes)
                .build();
        return Futures.transform(
                calls.call(stats.getPutObject(), "write", location, _ -> client.putObject(request, requestBody(body))),
                _ -> {
                    stats.getUploadedBytes().update(objectBytes);
                    return null;
                },
                directExecutor());
    }

    /**
     * A request body over the buffers in place, for one attempt: each attempt reads them from the start.
     */
    static AsyncRequestBody requestBody(ByteBuffer[] buffers)
    {
        ByteBuffer[] duplicates = new ByteBuffer[buffers.length];
        for (int i = 0; i < buffers.length; i++) {
            duplicates[i] = buffers[i].duplicate();
        }
        return AsyncRequestBody.fromRemainingByteBuffersUnsafe(duplicates);
    }

    @Override
    public SpoolFileWriter createFile(URI file)
    {
        S3Location location = S3Location.of(file);
        return new S3MultipartWriter(calls, clients.client(location.bucket()), location, writeOptions, stats);
    }

    @Override
    public ListenableFuture<Slice> getFile(URI file)
    {
        S3Location location = S3Location.of(file);
        GetObjectRequest request = GetObjectRequest.builder().bucket(location.bucket()).key(location.key()).build();
        return Futures.transform(
                withClient(location, client -> calls.call(stats.getGetObject(), "read", location, _ -> client.getObject(request, AsyncResponseTransformer.toBytes()))),
                response -> {
                    byte[] bytes = response.asByteArrayUnsafe();
                    stats.getDownloadedBytes().update(bytes.length);
                    return Slices.wrappedBuffer(bytes);
                },
                directExecutor());
    }

    @Override
    public SpoolFileReader openFile(URI file, long expectedBytes)
    {
        S3Location location = S3Location.of(file);
        return new S3RangeReader(calls, clients.client(location.bucket()), location, expectedBytes, stats);
    }

    @Override
    public ListenableFuture<Void> deleteRecursively(List<URI> directories)
    {
        List<S3Location> locations;
        try {
            locations = directories.stream().map(S3Location::of).toList();
        }
        catch (IllegalArgumentException e) {
            return immediateFailedFuture(new TrinoException(SPOOL_STORAGE_ERROR, "Failed to delete %s: %s".formatted(directories, e.getMessage()), e));
        }
        ListenableFuture<Void> deleted = asVoid(AsyncSemaphore.processAll(locations, this::deleteDirectory, DIRECTORY_PARALLELISM, directExecutor()));
        return deletesInFlight.track(deleted);
    }

    private ListenableFuture<Void> deleteDirectory(S3Location directory)
    {
        String prefix = directory.directoryPrefix();
        if (prefix.isEmpty()) {
            // spool directories always lie below a base directory; an empty prefix would be the whole bucket
            return immediateFailedFuture(storageError("delete", directory.toUri(), new IllegalArgumentException("refusing to delete a whole bucket")));
        }
        return withClient(directory, client -> deleteDirectory(client, directory, prefix));
    }

    private ListenableFuture<Void> deleteDirectory(S3AsyncClient client, S3Location directory, String prefix)
    {
        List<ListenableFuture<Void>> work = new ArrayList<>();
        work.add(forEachObjectPage(client, directory, prefix, Optional.empty(), objects -> deleteKeys(client, directory, objects.stream().map(S3Object::key).toList()), new ArrayList<>()));
        work.add(abortUploads(client, directory, prefix));
        // both halves settle before the delete reports: a failed listing must not leave the other half running unseen
        return Futures.whenAllComplete(work).callAsync(() -> asVoid(Futures.allAsList(work)), directExecutor());
    }

    /**
     * Lists the prefix page by page (each page a request of its own, retried like any other), starting
     * {@code action} for each page's objects while the listing goes on; completes once the listing and every
     * action have.
     */
    private ListenableFuture<Void> forEachObjectPage(S3AsyncClient client, S3Location directory, String prefix, Optional<String> continuationToken, Function<List<S3Object>, ListenableFuture<Void>> action, List<ListenableFuture<Void>> actions)
    {
        ListObjectsV2Request.Builder builder = ListObjectsV2Request.builder().bucket(directory.bucket()).prefix(prefix);
        continuationToken.ifPresent(builder::continuationToken);
        ListObjectsV2Request request = builder.build();
        ListenableFuture<ListObjectsV2Response> page = calls.call(stats.getListObjects(), "list", directory, _ -> client.listObjectsV2(request));
        return afterPages(Futures.transformAsync(page, response -> {
            if (!response.contents().isEmpty()) {
                actions.add(action.apply(response.contents()));
            }
            if (Boolean.TRUE.equals(response.isTruncated()) && response.nextContinuationToken() != null) {
                return forEachObjectPage(client, directory, prefix, Optional.of(response.nextContinuationToken()), action, actions);
            }
            return immediateVoidFuture();
        }, directExecutor()), actions);
    }

    /**
     * Deletes the known files by key with DeleteObjects (1,000 keys a request, across directories of the same
     * bucket), and only the unlisted directories by listing them: no ListObjectsV2 or ListMultipartUploads for a
     * directory whose content is known (a committed attempt has no upload left open).
     */
    @Override
    public ListenableFuture<Void> deleteDirectories(List<SpoolDirectoryContents> directories)
    {
        Map<String, List<String>> keysByBucket = new LinkedHashMap<>();
        Map<String, S3Location> bucketLocations = new LinkedHashMap<>();
        List<URI> unlisted = new ArrayList<>();
        try {
            for (SpoolDirectoryContents directory : directories) {
                S3Location location = S3Location.of(directory.directory());
                if (location.directoryPrefix().isEmpty()) {
                    return immediateFailedFuture(storageError("delete", directory.directory(), new IllegalArgumentException("refusing to delete a whole bucket")));
                }
                bucketLocations.putIfAbsent(location.bucket(), location);
                for (URI file : directory.files()) {
                    S3Location object = S3Location.of(file);
                    checkArgument(object.bucket().equals(location.bucket()), "%s is not in the bucket of %s", file, directory.directory());
                    keysByBucket.computeIfAbsent(location.bucket(), _ -> new ArrayList<>()).add(object.key());
                }
                unlisted.addAll(directory.unlistedDirectories());
            }
        }
        catch (IllegalArgumentException e) {
            return immediateFailedFuture(new TrinoException(SPOOL_STORAGE_ERROR, "Failed to delete %s: %s".formatted(directories.stream().map(SpoolDirectoryContents::directory).toList(), e.getMessage()), e));
        }
        List<ListenableFuture<Void>> work = new ArrayList<>();
        keysByBucket.forEach((bucket, keys) -> {
            S3Location location = bucketLocations.get(bucket);
            work.add(withClient(location, client -> deleteKeys(client, location, keys)));
        });
        if (!unlisted.isEmpty()) {
            work.add(deleteRecursively(unlisted));
        }
        ListenableFuture<Void> deleted = Futures.whenAllComplete(work).callAsync(() -> asVoid(Futures.allAsList(work)), directExecutor());
        return deletesInFlight.track(deleted);
    }

    /**
     * Completes when the listing and the actions it started have settled, failing with the first failure.
     */
    private static ListenableFuture<Void> afterPages(ListenableFuture<Void> listing, List<ListenableFuture<Void>> actions)
    {
        return Futures.whenAllComplete(listing).callAsync(() -> {
            List<ListenableFuture<Void>> all = new ArrayList<>(actions);
            all.add(listing);
            return Futures.whenAllComplete(all).callAsync(() -> asVoid(Futures.allAsList(all)), directExecutor());
        }, directExecutor());
    }

    private ListenableFuture<Void> deleteKeys(S3AsyncClient client, S3Location directory, List<String> keys)
    {
        if (dialect == S3Dialect.GCS) {
            // GCS's XML API has no multi-object delete: its JSON API's batches, or one request per object
            if (bulkDeleter.isPresent()) {
                return Futures.transform(bulkDeleter.orElseThrow().deleteObjects(directory.toUri(), directory.bucket(), keys), _ -> {
                    stats.getDeletedObjects().update(keys.size());
                    return null;
                }, directExecutor());
            }
            return asVoid(AsyncSemaphore.processAll(keys, key -> deleteObject(client, directory.withKey(key)), SINGLE_DELETE_PARALLELISM, directExecutor()));
        }
        return asVoid(AsyncSemaphore.processAll(Lists.partition(keys, DELETE_OBJECTS_MAX_KEYS), batch -> {
            DeleteObjectsRequest request = DeleteObjectsRequest.builder()
                    .bucket(directory.bucket())
                    .delete(delete -> delete
                            .quiet(true)
                            .objects(batch.stream().map(key -> ObjectIdentifier.builder().key(key).build()).toList()))
                    .build();
            return Futures.transformAsync(calls.call(stats.getDeleteObjects(), "delete", directory, _ -> client.deleteObjects(request)), response -> {
                // DeleteObjects succeeds as a request even when single keys fail; those come back as errors
                for (S3Error error : response.errors()) {
                    if (!"NoSuchKey".equals(error.code())) {
                        return immediateFailedFuture(new TrinoException(SPOOL_STORAGE_ERROR, "Failed to delete %s: %s (%s)"
                                .formatted(directory.withKey(error.key()), error.message(), error.code())));
                    }
                }
                stats.getDeletedObjects().update(batch.size());
                return immediateVoidFuture();
            }, directExecutor());
        }, DELETE_BATCH_PARALLELISM, directExecutor()));
    }

    private ListenableFuture<Void> deleteObject(S3AsyncClient client, S3Location object)
    {
        DeleteObjectRequest request = DeleteObjectRequest.builder().bucket(object.bucket()).key(object.key()).build();
        ListenableFuture<Void> deleted = Futures.transform(calls.call(stats.getDeleteObject(), "delete", object, _ -> client.deleteObject(request)), _ -> {
            stats.getDeletedObjects().update(1);
            return null;
        }, directExecutor());
        // GCS answers 404 for a key that is already gone; S3 answers 204
        return Futures.catchingAsync(deleted, TrinoException.class, failure -> S3Failures.isNoSuchKey(failure.getCause())
                ? immediateVoidFuture()
                : immediateFailedFuture(failure), directExecutor());
    }

    /**
     * Aborts the multipart uploads under the prefix: files of writers that died before they finished or aborted.
     */
    private ListenableFuture<Void> abortUploads(S3AsyncClient client, S3Location directory, String prefix)
    {
        return forEachUploadPage(client, directory, prefix, Optional.empty(), Optional.empty(), new ArrayList<>());
    }

    private ListenableFuture<Void> forEachUploadPage(S3AsyncClient client, S3Location directory, String prefix, Optional<String> keyMarker, Optional<String> uploadIdMarker, List<ListenableFuture<Void>> aborts)
    {
        ListMultipartUploadsRequest.Builder builder = ListMultipartUploadsRequest.builder().bucket(directory.bucket()).prefix(prefix);
        keyMarker.ifPresent(builder::keyMarker);
        uploadIdMarker.ifPresent(builder::uploadIdMarker);
        ListMultipartUploadsRequest request = builder.build();
        ListenableFuture<ListMultipartUploadsResponse> page = calls.call(stats.getListMultipartUploads(), "list the uploads of", directory, _ -> client.listMultipartUploads(request));
        return afterPages(Futures.transformAsync(page, response -> {
            for (MultipartUpload upload : response.uploads()) {
                aborts.add(abortUpload(client, directory.withKey(upload.key()), upload.uploadId()));
            }
            if (Boolean.TRUE.equals(response.isTruncated()) && (response.nextKeyMarker() != null || response.nextUploadIdMarker() != null)) {
                return forEachUploadPage(client, directory, prefix, Optional.ofNullable(response.nextKeyMarker()), Optional.ofNullable(response.nextUploadIdMarker()), aborts);
            }
            return immediateVoidFuture();
        }, directExecutor()), aborts);
    }

    private ListenableFuture<Void> abortUpload(S3AsyncClient client, S3Location object, String uploadId)
    {
        AbortMultipartUploadRequest abort = AbortMultipartUploadRequest.builder()
                .bucket(object.bucket())
                .key(object.key())
                .uploadId(uploadId)
                .build();
        ListenableFuture<Void> aborted = Futures.transform(calls.call(stats.getAbortMultipartUpload(), "abort the upload of", object, _ -> client.abortMultipartUpload(abort)), _ -> {
            stats.getAbortedUploadsFoundByCleanup().update(1);
            return null;
        }, directExecutor());
        return Futures.catchingAsync(aborted, TrinoException.class, failure -> S3Failures.hasErrorCode(failure.getCause(), "NoSuchUpload")
                ? immediateVoidFuture()
                : immediateFailedFuture(failure), directExecutor());
    }

    @Override
    public ListenableFuture<List<SpoolFileStatus>> listFiles(URI directory)
    {
        S3Location location = S3Location.of(directory);
        List<SpoolFileStatus> files = new ArrayList<>();
        ListenableFuture<Void> listed = withClient(location, client -> forEachObjectPage(client, location, location.directoryPrefix(), Optional.empty(), objects -> {
            synchronized (files) {
                for (S3Object object : objects) {
                    files.add(new SpoolFileStatus(location.withKey(object.key()).toUri(), object.size(), Optional.ofNullable(object.lastModified())));
                }
            }
            return immediateVoidFuture();
        }, new ArrayList<>()));
        return Futures.transform(listed, _ -> {
            synchronized (files) {
                return ImmutableList.copyOf(files);
            }
        }, directExecutor());
    }

    @Override
    public ListenableFuture<List<SpoolDirectoryStatus>> listDirectories(URI baseDirectory)
    {
        S3Location location = S3Location.of(baseDirectory);
        List<SpoolDirectoryStatus> directories = new ArrayList<>();
        ListenableFuture<Void> listed = withClient(location, client -> forEachPrefixPage(client, location, Optional.empty(), directories));
        return Futures.transform(listed, _ -> ImmutableList.copyOf(directories), directExecutor());
    }

    /**
     * One level of a listing with the delimiter '/': the common prefixes are the directories, page by page.
     */
    private ListenableFuture<Void> forEachPrefixPage(S3AsyncClient client, S3Location directory, Optional<String> continuationToken, List<SpoolDirectoryStatus> directories)
    {
        ListObjectsV2Request.Builder builder = ListObjectsV2Request.builder()
                .bucket(directory.bucket())
                .prefix(directory.directoryPrefix())
                .delimiter("/");
        continuationToken.ifPresent(builder::continuationToken);
        ListObjectsV2Request request = builder.build();
        ListenableFuture<ListObjectsV2Response> page = calls.call(stats.getListObjects(), "list", directory, _ -> client.listObjectsV2(request));
        return Futures.transformAsync(page, response -> {
            for (CommonPrefix prefix : response.commonPrefixes()) {
                directories.add(new SpoolDirectoryStatus(directory.withKey(prefix.prefix()).toUri(), Optional.empty()));
            }
            if (Boolean.TRUE.equals(response.isTruncated()) && response.nextContinuationToken() != null) {
                return forEachPrefixPage(client, directory, Optional.of(response.nextContinuationToken()), directories);
            }
            return immediateVoidFuture();
        }, directExecutor());
    }

    @Override
    public String diagnose(StorageOperation operation, URI location, Throwable failure)
    {
        Throwable cause = S3Failures.unwrap(failure);
        while (cause instanceof TrinoException && cause.getCause() != null) {
            cause = S3Failures.unwrap(cause.getCause());
        }
        String where;
        try {
            S3Location object = S3Location.of(location);
            where = "arn:aws:s3:::%s/%s*".formatted(object.bucket(), object.directoryPrefix());
        }
        catch (IllegalArgumentException e) {
            where = location.toString();
        }
        if (cause instanceof AwsServiceException service) {
            String code = service.awsErrorDetails() == null || service.awsErrorDetails().errorCode() == null ? "HTTP " + service.statusCode() : service.awsErrorDetails().errorCode();
            String error = "%s (HTTP %s)".formatted(code, service.statusCode());
            String hint = switch (code) {
                case "AccessDenied", "AllAccessDisabled", "HTTP 403" -> "the credentials probably lack %s on %s".formatted(switch (operation) {
                    case WRITE -> "s3:PutObject (and s3:AbortMultipartUpload)";
                    case READ -> "s3:GetObject";
                    case DELETE -> "s3:DeleteObject";
                    case LIST -> "s3:ListBucket (and s3:ListBucketMultipartUploads)";
                }, where);
                case "NoSuchBucket" -> "the bucket does not exist: create it, or correct exchange.base-directories";
                case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken" -> "the credentials are not accepted: check exchange.s3.aws-access-key and exchange.s3.aws-secret-key, or the credentials the default chain finds";
                case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException" -> "the bucket is in another region than exchange.s3.region says";
                case "KMS.DisabledException", "KMS.NotFoundException", "KMS.KMSInvalidStateException", "KMS.AccessDeniedException" -> "the KMS key of exchange.s3.sse.kms-key-id is missing, disabled or not usable with these credentials (kms:GenerateDataKey, kms:Decrypt)";
                default -> service.awsErrorDetails() == null ? "" : service.awsErrorDetails().errorMessage();
            };
            return "S3 " + error + (hint == null || hint.isEmpty() ? "" : ": " + hint);
        }
        if (cause instanceof SdkClientException client) {
            return "S3 unreachable (%s): check exchange.s3.endpoint and the network".formatted(client.getMessage());
        }
        return SpoolStorage.super.diagnose(operation, location, failure);
    }

    @Override
    public void close()
    {
        // let deletes of closed exchanges finish (closing the clients would abort them), but not for long
        deletesInFlight.awaitAtClose(Duration.ofSeconds(CLOSE_WAIT_SECONDS));
        // the clients first: what they still answer is answered; then every request they never will answer (one
        // issued while or after the clients and their event loops shut down may never complete) fails as closed
        clients.close();
        calls.close();
        bulkDeleter.ifPresent(S3BulkDeleter::close);
    }

    @Override
    public String toString()
    {
        return "S3SpoolStorage{%s, partBytes=%s}".formatted(clients, partBytes);
    }
}
