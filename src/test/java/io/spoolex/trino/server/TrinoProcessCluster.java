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
package io.spoolex.trino.server;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import io.spoolex.trino.server.TrinoRestClient.QueryResult;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import static com.google.common.base.Preconditions.checkState;
import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * Real Trino 483 servers as separate JVM processes on 127.0.0.1: one coordinator and some workers, each with its own
 * {@code etc/} and {@code plugin/} directory, Spoolex installed from the plugin archive exactly as the README tells
 * operators ({@code tar -xzf spoolex-*-exchange-filesystem.tar.gz -C plugin}, and the exchange-hdfs archive the same
 * way where a test wants it). Every process this class starts is
 * ended by {@link #close()}, and by a shutdown hook should the test JVM exit first.
 */
public final class TrinoProcessCluster
        implements AutoCloseable
{
    private static final String ENVIRONMENT = "spoolex_test";
    private static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(3);

    public record Node(String nodeId, boolean coordinator, int port, Path directory, Process process)
    {
        public URI uri()
        {
            return URI.create("http://127.0.0.1:" + port);
        }

        /**
         * The server's log, as Trino's launcher lays it out.
         */
        public Path log()
        {
            return directory.resolve("var/log/server.log");
        }

        /**
         * The process's own stdout and stderr: JVM messages and anything before logging starts.
         */
        public Path launcherLog()
        {
            return directory.resolve("var/log/launcher.log");
        }
    }

    /**
     * Where the server's pieces come from; see the failsafe configuration in pom.xml.
     */
    public record Installation(Path java, List<String> jvmFlags, List<Path> serverClasspath, Path launcherClasses, Path spoolexArchive, Path hdfsArchive)
    {
        public static Installation fromSystemProperties()
                throws IOException
        {
            Path classpathFile = Path.of(requiredProperty("spoolex.trino.server.classpath"));
            List<Path> classpath = Files.readString(classpathFile, UTF_8).strip().isEmpty()
                    ? List.of()
                    : List.of(Files.readString(classpathFile, UTF_8).strip().split(File.pathSeparator)).stream().map(Path::of).toList();
            // every Trino JVM needs the Vector API module; heap sizes are set per node here, not taken from the flags
            List<String> flags = List.of(requiredProperty("spoolex.trino.jvm.flags").trim().split("\\s+")).stream()
                    .filter(flag -> !flag.startsWith("-Xmx"))
                    .toList();
            return new Installation(
                    Path.of(requiredProperty("spoolex.trino.java")),
                    flags,
                    classpath,
                    Path.of(requiredProperty("spoolex.trino.launcher.classes")),
                    Path.of(requiredProperty("spoolex.plugin.archive")),
                    Path.of(requiredProperty("spoolex.plugin.hdfs-archive")));
        }

        private static String requiredProperty(String name)
        {
            String value = System.getProperty(name);
            checkState(value != null && !value.isBlank(), "system property %s is not set (this test runs through Maven failsafe: bin/test)", name);
            return value;
        }
    }

    private final List<Node> nodes;
    private final Thread shutdownHook;

    private TrinoProcessCluster(List<Node> nodes, Thread shutdownHook)
    {
        this.nodes = ImmutableList.copyOf(nodes);
        this.shutdownHook = shutdownHook;
    }

    /**
     * Lays out and starts a coordinator and {@code workerCount} workers under {@code root}, spooling to
     * {@code spoolDirectory}, and waits until the coordinator sees every worker.
     */
    public static TrinoProcessCluster start(Installation installation, Path root, Path spoolDirectory, int workerCount, Map<String, String> serverProperties)
            throws Exception
    {
        return start(installation, root, workerCount, serverProperties, List.of(installation.spoolexArchive()), ImmutableMap.of(
                "exchange-manager.name", "filesystem",
                "exchange.base-directories", spoolDirectory.toString()));
    }

    /**
     * Lays out and starts a coordinator and {@code workerCount} workers under {@code root}, with these plugin
     * archives unpacked into each node's {@code plugin/} and this {@code etc/exchange-manager.properties}, and waits
     * until the coordinator sees every worker.
     */
    public static TrinoProcessCluster start(Installation installation, Path root, int workerCount, Map<String, String> serverProperties, List<Path> archives, Map<String, String> exchangeManagerProperties)
            throws Exception
    {
        List<Node> started = new ArrayList<>();
        // a hook for the processes started so far, so that none outlives the test JVM whatever happens
        Thread hook = new Thread(() -> started.forEach(node -> node.process().destroyForcibly()), "trino-process-cluster-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            int coordinatorPort = freePort();
            URI discovery = URI.create("http://127.0.0.1:" + coordinatorPort);
            synchronized (started) {
                started.add(startNode(installation, root, "coordinator", true, coordinatorPort, discovery, serverProperties, archives, exchangeManagerProperties));
            }
            for (int worker = 1; worker <= workerCount; worker++) {
                synchronized (started) {
                    started.add(startNode(installation, root, "worker-" + worker, false, freePort(), discovery, serverProperties, archives, exchangeManagerProperties));
                }
            }
            TrinoProcessCluster cluster = new TrinoProcessCluster(started, hook);
            cluster.awaitWorkers(workerCount);
            return cluster;
        }
        catch (Throwable t) {
            new TrinoProcessCluster(started, hook).close();
            throw t;
        }
    }

    private static Node startNode(Installation installation, Path root, String nodeId, boolean coordinator, int port, URI discovery, Map<String, String> serverProperties, List<Path> archives, Map<String, String> exchangeManagerProperties)
            throws IOException, InterruptedException
    {
        Path directory = Files.createDirectories(root.resolve(nodeId));
        Path etc = Files.createDirectories(directory.resolve("etc"));
        Path plugins = Files.createDirectories(directory.resolve("plugin"));

        Map<String, String> config = new LinkedHashMap<>();
        config.put("node.id", nodeId);
        config.put("node.environment", ENVIRONMENT);
        config.put("node.internal-address", "127.0.0.1");
        config.put("coordinator", Boolean.toString(coordinator));
        config.put("http-server.http.port", Integer.toString(port));
        config.put("discovery.uri", discovery.toString());
        config.put("log.path", directory.resolve("var/log/server.log").toString());
        if (coordinator) {
            config.put("node-scheduler.include-coordinator", "false");
        }
        config.putAll(serverProperties);
        writeProperties(etc.resolve("config.properties"), config);
        writeProperties(etc.resolve("exchange-manager.properties"), exchangeManagerProperties);
        Files.createDirectories(etc.resolve("catalog"));
        writeProperties(etc.resolve("catalog/tpch.properties"), ImmutableMap.of(
                "connector.name", "tpch",
                "tpch.splits-per-node", "4"));

        // Spoolex, installed as the README says
        for (Path archive : archives) {
            long folders = folderCount(plugins);
            run(List.of("tar", "-xzf", archive.toString(), "-C", plugins.toString()));
            checkState(folderCount(plugins) == folders + 1, "%s did not unpack into one new folder of %s", archive, plugins);
        }
        installTpchPlugin(installation, plugins.resolve("tpch"));

        List<String> command = new ArrayList<>();
        command.add(installation.java().toString());
        command.addAll(installation.jvmFlags());
        command.add(coordinator ? "-Xmx1g" : "-Xmx1200m");
        command.add("-XX:+ExitOnOutOfMemoryError");
        command.add("-Dconfig=etc/config.properties");
        command.add("-cp");
        command.add(classpath(installation));
        command.add(TrinoServerMain.class.getName());
        Path log = Files.createDirectories(directory.resolve("var/log")).resolve("launcher.log");
        Process process = new ProcessBuilder(command)
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        return new Node(nodeId, coordinator, port, directory, process);
    }

    /**
     * The TPC-H connector's folder. Its jars on Maven Central carry no {@code META-INF/services} entry, so the folder
     * gets a small services jar naming the plugin class, the way Trino's own build packs plugins. The folder links
     * the server's jars (a superset of what the connector needs) except the SPI ones the server provides.
     */
    private static void installTpchPlugin(Installation installation, Path directory)
            throws IOException
    {
        Files.createDirectories(directory);
        for (Path jar : installation.serverClasspath()) {
            String name = jar.getFileName().toString();
            if (name.startsWith("trino-spi-") || name.startsWith("slice-") || name.startsWith("jackson-annotations-") || name.startsWith("opentelemetry-api-") || name.startsWith("opentelemetry-context-")) {
                continue;
            }
            Path link = directory.resolve(name);
            if (!Files.exists(link)) {
                Files.createSymbolicLink(link, jar.toAbsolutePath());
            }
        }
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().putValue("Manifest-Version", "1.0");
        try (OutputStream file = Files.newOutputStream(directory.resolve("trino-tpch-services.jar"));
                JarOutputStream jar = new JarOutputStream(file, manifest)) {
            jar.putNextEntry(new JarEntry("META-INF/services/io.trino.spi.Plugin"));
            jar.write("io.trino.plugin.tpch.TpchPlugin\n".getBytes(UTF_8));
            jar.closeEntry();
        }
    }

    private static String classpath(Installation installation)
    {
        List<String> entries = new ArrayList<>();
        entries.add(installation.launcherClasses().toString());
        installation.serverClasspath().forEach(jar -> entries.add(jar.toString()));
        return String.join(File.pathSeparator, entries);
    }

    public Node coordinator()
    {
        return nodes.stream().filter(Node::coordinator).findFirst().orElseThrow();
    }

    public Node node(String nodeId)
    {
        return nodes.stream().filter(node -> node.nodeId().equals(nodeId)).findFirst().orElseThrow(() -> new IllegalArgumentException("no node " + nodeId));
    }

    public List<Node> nodes()
    {
        return nodes;
    }

    public TrinoRestClient client()
    {
        return new TrinoRestClient(coordinator().uri());
    }

    /**
     * {@code kill -9}: the JVM gets no chance to finish anything, as when a spot instance is reclaimed.
     */
    public void killHard(String nodeId)
            throws IOException, InterruptedException
    {
        Node node = node(nodeId);
        run(List.of("kill", "-9", Long.toString(node.process().pid())));
        checkState(node.process().waitFor(30, TimeUnit.SECONDS), "%s did not die", nodeId);
    }

    private void awaitWorkers(int workerCount)
            throws Exception
    {
        long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
        HttpClient http = HttpClient.newHttpClient();
        // first the coordinator's HTTP server and startup, then its view of the cluster
        while (true) {
            for (Node node : nodes) {
                checkState(node.process().isAlive(), "%s exited with %s during startup; its logs end:\n%s\n%s", node.nodeId(), node.process().isAlive() ? "" : node.process().exitValue(), tail(node.launcherLog(), 20), tail(node.log(), 40));
            }
            try {
                HttpResponse<String> info = http.send(HttpRequest.newBuilder(coordinator().uri().resolve("/v1/info")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (info.statusCode() == 200 && info.body().contains("\"starting\":false")) {
                    QueryResult active = client().execute("SELECT count(*) FROM system.runtime.nodes WHERE coordinator = false AND state = 'active'");
                    if (active.rows().equals(List.of("[" + workerCount + "]"))) {
                        return;
                    }
                }
            }
            catch (IOException | IllegalStateException _) {
                // not up yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("cluster did not start within %s; coordinator log ends:%n%s".formatted(STARTUP_TIMEOUT, tail(coordinator().log(), 60)));
            }
            Thread.sleep(500);
        }
    }

    public static String tail(Path file, int lines)
    {
        try {
            List<String> all = Files.readAllLines(file, UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        }
        catch (IOException | UncheckedIOException e) {
            return "(cannot read %s: %s)".formatted(file, e);
        }
    }

    @Override
    public void close()
    {
        for (Node node : nodes) {
            node.process().destroyForcibly();
        }
        for (Node node : nodes) {
            try {
                node.process().waitFor(30, TimeUnit.SECONDS);
            }
            catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        }
        catch (IllegalStateException _) {
            // the JVM is shutting down and runs the hook itself
        }
    }

    private static void writeProperties(Path file, Map<String, String> properties)
            throws IOException
    {
        StringBuilder text = new StringBuilder();
        properties.forEach((name, value) -> text.append(name).append('=').append(value).append('\n'));
        Files.writeString(file, text.toString(), UTF_8);
    }

    private static long folderCount(Path directory)
            throws IOException
    {
        try (Stream<Path> listing = Files.list(directory)) {
            return listing.filter(Files::isDirectory).count();
        }
    }

    private static int freePort()
            throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void run(List<String> command)
            throws IOException, InterruptedException
    {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), UTF_8);
        checkState(process.waitFor() == 0, "%s failed: %s", command, output);
    }
}
