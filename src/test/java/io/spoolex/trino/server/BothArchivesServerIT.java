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

import com.google.common.collect.ImmutableMap;
import io.spoolex.storage.hdfs.HdfsMiniCluster;
import io.spoolex.trino.server.TrinoProcessCluster.Installation;
import io.spoolex.trino.server.TrinoProcessCluster.Node;
import io.spoolex.trino.server.TrinoRestClient.QueryResult;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static com.google.common.io.MoreFiles.deleteRecursively;
import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * An operator who replaces both of Trino's exchange folders: real Trino 483 server processes (a coordinator and a
 * worker) with both archives unpacked into {@code plugin/}, exactly as the install docs say. Each node must start,
 * registering {@code filesystem} and {@code hdfs} once each, and a fault-tolerant query must spool through the
 * {@code hdfs} exchange manager to a real HDFS (the MiniDFSCluster of this JVM, reached over 127.0.0.1).
 */
public class BothArchivesServerIT
{
    private static final String QUERY = "SELECT orderstatus, count(*), sum(totalprice) FROM tpch.tiny.orders GROUP BY orderstatus";

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    public void testBothArchivesStartAndHdfsSpools()
            throws Exception
    {
        Installation installation = Installation.fromSystemProperties();
        HdfsMiniCluster hdfs = HdfsMiniCluster.shared();
        java.nio.file.Path root = Files.createTempDirectory(Files.createDirectories(java.nio.file.Path.of(System.getProperty("spoolex.trino.work.dir", "target/spot-reclaim")).resolveSibling("both-archives")), "run-");
        Map<String, String> serverProperties = ImmutableMap.of(
                "retry-policy", "TASK",
                "exchange.compression-codec", "NONE",
                "external-exchange-encryption-enabled", "false",
                "fault-tolerant-execution-task-memory", "100MB");
        Map<String, String> exchangeManager = ImmutableMap.of(
                "exchange-manager.name", "hdfs",
                "exchange.base-directories", hdfs.uri() + "/server-spool",
                "hdfs.config.resources", hdfs.coreSite().toString());
        long createdBefore = hdfs.createdFiles("/server-spool/");
        boolean passed = false;
        try (TrinoProcessCluster cluster = TrinoProcessCluster.start(installation, root, 1, serverProperties, List.of(installation.spoolexArchive(), installation.hdfsArchive()), exchangeManager);
                FileSystem client = hdfs.newClient()) {
            for (Node node : cluster.nodes()) {
                assertThat(node.directory().resolve("plugin/exchange-filesystem")).isDirectory();
                assertThat(node.directory().resolve("plugin/exchange-hdfs")).isDirectory();
                String log = Files.readString(node.log(), UTF_8);
                assertThat(count(log, "Registering exchange manager filesystem")).as("%s registers filesystem once", node.nodeId()).isEqualTo(1);
                assertThat(count(log, "Registering exchange manager hdfs")).as("%s registers hdfs once", node.nodeId()).isEqualTo(1);
                assertThat(log).as("%s loads the hdfs exchange manager", node.nodeId()).contains("Loaded exchange manager hdfs");
                assertThat(log).as("%s made Spoolex's HDFS storage", node.nodeId()).contains("Spool storage: HDFS through Hadoop's client, fs.defaultFS " + hdfs.uri());
            }

            QueryResult result = cluster.client().execute(QUERY);
            assertThat(result.rows()).hasSize(3);
            assertThat(hdfs.createdFiles("/server-spool/")).as("files the query spooled to HDFS").isGreaterThan(createdBefore);
            // its exchanges closed with the query: nothing of it stays in HDFS
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (storedFiles(client) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(storedFiles(client)).isZero();
            passed = true;
        }
        finally {
            if (passed) {
                deleteRecursively(root, ALLOW_INSECURE);
            }
        }
    }

    private static long storedFiles(FileSystem client)
            throws IOException
    {
        Path spool = new Path("/server-spool");
        if (!client.exists(spool)) {
            return 0;
        }
        return client.getContentSummary(spool).getFileCount();
    }

    private static int count(String text, String fragment)
    {
        int count = 0;
        for (int index = text.indexOf(fragment); index >= 0; index = text.indexOf(fragment, index + 1)) {
            count++;
        }
        return count;
    }
}
