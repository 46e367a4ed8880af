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

import com.google.common.collect.ImmutableMap;
import io.airlift.slice.Slice;
import io.spoolex.SpoolexErrorCode;
import io.spoolex.exchange.ExchangeTestKit;
import io.trino.spi.ErrorType;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import io.trino.spi.exchange.ExchangeSourceHandle;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.readAll;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static io.spoolex.exchange.TestPages.page;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS;

/**
 * The {@code hdfs} exchange manager's start: Trino's configurations as operators have them (a scheme-less
 * {@code host:port/path}, {@code hdfs:///path} and bare paths on {@code fs.defaultFS}), other Hadoop file systems
 * behind {@code exchange.hdfs.skip-directory-scheme-validation}, and the errors a bad configuration fails with,
 * each naming what is wrong. An unreachable namenode does not fail the start (Trino's plugin does not contact it
 * either) but the first write, with a retryable error naming the namenode and the file.
 */
@TestInstance(PER_CLASS)
public class TestHdfsExchangeManagerStartup
{
    private HdfsMiniCluster cluster;
    private FileSystem client;
    private Path directory;

    @BeforeAll
    public void setUp()
            throws IOException
    {
        cluster = HdfsMiniCluster.shared();
        client = cluster.newClient();
        directory = Files.createTempDirectory("hdfs-startup");
    }

    @AfterAll
    public void tearDown()
            throws IOException
    {
        client.delete(new org.apache.hadoop.fs.Path("/startup"), true);
        client.close();
    }

    @Test
    public void testOperatorConfigurationWithSchemeLessHostPort()
            throws IOException
    {
        // the example of Trino's documentation (COMPAT.md): host:port/path and a core-site.xml
        String hostPort = "127.0.0.1:" + cluster.uri().getPort();
        assertRoundTrip(Map.of(
                "exchange.base-directories", hostPort + "/startup/exchange-spooling-directory",
                "hdfs.config.resources", cluster.coreSite().toString()), "/startup/exchange-spooling-directory");
    }

    @Test
    public void testDirectoriesOnDefaultFileSystem()
            throws IOException
    {
        // Trino's plugin writes to fs.defaultFS whatever the URIs say; configurations relying on that name no namenode
        assertRoundTrip(Map.of(
                "exchange.base-directories", "hdfs:///startup/no-authority,/startup/bare-path",
                "hdfs.config.resources", cluster.coreSite().toString()), "/startup/no-authority", "/startup/bare-path");
        // later files override earlier ones, as in Hadoop
        Path hdfsSite = directory.resolve("hdfs-site.xml");
        HdfsMiniCluster.writeConfiguration(hdfsSite, Map.of("dfs.client.socket-timeout", "30000"));
        assertRoundTrip(Map.of(
                "exchange.base-directories", "/startup/two-files",
                "hdfs.config.resources", cluster.coreSite() + ", " + hdfsSite), "/startup/two-files");
    }

    @Test
    public void testOtherHadoopFileSystemWithSkipFlag()
            throws IOException
    {
        String webHdfs = cluster.webHdfsUri() + "/startup/webhdfs";
        Map<String, String> properties = Map.of(
                "exchange.base-directories", webHdfs,
                "hdfs.config.resources", cluster.coreSite().toString());
        assertThatThrownBy(() -> create(properties))
                .hasMessageContaining("Scheme webhdfs is not supported")
                .hasMessageContaining("exchange manager type hdfs");
        // the same files through the namenode's WebHDFS (HTTP) interface
        assertRoundTrip(ImmutableMap.<String, String>builder()
                .putAll(properties)
                .put("exchange.hdfs.skip-directory-scheme-validation", "true")
                .buildOrThrow(), "/startup/webhdfs");
        assertThatThrownBy(() -> create(Map.of(
                "exchange.base-directories", "nosuchfs://somewhere/spool",
                "exchange.hdfs.skip-directory-scheme-validation", "true")))
                .hasMessageContaining("no Hadoop file system serves scheme nosuchfs")
                .hasMessageContaining("exchange.base-directories");
    }

    @Test
    public void testWrongSchemeFailsStartNamingIt()
    {
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", "s3://bucket/spool")))
                .hasMessageContaining("Scheme s3 is not supported as exchange spooling storage in exchange manager type hdfs")
                .hasMessageContaining("supported: hdfs");
        // a bare path without fs.defaultFS is on the local file system, which only the skip flag admits
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", "/tmp/spool")))
                .hasMessageContaining("Scheme file is not supported");
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", "hdfs://127.0.0.1:1/a,s3://bucket/b")))
                .hasMessageContaining("mixes URI schemes");
    }

    @Test
    public void testNoNamenodeFailsStart()
    {
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", "hdfs:///spool")))
                .hasMessageContaining("names no namenode")
                .hasMessageContaining("fs.defaultFS");
    }

