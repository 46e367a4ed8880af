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

import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.google.common.io.MoreFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * Azurite's Blob service (the Azure Storage emulator, installed from npm by the build into target/azurite), as a
 * separate node process on 127.0.0.1 with in-memory storage. One is shared by the test classes of a JVM.
 */
public final class AzuriteServer
        implements AutoCloseable
{
    /**
     * The emulator's account and its published well-known key (the same in every Azurite).
     */
    public static final String ACCOUNT = "devstoreaccount1";
    public static final String ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static final long START_TIMEOUT_MILLIS = 60_000;
    private static final Pattern LISTENING = Pattern.compile("successfully listens on http://127\\.0\\.0\\.1:(\\d+)");

    // one server for the test classes of a JVM; stopped by the shutdown hook
    private static AzuriteServer shared;

    private final Process process;
    private final Path directory;
    private final Path log;
    private final int port;
    private final Thread killer;

    private AzuriteServer(Process process, Path directory, Path log, int port, Thread killer)
    {
        this.process = process;
        this.directory = directory;
        this.log = log;
        this.port = port;
        this.killer = killer;
    }

    public static AzuriteServer start()
    {
        Path home = Path.of(System.getProperty("spoolex.azurite.home", "target/azurite/node_modules/azurite"));
        Path main = home.resolve("dist/src/blob/main.js");
        if (!Files.isRegularFile(main)) {
            throw new IllegalStateException("Azurite not found at %s: run the tests through Maven (bin/test), which installs the npm package azurite there".formatted(home.toAbsolutePath()));
        }
        try {
            Path directory = Files.createTempDirectory("azurite");
            Path log = directory.resolve("azurite.log");
            List<String> command = List.of(
                    "node",
                    main.toAbsolutePath().toString(),
                    "--blobHost",
                    "127.0.0.1",
                    // a free port of the system's choosing, read back from the log
                    "--blobPort",
                    "0",
                    "--inMemoryPersistence",
                    "--extentMemoryLimit",
                    "4096",
                    // the SDK's API version is newer than this Azurite knows
                    "--skipApiVersionCheck",
                    "--loose");
            // in-memory storage; anything else it writes goes to the temporary directory
            Process process = new ProcessBuilder(command)
                    .directory(directory.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            Thread killer = new Thread(process::destroyForcibly, "kill-azurite");
            Runtime.getRuntime().addShutdownHook(killer);
            try {
                int port = awaitPort(process, log);
                return new AzuriteServer(process, directory, log, port, killer);
            }
            catch (RuntimeException | Error e) {
                process.destroyForcibly();
                Runtime.getRuntime().removeShutdownHook(killer);
                throw e;
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The Azurite shared by the test classes of this JVM, started on first use.
     */
    public static synchronized AzuriteServer shared()
    {
        if (shared == null || !shared.process.isAlive()) {
            shared = start();
        }
        return shared;
    }

    private static int awaitPort(Process process, Path log)
    {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            String output = read(log);
            Matcher matcher = LISTENING.matcher(output);
            if (matcher.find()) {
                return Integer.parseInt(matcher.group(1));
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("Azurite exited with %s while starting:\n%s".formatted(process.exitValue(), output));
            }
            try {
                Thread.sleep(50);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeException(e);
            }
        }
        throw new IllegalStateException("Azurite did not start within %s ms:\n%s".formatted(START_TIMEOUT_MILLIS, read(log)));
    }

    private static String read(Path log)
    {
        try {
            return Files.readString(log, UTF_8);
        }
        catch (IOException e) {
            return "";
        }
    }

    /**
     * The account's blob endpoint, as Azurite serves it: the account name is the first path segment.
     */
    public URI blobEndpoint()
    {
        return URI.create("http://127.0.0.1:%s/%s".formatted(port, ACCOUNT));
    }

    public int port()
    {
        return port;
    }

    /**
     * A connection string for this server.
     */
    public String connectionString()
    {
        return connectionString(blobEndpoint());
    }

    /**
     * A connection string of the emulator's account with another blob endpoint (a relay in front of Azurite).
     */
    public static String connectionString(URI blobEndpoint)
    {
        return "DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;".formatted(ACCOUNT, ACCOUNT_KEY, blobEndpoint);
    }

    /**
     * A plain synchronous client (the SDK's default HTTP client, independent of Spoolex's) for tests to create
     * containers and look at blobs behind Spoolex's back.
     */
    public BlobServiceClient createClient()
    {
        return new BlobServiceClientBuilder().connectionString(connectionString()).buildClient();
    }

    /**
     * Creates the containers that do not exist yet.
     */
    public void createContainers(List<String> containers)
    {
        BlobServiceClient client = createClient();
        for (String container : containers) {
            client.getBlobContainerClient(container).createIfNotExists();
        }
    }

    /**
     * CPU time the emulator's processes (the launcher and the node process it starts) have used so far, for
     * benchmarks that account for the store's share of the cores.
     */
    public Duration cpuTime()
    {
        ProcessHandle root = process.toHandle();
        return Stream.concat(Stream.of(root), root.descendants())
                .map(handle -> handle.info().totalCpuDuration().orElse(Duration.ZERO))
                .reduce(Duration.ZERO, Duration::plus);
    }

    public String logTail()
    {
        List<String> lines = read(log).lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
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
}
