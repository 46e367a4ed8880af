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
package io.spoolex.benchmarks;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.models.BlobItem;
import com.google.common.collect.ImmutableMap;
import com.google.common.io.MoreFiles;
import io.spoolex.storage.azure.AzuriteServer;
import io.spoolex.storage.hdfs.HdfsMiniCluster;
import io.spoolex.storage.s3.S3ProxyServer;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.RemoteIterator;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.stream.Stream;

import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

/**
 * The storage an SPI benchmark spools to, started on 127.0.0.1 by the benchmark itself: the two base directories
 * both plugins are given the same properties for, what is stored, and the storage's own baseline (the same bytes
 * written and read with the storage's plain client, no exchange on top).
 */
abstract sealed class BenchmarkStorage
        implements AutoCloseable
        permits BenchmarkStorage.Azure,
                BenchmarkStorage.Hdfs,
                BenchmarkStorage.Local,
                BenchmarkStorage.S3
{
    private static final int IO_BYTES = 1024 * 1024;
    private static final String[] SPOOL = {"bench-one", "bench-two"};
    private static final String BASELINE = "bench-baseline";

    static BenchmarkStorage start(String name, Path workDirectory)
    {
        return switch (name) {
            case "local" -> new Local(workDirectory);
            case "s3" -> new S3();
            case "azure" -> new Azure();
            case "hdfs" -> new Hdfs();
            default -> throw new IllegalArgumentException("--storage must be local, s3, azure or hdfs: " + name);
        };
    }

    /**
     * Base directories and storage properties, the same for Spoolex and for Trino's plugin (Spoolex accepts Trino's).
     */
    abstract Map<String, String> spoolProperties();

    /**
     * The exchange manager factory name both plugins register for this storage.
     */
    String factoryName()
    {
        return "filesystem";
    }

    /**
     * Bytes stored in the spool and baseline locations.
     */
    abstract long storedBytes()
            throws IOException;

    abstract void clear()
            throws IOException;

    /**
     * CPU time of the storage server's process, when it runs in one of its own (zero when it runs in this JVM, whose
     * CPU time then includes it, or when it is the kernel).
     */
    Duration storeCpuTime()
    {
        return Duration.ZERO;
    }

    /**
     * What the baseline of the storage named {@code storage} does (also where no storage was started, as in the
     * process that only collects the forked measurements).
     */
    static String baselineDescription(String storage)
    {
        return switch (storage) {
            case "local" -> "FileChannel write/read, K threads, one file each";
            case "s3" -> "PutObject/GetObject of 5 MB objects, 4K in flight, async client";
            case "azure" -> "blob upload/download of 4 MB blobs, 4K threads, the SDK's default client";
            case "hdfs" -> "FileSystem create/open, 1 MB writes and reads, K threads, one file each";
            default -> throw new IllegalArgumentException(storage);
        };
    }

    /**
     * The baseline's write: {@code dataBytes} of {@code content} (cycled) written by {@code threads} threads.
     */
    abstract void writeBaseline(byte[] content, long dataBytes, int threads)
            throws Exception;

    /**
     * The baseline's read of everything {@link #writeBaseline} wrote.
     */
    abstract void readBaseline(int threads)
            throws Exception;

    /**
     * Trino's sink memory pool with its defaults on this storage: max(partitions x 2, 10) buffers of its write size.
     */
    abstract long trinoSinkPool(int partitions);

    @Override
    public void close() {}

    static final class Local
            extends BenchmarkStorage
    {
        private final Path directory;
        private long share;
        private int files;

        Local(Path directory)
        {
            this.directory = directory;
        }

        @Override
        Map<String, String> spoolProperties()
        {
            return Map.of("exchange.base-directories", directory.resolve(SPOOL[0]) + "," + directory.resolve(SPOOL[1]));
        }

        @Override
        long storedBytes()
                throws IOException
        {
            if (!Files.exists(directory)) {
                return 0;
            }
            try (Stream<Path> walk = Files.walk(directory)) {
                return walk.filter(Files::isRegularFile).mapToLong(file -> {
                    try {
                        return Files.size(file);
                    }
                    catch (IOException e) {
                        // deleted while walking
                        return 0;
                    }
                }).sum();
            }
            catch (UncheckedIOException e) {
                // a directory vanished while walking: count again
                return storedBytes();
            }
        }

        @Override
        void clear()
                throws IOException
        {
            if (Files.exists(directory)) {
                MoreFiles.deleteDirectoryContents(directory, ALLOW_INSECURE);
            }
        }

        @Override
        void writeBaseline(byte[] content, long dataBytes, int threads)
                throws Exception
        {
            Path baseline = Files.createDirectories(directory.resolve(BASELINE));
            share = dataBytes / threads;
            files = threads;
            inParallel(threads, thread -> {
                // direct buffers: the JDK would copy a heap buffer into a temporary direct one on every call
                ByteBuffer buffer = ByteBuffer.allocateDirect(IO_BYTES);
                buffer.put(content, thread * 4096, IO_BYTES).flip();
                try (FileChannel channel = FileChannel.open(baseline.resolve("data-" + thread), CREATE_NEW, WRITE)) {
                    long written = 0;
                    while (written < share) {
                        buffer.clear().limit((int) Math.min(IO_BYTES, share - written));
                        while (buffer.hasRemaining()) {
                            written += channel.write(buffer);
                        }
                    }
                }
            });
        }

        @Override
        void readBaseline(int threads)
                throws Exception
        {
            Path baseline = directory.resolve(BASELINE);
            inParallel(files, thread -> {
                ByteBuffer buffer = ByteBuffer.allocateDirect(IO_BYTES);
                try (FileChannel channel = FileChannel.open(baseline.resolve("data-" + thread), READ)) {
                    long read = 0;
                    for (int bytes = channel.read(buffer.clear()); bytes > 0; bytes = channel.read(buffer.clear())) {
                        read += bytes;
                    }
                    checkRead(read, share);
                }
            });
        }

        @Override
        long trinoSinkPool(int partitions)
        {
            return Math.max(partitions * 2L, 10) * 4096;
        }
    }

    static final class S3
            extends BenchmarkStorage
    {
        private static final int OBJECT_BYTES = 5 * 1024 * 1024;

        private final S3ProxyServer server;
        private long objects;

        S3()
        {
            server = S3ProxyServer.start();
            try (S3Client client = server.createClient()) {
                S3ProxyServer.createBuckets(client, List.of(SPOOL[0], SPOOL[1], BASELINE));
            }
        }

        @Override
        Map<String, String> spoolProperties()
        {
            return ImmutableMap.<String, String>builder()
                    .put("exchange.base-directories", "s3://%s/spool,s3://%s/spool".formatted(SPOOL[0], SPOOL[1]))
                    .put("exchange.s3.endpoint", server.endpoint().toString())
                    .put("exchange.s3.region", S3ProxyServer.REGION)
                    .put("exchange.s3.aws-access-key", S3ProxyServer.ACCESS_KEY)
                    .put("exchange.s3.aws-secret-key", S3ProxyServer.SECRET_KEY)
                    .put("exchange.s3.path-style-access", "true")
                    .buildOrThrow();
        }

        @Override
        long storedBytes()
        {
            long total = 0;
            try (S3Client client = server.createClient()) {
                for (String bucket : List.of(SPOOL[0], SPOOL[1], BASELINE)) {
                    for (var object : client.listObjectsV2Paginator(request -> request.bucket(bucket)).contents()) {
                        total += object.size();
                    }
                }
            }
            return total;
        }

        @Override
        void clear()
        {
            try (S3Client client = server.createClient()) {
                for (String bucket : List.of(SPOOL[0], SPOOL[1], BASELINE)) {
                    for (var object : client.listObjectsV2Paginator(request -> request.bucket(bucket)).contents()) {
                        client.deleteObject(request -> request.bucket(bucket).key(object.key()));
                    }
                }
            }
        }

        @Override
        Duration storeCpuTime()
        {
            return server.cpuTime();
        }

        private S3AsyncClient client()
        {
            return S3AsyncClient.builder()
                    .endpointOverride(server.endpoint())
                    .region(Region.of(S3ProxyServer.REGION))
                    .forcePathStyle(true)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)))
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .build();
        }

        @Override
        void writeBaseline(byte[] content, long dataBytes, int threads)
                throws Exception
        {
            objects = (dataBytes + OBJECT_BYTES - 1) / OBJECT_BYTES;
            Semaphore inFlight = new Semaphore(threads * 4);
            try (S3AsyncClient client = client()) {
                List<CompletableFuture<?>> requests = new ArrayList<>();
                for (long object = 0; object < objects; object++) {
                    inFlight.acquire();
                    int offset = (int) ((object * 4096) % (content.length - OBJECT_BYTES));
                    String key = "object-" + object;
                    // a slice, starting at 0: with the buffer wrapped at an offset, an object came back 5 MB plus that
                    // offset long (2.47.4's copy of the body took the bytes before the offset too)
                    requests.add(client.putObject(request -> request.bucket(BASELINE).key(key), AsyncRequestBody.fromByteBuffer(ByteBuffer.wrap(content, offset, OBJECT_BYTES).slice()))
                            .whenComplete((_, _) -> inFlight.release()));
                }
                CompletableFuture.allOf(requests.toArray(CompletableFuture[]::new)).get();
            }
        }

        @Override
        void readBaseline(int threads)
                throws Exception
        {
            Semaphore inFlight = new Semaphore(threads * 4);
            try (S3AsyncClient client = client()) {
                List<CompletableFuture<?>> requests = new ArrayList<>();
                for (long object = 0; object < objects; object++) {
                    inFlight.acquire();
                    String key = "object-" + object;
                    requests.add(client.getObject(request -> request.bucket(BASELINE).key(key), AsyncResponseTransformer.toBytes())
                            .thenAccept(bytes -> checkRead(bytes.asByteBuffer().remaining(), OBJECT_BYTES))
                            .whenComplete((_, _) -> inFlight.release()));
                }
                CompletableFuture.allOf(requests.toArray(CompletableFuture[]::new)).get();
            }
        }

        @Override
        long trinoSinkPool(int partitions)
        {
            // exchange.s3.upload.part-size, 5 MB
            return Math.max(partitions * 2L, 10) * 5L * 1024 * 1024;
        }

        @Override
        public void close()
        {
            server.close();
        }
    }

    static final class Azure
            extends BenchmarkStorage
    {
        private static final int BLOB_BYTES = 4 * 1024 * 1024;
        private static final String HOST = AzuriteServer.ACCOUNT + ".dfs.core.windows.net";

        private final AzuriteServer server;
        private final BlobServiceClient client;
        private long blobs;

        Azure()
        {
            server = AzuriteServer.start();
            server.createContainers(List.of(SPOOL[0], SPOOL[1], BASELINE));
            client = server.createClient();
        }

        @Override
        Map<String, String> spoolProperties()
        {
            return Map.of(
                    "exchange.base-directories", "abfs://%s@%s/spool,abfs://%s@%s/spool".formatted(SPOOL[0], HOST, SPOOL[1], HOST),
                    "exchange.azure.connection-string", server.connectionString());
        }

        @Override
        long storedBytes()
        {
            long total = 0;
            for (String container : List.of(SPOOL[0], SPOOL[1], BASELINE)) {
                for (BlobItem blob : client.getBlobContainerClient(container).listBlobs()) {
                    total += blob.getProperties().getContentLength();
                }
            }
            return total;
        }

        @Override
        void clear()
        {
            for (String container : List.of(SPOOL[0], SPOOL[1], BASELINE)) {
                BlobContainerClient containerClient = client.getBlobContainerClient(container);
                for (BlobItem blob : containerClient.listBlobs()) {
                    containerClient.getBlobClient(blob.getName()).deleteIfExists();
                }
            }
        }

        @Override
        Duration storeCpuTime()
        {
            return server.cpuTime();
        }

        @Override
        void writeBaseline(byte[] content, long dataBytes, int threads)
                throws Exception
        {
            blobs = (dataBytes + BLOB_BYTES - 1) / BLOB_BYTES;
            BlobContainerClient container = client.getBlobContainerClient(BASELINE);
            inParallel(threads * 4, thread -> {
                for (long blob = thread; blob < blobs; blob += threads * 4L) {
                    int offset = (int) ((blob * 4096) % (content.length - BLOB_BYTES));
                    container.getBlobClient("blob-" + blob).upload(BinaryData.fromByteBuffer(ByteBuffer.wrap(content, offset, BLOB_BYTES)));
                }
            });
        }

        @Override
        void readBaseline(int threads)
                throws Exception
        {
            BlobContainerClient container = client.getBlobContainerClient(BASELINE);
            inParallel(threads * 4, thread -> {
                for (long blob = thread; blob < blobs; blob += threads * 4L) {
                    checkRead(container.getBlobClient("blob-" + blob).downloadContent().getLength(), BLOB_BYTES);
                }
            });
        }

        @Override
        long trinoSinkPool(int partitions)
        {
            // exchange.azure.block-size, 4 MB
            return Math.max(partitions * 2L, 10) * 4L * 1024 * 1024;
        }

        @Override
        public void close()
        {
            server.close();
        }
    }

    static final class Hdfs
            extends BenchmarkStorage
    {
        private final HdfsMiniCluster cluster;
        private final FileSystem client;
        private long share;
        private int files;

        Hdfs()
        {
            cluster = HdfsMiniCluster.shared();
            client = cluster.newClient();
        }

        @Override
        String factoryName()
        {
            return "hdfs";
        }

        @Override
        Map<String, String> spoolProperties()
        {
            // full URIs: Trino's plugin takes its file system from fs.defaultFS and Spoolex from the URI, both agree here
            return Map.of(
                    "exchange.base-directories", "%s/%s,%s/%s".formatted(cluster.uri(), SPOOL[0], cluster.uri(), SPOOL[1]),
                    "hdfs.config.resources", cluster.coreSite().toString());
        }

        @Override
        long storedBytes()
                throws IOException
        {
            long total = 0;
            for (String directory : List.of(SPOOL[0], SPOOL[1], BASELINE)) {
                org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path("/" + directory);
                if (!client.exists(path)) {
                    continue;
                }
                RemoteIterator<? extends FileStatus> listing = client.listFiles(path, true);
                while (listing.hasNext()) {
                    total += listing.next().getLen();
                }
            }
            return total;
        }

        @Override
        void clear()
                throws IOException
        {
            for (String directory : List.of(SPOOL[0], SPOOL[1], BASELINE)) {
                org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path("/" + directory);
                for (FileStatus child : client.exists(path) ? client.listStatus(path) : new FileStatus[0]) {
                    client.delete(child.getPath(), true);
                }
            }
        }

        @Override
        void writeBaseline(byte[] content, long dataBytes, int threads)
                throws Exception
        {
            share = dataBytes / threads;
            files = threads;
            inParallel(threads, thread -> {
                try (FSDataOutputStream output = client.create(new org.apache.hadoop.fs.Path("/%s/data-%s".formatted(BASELINE, thread)), false)) {
                    long written = 0;
                    while (written < share) {
                        int length = (int) Math.min(IO_BYTES, share - written);
                        output.write(content, thread * 4096, length);
                        written += length;
                    }
                }
            });
        }

        @Override
        void readBaseline(int threads)
                throws Exception
        {
            inParallel(files, thread -> {
                byte[] buffer = new byte[IO_BYTES];
                try (FSDataInputStream input = client.open(new org.apache.hadoop.fs.Path("/%s/data-%s".formatted(BASELINE, thread)))) {
                    long read = 0;
                    for (int bytes = input.read(buffer); bytes > 0; bytes = input.read(buffer)) {
                        read += bytes;
                    }
                    checkRead(read, share);
                }
            });
        }

        @Override
        long trinoSinkPool(int partitions)
        {
            // exchange.hdfs.block-size, 4 MB
            return Math.max(partitions * 2L, 10) * 4L * 1024 * 1024;
        }

        @Override
        public void close()
        {
            try {
                client.close();
            }
            catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private interface Task
    {
        void run(int thread)
                throws Exception;
    }

    private static void inParallel(int threads, Task task)
            throws Exception
    {
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int thread = 0; thread < threads; thread++) {
                int index = thread;
                futures.add(executor.submit(() -> {
                    task.run(index);
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
        }
        finally {
            executor.shutdownNow();
        }
    }

    private static void checkRead(long read, long expected)
    {
        if (read != expected) {
            throw new IllegalStateException("baseline read %s bytes where it wrote %s".formatted(read, expected));
        }
    }
}