    @Test
    public void testBadConfigResourcesFailStartNamingTheFile()
            throws IOException
    {
        Path missing = directory.resolve("missing-core-site.xml");
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", cluster.uri() + "/spool", "hdfs.config.resources", cluster.coreSite() + "," + missing)))
                .hasMessageContaining("hdfs.config.resources")
                .hasMessageContaining(missing + " does not exist");
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", "/spool", "hdfs.config.resources", directory.toString())))
                .hasMessageContaining("hdfs.config.resources")
                .hasMessageContaining(directory + " is not a file");
        Path broken = directory.resolve("broken-site.xml");
        Files.writeString(broken, "<configuration><property><name>fs.defaultFS</name>", UTF_8);
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", cluster.uri() + "/spool", "hdfs.config.resources", broken.toString())))
                .hasMessageContaining("hdfs.config.resources")
                .hasMessageContaining(broken + " is not a Hadoop configuration file");
    }

    @Test
    public void testBadPropertiesFailStartNamingThem()
    {
        String base = cluster.uri() + "/spool";
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", base, "exchange.hdfs.block-size", "3MB")))
                .hasMessageContaining("exchange.hdfs.block-size")
                .hasMessageContaining("must be greater than or equal to 4MB");
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", base, "exchange.hdfs.block-size", "257MB")))
                .hasMessageContaining("exchange.hdfs.block-size")
                .hasMessageContaining("must be less than or equal to 256MB");
        assertThatThrownBy(() -> create(Map.of("exchange.base-directories", base, "exchange.s3.region", "us-east-1")))
                .hasMessageContaining("exchange.s3.region")
                .hasMessageContaining("was not used");
        create(Map.of("exchange.base-directories", base, "exchange.hdfs.block-size", "256MB")).shutdown();
    }

    @Test
    public void testUnreachableNamenodeFailsTheWriteNamingIt()
            throws IOException
    {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        // Hadoop's client retries a refused connection ipc.client.connect.max.retries times, a second apart (10 by default)
        Path coreSite = directory.resolve("unreachable-core-site.xml");
        HdfsMiniCluster.writeConfiguration(coreSite, Map.of("ipc.client.connect.max.retries", "1", "ipc.client.connect.retry.interval", "100"));
        String namenode = "127.0.0.1:" + port;
        ExchangeManager manager = create(Map.of("exchange.base-directories", "hdfs://" + namenode + "/unreachable", "hdfs.config.resources", coreSite.toString()));
        try {
            Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
            ExchangeSinkHandle task = exchange.addSink(0);
            exchange.noMoreSinks();
            ExchangeSink sink = createSink(manager, exchange, task, 0);
            write(sink, 0, List.of(page(0, 0, 0, 0, 1000)));
            assertThatThrownBy(() -> ExchangeTestKit.finish(sink))
                    .isInstanceOfSatisfying(TrinoException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(SpoolexErrorCode.SPOOL_STORAGE_ERROR.toErrorCode());
                        assertThat(e.getErrorCode().getType()).as("retryable").isEqualTo(ErrorType.EXTERNAL);
                    })
                    .hasMessageContaining("the namenode " + namenode + " cannot be reached")
                    .hasMessageContaining("hdfs://" + namenode + "/unreachable/");
            exchange.close();
        }
        finally {
            manager.shutdown();
        }
    }

    /**
     * Writes and reads back one small exchange, checking that its files were in HDFS below {@code paths}.
     */
    private void assertRoundTrip(Map<String, String> properties, String... paths)
            throws IOException
    {
        ExchangeManager manager = create(properties);
        try {
            Exchange exchange = ExchangeTestKit.createExchange(manager, 2, false);
            List<ExchangeSinkHandle> tasks = List.of(exchange.addSink(0), exchange.addSink(1));
            exchange.noMoreSinks();
            Map<Integer, Integer> attempts = new HashMap<>();
            for (int task = 0; task < tasks.size(); task++) {
                ExchangeSink sink = createSink(manager, exchange, tasks.get(task), 0);
                for (int partition = 0; partition < 2; partition++) {
                    write(sink, partition, List.of(page(task, 0, partition, 0, 300_000), page(task, 0, partition, 1, 10)));
                }
                ExchangeTestKit.finish(sink);
                exchange.sinkFinished(tasks.get(task), 0);
                attempts.put(task, 0);
            }
            for (String path : paths) {
                assertThat(client.listFiles(new org.apache.hadoop.fs.Path(path), true).hasNext()).as("files below %s", path).isTrue();
            }
            List<ExchangeSourceHandle> handles = sourceHandles(exchange);
            List<Slice> read = readAll(manager, handles, finalSelector(exchange.getId(), attempts, tasks.size()));
            assertThat(read).hasSize(8).contains(page(1, 0, 1, 0, 300_000));
            exchange.close();
        }
        finally {
            manager.shutdown();
        }
    }

    private static ExchangeManager create(Map<String, String> properties)
    {
        return ExchangeTestKit.hdfsFactory().create(properties, new ExchangeManagerContext() {});
    }
}
