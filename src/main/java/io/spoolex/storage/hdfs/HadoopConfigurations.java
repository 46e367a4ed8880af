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

import io.trino.spi.TrinoException;
import io.trino.spi.classloader.ThreadContextClassLoader;
import org.apache.hadoop.conf.Configuration;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.spoolex.storage.hdfs.HdfsStorageConfig.CONFIG_RESOURCES;
import static io.trino.spi.StandardErrorCode.CONFIGURATION_INVALID;

/**
 * The Hadoop configuration of the {@code hdfs} exchange manager: Hadoop's defaults, then the files of
 * {@code hdfs.config.resources} in order, as Hadoop's own client reads core-site.xml and hdfs-site.xml. Classes and
 * resources it names resolve in this plugin's class loader, not in whatever thread happens to use it.
 */
final class HadoopConfigurations
{
    private HadoopConfigurations() {}

    /**
     * Fails, naming the file, if one of them is missing, unreadable or not a Hadoop configuration file.
     */
    static Configuration load(List<Path> resources)
    {
        ClassLoader classLoader = HadoopConfigurations.class.getClassLoader();
        try (ThreadContextClassLoader _ = new ThreadContextClassLoader(classLoader)) {
            Configuration configuration = new Configuration();
            configuration.setClassLoader(classLoader);
            for (Path resource : resources) {
                checkReadable(resource);
                // Hadoop skips a file it cannot find and fails on a bad one without naming it: read each alone first
                org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(resource.toAbsolutePath().toUri());
                try {
                    Configuration alone = new Configuration(false);
                    alone.setClassLoader(classLoader);
                    alone.addResource(path);
                    alone.size();
                }
                catch (RuntimeException e) {
                    throw invalid("%s is not a Hadoop configuration file: %s".formatted(resource, e.getMessage()), e);
                }
                configuration.addResource(path);
            }
            // read now, not in the middle of a query
            configuration.size();
            return configuration;
        }
    }

    private static void checkReadable(Path resource)
    {
        if (!Files.exists(resource)) {
            throw invalid("%s does not exist".formatted(resource), null);
        }
        if (!Files.isRegularFile(resource)) {
            throw invalid("%s is not a file".formatted(resource), null);
        }
        if (!Files.isReadable(resource)) {
            throw invalid("%s is not readable".formatted(resource), null);
        }
    }

    private static TrinoException invalid(String message, Throwable cause)
    {
        return new TrinoException(CONFIGURATION_INVALID, "Invalid configuration property %s: %s".formatted(CONFIG_RESOURCES, message), cause);
    }
}
