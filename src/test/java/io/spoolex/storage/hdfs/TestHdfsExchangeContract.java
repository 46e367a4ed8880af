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

import com.google.common.collect.ImmutableList;
import io.spoolex.exchange.AbstractExchangeContractTest;
import io.spoolex.exchange.ExchangeTestKit;
import io.trino.spi.exchange.ExchangeManagerFactory;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * The exchange contract through the {@code hdfs} factory on a real HDFS (a MiniDFSCluster), with two base
 * directories: one a full {@code hdfs://} URI, the other a bare path on {@code fs.defaultFS}, as Trino's
 * configurations have it. The test looks at what is stored with its own Hadoop client.
 */
public class TestHdfsExchangeContract
        extends AbstractExchangeContractTest
{
    private static HdfsMiniCluster cluster;
    private static FileSystem client;

    @BeforeAll
    public static void startCluster()
    {
        cluster = HdfsMiniCluster.shared();
        client = cluster.newClient();
    }

    @AfterAll
    public static void closeClient()
            throws IOException
    {
        client.close();
    }

    @Override
    protected ExchangeManagerFactory exchangeManagerFactory()
    {
        return ExchangeTestKit.hdfsFactory();
    }

    @Override
    protected Map<String, String> storageProperties()
    {
        return Map.of(
                "exchange.base-directories", cluster.uri() + "/contract/one,/contract/nested/two",
                "hdfs.config.resources", cluster.coreSite().toString());
    }

    private List<Path> roots()
    {
        return List.of(new Path(cluster.uri() + "/contract/one"), new Path(cluster.uri() + "/contract/nested/two"));
    }

    @Override
    protected List<URI> listStoredFiles()
    {
        ImmutableList.Builder<URI> files = ImmutableList.builder();
        for (Path root : roots()) {
            try {
                RemoteIterator<LocatedFileStatus> listing = client.listFiles(root, true);
                while (listing.hasNext()) {
                    files.add(listing.next().getPath().toUri());
                }
            }
            catch (FileNotFoundException _) {
                // nothing stored there (yet, or any more)
            }
            catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files.build();
    }

    @Override
    protected byte[] readStoredFile(URI file)
    {
        try (FSDataInputStream input = client.open(new Path(file))) {
            return input.readAllBytes();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected void writeStoredFile(URI file, byte[] content)
    {
        try (FSDataOutputStream output = client.create(new Path(file), true)) {
            output.write(content);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected void deleteStoredFile(URI file)
    {
        try {
            client.delete(new Path(file), false);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected void cleanUpStorage()
    {
        try {
            client.delete(new Path(cluster.uri() + "/contract"), true);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
