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

import com.google.common.base.Splitter;
import com.google.common.collect.ImmutableList;
import io.airlift.configuration.Config;
import io.airlift.configuration.ConfigDescription;
import io.airlift.units.DataSize;
import io.airlift.units.MaxDataSize;
import io.airlift.units.MinDataSize;
import jakarta.validation.constraints.NotNull;

import java.nio.file.Path;
import java.util.List;

import static com.google.common.base.MoreObjects.toStringHelper;
import static com.google.common.collect.ImmutableList.toImmutableList;
import static io.airlift.units.DataSize.Unit.MEGABYTE;

/**
 * The properties of Trino 483's {@code hdfs} exchange manager, with its names, defaults and bounds. Whether the
 * files of {@code hdfs.config.resources} can be read is checked by {@link HdfsStorageModule}, which names the file.
 */
public class HdfsStorageConfig
{
    public static final String CONFIG_RESOURCES = "hdfs.config.resources";
    public static final String BLOCK_SIZE = "exchange.hdfs.block-size";
    public static final String SKIP_DIRECTORY_SCHEME_VALIDATION = "exchange.hdfs.skip-directory-scheme-validation";

    private List<Path> configResources = ImmutableList.of();
    private DataSize blockSize = DataSize.of(4, MEGABYTE);
    private boolean skipDirectorySchemeValidation;

    @NotNull
    public List<Path> getConfigResources()
    {
        return configResources;
    }

    @Config(CONFIG_RESOURCES)
    @ConfigDescription("Comma-separated Hadoop configuration files (core-site.xml, hdfs-site.xml), read in order; later files override earlier ones")
    public HdfsStorageConfig setConfigResources(String configResources)
    {
        this.configResources = configResources == null
                ? ImmutableList.of()
                : Splitter.on(',').trimResults().omitEmptyStrings().splitToStream(configResources).map(Path::of).collect(toImmutableList());
        return this;
    }

    @NotNull
    @MinDataSize("4MB")
    @MaxDataSize("256MB")
    public DataSize getBlockSize()
    {
        return blockSize;
    }

    @Config(BLOCK_SIZE)
    @ConfigDescription("Bytes a sink collects before it writes them to HDFS, and the size of its write buffers (not the HDFS block size, dfs.blocksize)")
    public HdfsStorageConfig setBlockSize(DataSize blockSize)
    {
        this.blockSize = blockSize;
        return this;
    }

    public boolean isSkipDirectorySchemeValidation()
    {
        return skipDirectorySchemeValidation;
    }

    @Config(SKIP_DIRECTORY_SCHEME_VALIDATION)
    @ConfigDescription("Accept base directories of any Hadoop-compatible file system, not only hdfs://")
    public HdfsStorageConfig setSkipDirectorySchemeValidation(boolean skipDirectorySchemeValidation)
    {
        this.skipDirectorySchemeValidation = skipDirectorySchemeValidation;
        return this;
    }

    @Override
    public String toString()
    {
        return toStringHelper(this)
                .add("configResources", configResources)
                .add("blockSize", blockSize)
                .add("skipDirectorySchemeValidation", skipDirectorySchemeValidation)
                .toString();
    }
}
