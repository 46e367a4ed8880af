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

import io.spoolex.storage.AbstractSpoolStorageTest;
import io.spoolex.storage.SpoolStorageBackend;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The storage contract on a real HDFS (a MiniDFSCluster), two base directories at different depths. What an
 * unfinished or aborted writer leaves are its temporary files, which the suite must never find.
 */
public class TestHdfsSpoolStorage
        extends AbstractSpoolStorageTest
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
    protected SpoolStorageBackend backend()
    {
        return new HdfsStorageBackend();
    }

    @Override
    protected List<String> baseDirectories()
    {
        return List.of(cluster.uri() + "/storage-test/spool", cluster.uri() + "/storage-test/nested/spool");
    }

    @Override
    protected Map<String, String> backendProperties()
    {
        return Map.of("hdfs.config.resources", cluster.coreSite().toString());
    }

    @Override
    protected List<String> uploadsInProgress(URI directory)
    {
        List<String> temporary = new ArrayList<>();
        try {
            RemoteIterator<LocatedFileStatus> files = client.listFiles(new Path(directory), true);
            while (files.hasNext()) {
                String name = files.next().getPath().toString();
                if (name.contains(".tmp-")) {
                    temporary.add(name);
                }
            }
        }
        catch (FileNotFoundException _) {
            // deleted: nothing in progress
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return temporary;
    }
}
