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
package io.spoolex.plugin;

import io.spoolex.plugin.PluginArchive.BuiltArchive;
import io.spoolex.plugin.PluginArchive.LoadedPlugin;
import io.trino.spi.exchange.ExchangeManagerFactory;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The two archives as a server sees them: each folder registers one exchange manager name, so both can replace
 * Trino's two folders side by side, and each carries only the storage clients it uses. Hadoop's client must not be
 * on the filesystem plugin's class path (nor the AWS SDK on the hdfs plugin's).
 */
public class PluginArchivesIT
{
    @Test
    public void testFilesystemArchiveRegistersOnlyFilesystemWithoutHadoop()
    {
        PluginArchive archive = PluginArchive.unpackBuiltArchive(BuiltArchive.EXCHANGE_FILESYSTEM);
        assertThat(archive.pluginName()).isEqualTo("exchange-filesystem");
        assertThat(names(archive.files())).noneMatch(name -> name.startsWith("org.apache.hadoop"));
        assertThat(names(archive.files())).anyMatch(name -> name.startsWith("software.amazon.awssdk_s3-"));
        assertThat(names(archive.files())).anyMatch(name -> name.startsWith("com.azure_azure-storage-blob-"));
        assertThat(names(archive.files())).anyMatch(name -> name.startsWith("com.google.cloud_google-cloud-storage-"));
        // GCS goes through the HTTP JSON client only: none of the gRPC transport's jars
        assertThat(names(archive.files())).noneMatch(name -> name.startsWith("io.grpc_grpc-netty") || name.startsWith("io.grpc_grpc-xds") || name.startsWith("io.grpc_grpc-core")
                || name.startsWith("org.conscrypt") || name.startsWith("com.google.api_gax-grpc") || name.contains("google-cloud-storage-v2") || name.startsWith("com.google.cloud_google-cloud-monitoring"));
        LoadedPlugin plugin = archive.load();
        assertThat(plugin.exchangeManagerFactories()).extracting(ExchangeManagerFactory::getName).containsExactly("filesystem");
        assertThatThrownBy(() -> plugin.loadClass("org.apache.hadoop.fs.FileSystem")).hasMessageContaining("is not visible");
    }

    @Test
    public void testHdfsArchiveRegistersOnlyHdfsWithHadoop()
    {
        PluginArchive archive = PluginArchive.unpackBuiltArchive(BuiltArchive.EXCHANGE_HDFS);
        assertThat(archive.pluginName()).isEqualTo("exchange-hdfs");
        assertThat(names(archive.files())).contains("org.apache.hadoop_hadoop-client-api-3.5.0.jar", "org.apache.hadoop_hadoop-client-runtime-3.5.0.jar");
        assertThat(names(archive.files())).noneMatch(name -> name.startsWith("software.amazon") || name.startsWith("io.netty"));
        // nor the Azure SDK, which only the filesystem exchange manager's abfs:// storage uses
        assertThat(names(archive.files())).noneMatch(name -> name.startsWith("com.azure") || name.startsWith("com.microsoft.azure") || name.startsWith("io.projectreactor"));
        assertThat(names(archive.files())).noneMatch(name -> name.startsWith("com.google.cloud") || name.startsWith("com.google.auth") || name.startsWith("io.grpc"));
        LoadedPlugin plugin = archive.load();
        assertThat(plugin.exchangeManagerFactories()).extracting(ExchangeManagerFactory::getName).containsExactly("hdfs");
        assertThat(plugin.loadClass("org.apache.hadoop.fs.FileSystem").getClassLoader()).isSameAs(plugin.classLoader());
    }

    private static List<String> names(List<Path> files)
    {
        return files.stream().map(file -> file.getFileName().toString()).toList();
    }
}
