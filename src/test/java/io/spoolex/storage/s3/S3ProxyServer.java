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

import com.google.common.io.MoreFiles;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * A real S3 server for tests: S3Proxy 4.1.0 (its all-in-one jar, which Maven copies to target/s3proxy/) as a separate
 * {@code java -jar} process on 127.0.0.1, storing objects in a temporary directory. The process is killed by
 * {@link #close()}, and by a JVM shutdown hook if a test run dies before that.
 */
public final class S3ProxyServer
        implements AutoCloseable
{
    public static final String ACCESS_KEY = "spoolex-test-access-key";
    public static final String SECRET_KEY = "spoolex-test-secret-key-do-not-log";
    public static final String REGION = "us-east-1";

    private static final long START_TIMEOUT_MILLIS = 60_000;

    // one server for the test classes of a JVM that do not need one of their own; stopped by the shutdown hook
    private static S3ProxyServer shared;

    private final Process process;
    private final Path directory;
    private final Path log;
    private final int port;
    private final Thread killer;

    private S3ProxyServer(Process process, Path directory, Path log, int port, Thread killer)
    {
        this.process = process;
        this.directory = directory;
        this.log = log;
        this.port = port;
        this.killer = killer;
    }

    public static S3ProxyServer start()
    {
        Path jar = Path.of(System.getProperty("spoolex.s3proxy.jar", "target/s3proxy/s3proxy.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("S3Proxy jar not found at %s: run the tests through Maven (bin/test), which copies org.gaul:s3proxy:jar-with-dependencies there".formatted(jar.toAbsolutePath()));
        }
        try {
            Path directory = Files.createTempDirectory("s3proxy");
            Files.createDirectories(directory.resolve("data"));
            int port = freePort();
            Path properties = directory.resolve("s3proxy.properties");
            Files.writeString(properties, String.join(
                    "\n",
                    "s3proxy.endpoint=http://127.0.0.1:" + port,
                    "s3proxy.authorization=aws-v2-or-v4",
                    "s3proxy.identity=" + ACCESS_KEY,
                    "s3proxy.credential=" + SECRET_KEY,
                    "jclouds.provider=filesystem-nio2",
                    "jclouds.filesystem.basedir=" + directory.resolve("data"),
                    ""), UTF_8);
            Path log = directory.resolve("s3proxy.log");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:+UseSerialGC"));
            // diagnostics, e.g. a profiler agent: -Dspoolex.s3proxy.jvm-options="-agentpath:..."
            String jvmOptions = System.getProperty("spoolex.s3proxy.jvm-options", "").strip();
            if (!jvmOptions.isEmpty()) {
                command.addAll(List.of(jvmOptions.split("\\s+")));
            }
            command.addAll(List.of("-jar", jar.toAbsolutePath().toString(), "--properties", properties.toString()));
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            Thread killer = new Thread(process::destroyForcibly, "kill-s3proxy-" + port);
            Runtime.getRuntime().addShutdownHook(killer);
            S3ProxyServer server = new S3ProxyServer(process, directory, log, port, killer);
            try {
                server.awaitReady();
            }
            catch (RuntimeException | Error e) {
                server.close();
                throw e;
            }
            return server;
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The S3Proxy shared by the test classes of this JVM, started on first use.
     */
    public static synchronized S3ProxyServer shared()
    {
        if (shared == null || !shared.process.isAlive()) {
            shared = start();
        }
        return shared;
    }

    /**
     * Creates the buckets that do not exist yet.
     */
    public static void createBuckets(S3Client client, List<String> buckets)
    {
        for (String bucket : buckets) {
            if (client.listBuckets().buckets().stream().noneMatch(existing -> existing.name().equals(bucket))) {
                client.createBucket(request -> request.bucket(bucket));
            }
        }
    }

    public URI endpoint()
    {
        return URI.create("http://127.0.0.1:" + port);
    }

    public int port()
    {
        return port;
    }

    /**
     * CPU time the S3Proxy process has used so far (for benchmarks that account for the store's share of the cores).
     */
    public Duration cpuTime()
    {
        return process.toHandle().info().totalCpuDuration().orElse(Duration.ZERO);
    }

    /**
     * A plain synchronous client for tests to create buckets and look at objects behind Spoolex's back.
     */
    public S3Client createClient()
    {
        return createClient(endpoint());
    }

    public static S3Client createClient(URI endpoint)
    {
        return S3Client.builder()
                .endpointOverride(endpoint)
                .region(Region.of(REGION))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
    }

    private void awaitReady()
    {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("S3Proxy exited with %s while starting:\n%s".formatted(process.exitValue(), logTail()));
            }
            try {
                HttpURLConnection connection = (HttpURLConnection) endpoint().toURL().openConnection();
                connection.setConnectTimeout(500);
                connection.setReadTimeout(2000);
                // any HTTP answer (403 for an anonymous request) means it is serving
                connection.getResponseCode();
                connection.disconnect();
                return;
            }
            catch (IOException e) {
                sleep(100);
            }
        }
        throw new IllegalStateException("S3Proxy did not answer on %s within %s ms:\n%s".formatted(endpoint(), START_TIMEOUT_MILLIS, logTail()));
    }

    public String logTail()
    {
        try {
            List<String> lines = Files.readAllLines(log, UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        }
        catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close()
    {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
        catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(killer);
        }
        catch (IllegalStateException _) {
            // the JVM is already shutting down and runs the hook itself
        }
        try {
            MoreFiles.deleteRecursively(directory, ALLOW_INSECURE);
        }
        catch (IOException _) {
            // a temporary directory under target/: the next clean removes it
        }
    }

    private static int freePort()
            throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void sleep(long millis)
    {
        try {
            Thread.sleep(millis);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
    }
}
