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
package io.spoolex.config;

import io.trino.spi.TrinoException;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

public class TestBaseDirectories
{
    private static final Set<String> OBJECT_STORES = Set.of("file", "s3", "gs", "abfs", "abfss");
    private static final Set<String> HDFS = Set.of("hdfs");

    @Test
    public void testLocalForms()
    {
        BaseDirectories directories = BaseDirectories.parse(List.of("/tmp/trino-exchange-manager", "file:///data/spool/", "file:/other"), OBJECT_STORES, "filesystem");
        assertThat(directories.scheme()).isEqualTo("file");
        assertThat(directories.uris()).containsExactly(
                URI.create("file:///tmp/trino-exchange-manager/"),
                URI.create("file:///data/spool/"),
                URI.create("file:/other/"));
    }

    @Test
    public void testObjectStores()
    {
        assertThat(BaseDirectories.parse(List.of("s3://trino-exchange-1/spool", "s3://trino-exchange-2/spool"), OBJECT_STORES, "filesystem").uris())
                .containsExactly(URI.create("s3://trino-exchange-1/spool/"), URI.create("s3://trino-exchange-2/spool/"));
        assertThat(BaseDirectories.parse(List.of("gs://exchange-spooling-bucket"), OBJECT_STORES, "filesystem").uris())
                .containsExactly(URI.create("gs://exchange-spooling-bucket/"));
        assertThat(BaseDirectories.parse(List.of("abfs://container_name@account_name.dfs.core.windows.net"), OBJECT_STORES, "filesystem").scheme())
                .isEqualTo("abfs");
    }

    @Test
    public void testSchemelessHdfs()
    {
        BaseDirectories directories = BaseDirectories.parse(List.of("hadoop-master:9000/exchange-spooling-directory"), HDFS, "hdfs");
        assertThat(directories.scheme()).isEqualTo("hdfs");
        assertThat(directories.uris()).containsExactly(URI.create("hdfs://hadoop-master:9000/exchange-spooling-directory/"));
    }

    @Test
    public void testDefaultFileSystem()
    {
        Optional<URI> defaultFs = Optional.of(URI.create("hdfs://namenode:8020"));
        // a bare path and hdfs:/// lie on the default file system; a URI naming a namenode keeps it
        assertThat(BaseDirectories.read(List.of("/spool/one", "hdfs:///spool/two", "hdfs://other:9000/three"), true, defaultFs).uris())
                .containsExactly(URI.create("hdfs://namenode:8020/spool/one/"), URI.create("hdfs://namenode:8020/spool/two/"), URI.create("hdfs://other:9000/three/"));
        // a default file system of another scheme takes bare paths only
        assertThat(BaseDirectories.read(List.of("/spool"), true, Optional.of(URI.create("viewfs://cluster/"))).uris())
                .containsExactly(URI.create("viewfs://cluster/spool/"));
        assertThat(BaseDirectories.read(List.of("hdfs:///spool"), true, Optional.of(URI.create("viewfs://cluster/"))).uris().getFirst().getAuthority())
                .isNull();
        // without fs.defaultFS Hadoop's default is the local file system
        assertThat(BaseDirectories.read(List.of("/spool"), true, Optional.of(URI.create("file:///"))).uris())
                .containsExactly(URI.create("file:///spool/"));
        // read checks no scheme: that is up to the exchange manager's backends
        assertThat(BaseDirectories.read(List.of("webhdfs://namenode:9870/spool"), true, defaultFs).scheme()).isEqualTo("webhdfs");
    }

    @Test
    public void testErrors()
    {
        assertThatThrownBy(() -> BaseDirectories.parse(List.of("s3://a/x", "/tmp/b"), OBJECT_STORES, "filesystem"))
                .isInstanceOf(TrinoException.class)
                .hasMessageContaining("exchange.base-directories mixes URI schemes");
        assertThatThrownBy(() -> BaseDirectories.parse(List.of("ftp://host/x"), OBJECT_STORES, "filesystem"))
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("NOT_SUPPORTED"))
                .hasMessageContaining("Scheme ftp is not supported");
        assertThatThrownBy(() -> BaseDirectories.parse(List.of("relative/dir"), OBJECT_STORES, "filesystem"))
                .hasMessageContaining("exchange.base-directories");
        assertThatThrownBy(() -> BaseDirectories.parse(List.of("s3://bad bucket/x"), OBJECT_STORES, "filesystem"))
                .hasMessageContaining("exchange.base-directories")
                .hasMessageContaining("not a valid URI");
        assertThatThrownBy(() -> BaseDirectories.parse(List.of("hdfs://nn/x"), OBJECT_STORES, "filesystem"))
                .hasMessageContaining("Scheme hdfs is not supported");
        assertThatThrownBy(() -> BaseDirectories.parse(List.of("viewfs://cluster/x"), HDFS, "hdfs"))
                .hasMessageContaining("Scheme viewfs is not supported as exchange spooling storage in exchange manager type hdfs")
                .hasMessageContaining("supported: hdfs");
    }
}
