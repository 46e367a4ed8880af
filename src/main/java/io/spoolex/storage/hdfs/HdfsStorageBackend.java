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

import io.spoolex.config.BaseDirectories;
import io.spoolex.storage.ConfigReader;
import io.spoolex.storage.SpoolStorageBackend;
import io.spoolex.storage.SpoolStorageModule;
import org.apache.hadoop.fs.FileSystem;

import java.net.URI;
import java.util.Optional;
import java.util.Set;

/**
 * HDFS ({@code hdfs://namenode:port/path}, or a nameservice of hdfs-site.xml) through Hadoop's client, configured by
 * the XML files of {@code hdfs.config.resources}. A bare path or {@code hdfs:///path} lies on {@code fs.defaultFS};
 * with {@code exchange.hdfs.skip-directory-scheme-validation=true}, any other scheme Hadoop's client serves
 * (viewfs, webhdfs, ...) is taken too.
 */
public final class HdfsStorageBackend
        implements SpoolStorageBackend
{
    public static final String SCHEME = "hdfs";

    @Override
    public Set<String> schemes()
    {
        return Set.of(SCHEME);
    }

    @Override
    public Optional<URI> defaultFileSystem(ConfigReader config)
    {
        HdfsStorageConfig hdfs = config.read(HdfsStorageConfig.class);
        return Optional.of(FileSystem.getDefaultUri(HadoopConfigurations.load(hdfs.getConfigResources())));
    }

    @Override
    public boolean admitsScheme(String scheme, ConfigReader config)
    {
        return config.read(HdfsStorageConfig.class).isSkipDirectorySchemeValidation();
    }

    @Override
    public SpoolStorageModule module(BaseDirectories baseDirectories)
    {
        return new HdfsStorageModule(baseDirectories);
    }
}
