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

import com.google.common.io.MoreFiles;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * A real HDFS for tests: Hadoop 3.5.0's {@link MiniDFSCluster} (a namenode and one datanode) in the test JVM, every
 * address on 127.0.0.1, storing blocks in a temporary directory. Started once per test JVM by {@link #shared()} and
 * stopped by a shutdown hook. {@link #coreSite()} is a core-site.xml naming it in {@code fs.defaultFS}, for
 * {@code hdfs.config.resources}. The namenode's audit log tells which files were created ({@link #createdFiles}),
 * whoever created them (also Trino servers in other processes); Hadoop's other INFO logging is turned down.
 */
public final class HdfsMiniCluster
{
    private static final Logger HADOOP_LOGGER = Logger.getLogger("org.apache.hadoop");
    private static final Logger AUDIT_LOGGER = Logger.getLogger("org.apache.hadoop.hdfs.server.namenode.FSNamesystem.audit");

    // one cluster for the test classes of a JVM; stopped by the shutdown hook
    private static HdfsMiniCluster shared;

    private final MiniDFSCluster cluster;
    private final Path directory;
    private final Path coreSite;
    private final AuditCounter audit = new AuditCounter();

    private HdfsMiniCluster(MiniDFSCluster cluster, Path directory, Path coreSite)
    {
        this.cluster = cluster;
        this.directory = directory;
        this.coreSite = coreSite;
    }

    /**
     * The cluster shared by the test classes of this JVM, started on first use.
     */
    public static synchronized HdfsMiniCluster shared()
    {
        if (shared == null) {
            shared = start();
            HdfsMiniCluster started = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(started::stop, "stop-hdfs-mini-cluster"));
        }
        return shared;
    }

    private static HdfsMiniCluster start()
    {
        // a line per RPC and per block otherwise: megabytes of test output, and time
        HADOOP_LOGGER.setLevel(Level.WARNING);
        try {
            Path directory = Files.createTempDirectory("hdfs-mini-cluster");
            Configuration configuration = new Configuration();
            configuration.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, directory.resolve("data").toString());
            // the web servers' scratch space, in this directory rather than in a shared /tmp
            configuration.set("hadoop.tmp.dir", Files.createDirectories(directory.resolve("tmp")).toString());
            configuration.set("hadoop.http.temp.dir", Files.createDirectories(directory.resolve("http")).toString());
            configuration.set("dfs.namenode.rpc-address", "127.0.0.1:0");
            configuration.set("dfs.namenode.http-address", "127.0.0.1:0");
            configuration.set("dfs.namenode.https-address", "127.0.0.1:0");
            configuration.set("dfs.namenode.servicerpc-address", "127.0.0.1:0");
            configuration.setInt("dfs.replication", 1);
            // complete a file once its last block is committed by the client, without waiting for the datanode's
            // report: a client's close() otherwise waits 400 ms or more on a cluster this small
            configuration.setInt("dfs.namenode.file.close.num-committed-allowed", 1);
            configuration.setBoolean("dfs.permissions.enabled", true);
            MiniDFSCluster cluster = new MiniDFSCluster.Builder(configuration, directory.resolve("data").toFile())
                    .numDataNodes(1)
                    .nameNodePort(0)
                    .nameNodeHttpPort(0)
                    .format(true)
                    .build();
            cluster.waitClusterUp();
            Path coreSite = directory.resolve("core-site.xml");
            writeConfiguration(coreSite, Map.of("fs.defaultFS", "hdfs://127.0.0.1:" + cluster.getNameNodePort()));
            HdfsMiniCluster started = new HdfsMiniCluster(cluster, directory, coreSite);
            started.listenToAudit();
            return started;
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The namenode's RPC address, {@code hdfs://127.0.0.1:port}.
     */
    public URI uri()
    {
        return URI.create("hdfs://127.0.0.1:" + cluster.getNameNodePort());
    }

    /**
     * Files created so far, successfully, below {@code pathPrefix} (e.g. {@code /spool/}), by the namenode's audit log.
     */
    public long createdFiles(String pathPrefix)
    {
        // logging set up later in the JVM (a Trino runner's) may have dropped the handler: counts go on from here
        listenToAudit();
        return audit.created(pathPrefix);
    }

    private void listenToAudit()
    {
        synchronized (AUDIT_LOGGER) {
            AUDIT_LOGGER.setLevel(Level.INFO);
            AUDIT_LOGGER.setUseParentHandlers(false);
            if (!List.of(AUDIT_LOGGER.getHandlers()).contains(audit)) {
                AUDIT_LOGGER.addHandler(audit);
            }
        }
    }

    /**
     * Counts the audit log's successful creates, by path: "allowed=true ugi=... cmd=create src=/path ...".
     */
    private static final class AuditCounter
            extends Handler
    {
        private final Queue<String> created = new ConcurrentLinkedQueue<>();

        @Override
        public void publish(LogRecord record)
        {
            String message = record.getMessage();
            if (message == null || !message.contains("allowed=true") || !message.contains("cmd=create\t")) {
                return;
            }
            for (String field : message.split("\t")) {
                if (field.startsWith("src=")) {
                    created.add(field.substring("src=".length()));
                }
            }
        }

        long created(String pathPrefix)
        {
            return created.stream().filter(path -> path.startsWith(pathPrefix)).count();
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    }

    /**
     * The namenode's HTTP address (WebHDFS), {@code webhdfs://127.0.0.1:port}.
     */
    public URI webHdfsUri()
    {
        return URI.create("webhdfs://127.0.0.1:" + cluster.getNameNode().getHttpAddress().getPort());
    }

    /**
     * A core-site.xml with {@code fs.defaultFS} naming this cluster.
     */
    public Path coreSite()
    {
        return coreSite;
    }

    /**
     * A plain client for tests to look at and change what is stored behind Spoolex's back; the caller closes it.
     */
    public FileSystem newClient()
    {
        try {
            return FileSystem.newInstance(uri(), new Configuration());
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes a Hadoop configuration file with these properties.
     */
    public static void writeConfiguration(Path file, Map<String, String> properties)
            throws IOException
    {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\"?>\n<configuration>\n");
        properties.forEach((name, value) -> xml.append("  <property><name>%s</name><value>%s</value></property>\n".formatted(name, value)));
        xml.append("</configuration>\n");
        Files.writeString(file, xml, UTF_8);
    }

    private void stop()
    {
        cluster.shutdown(true);
        try {
            MoreFiles.deleteRecursively(directory, ALLOW_INSECURE);
        }
        catch (IOException _) {
            // a temporary directory under target/: the next clean removes it
        }
    }
}
