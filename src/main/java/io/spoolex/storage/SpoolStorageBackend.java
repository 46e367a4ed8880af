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
package io.spoolex.storage;

import io.spoolex.config.BaseDirectories;

import java.net.URI;
import java.util.Optional;
import java.util.Set;

/**
 * One storage backend as the exchange manager sees it: the URI schemes of the base directories it stores to, and
 * the Guice module that binds its {@link SpoolStorage}. The module is installed only when the configured base
 * directories have one of those schemes, so a backend's configuration class, statistics and clients exist only then,
 * and another backend's properties stay unused (which fails the start, naming them).
 * <p>
 * A backend module binds {@link SpoolStorage} as a singleton, binds its own {@code @Config} class, exports its JMX
 * beans with {@code ExportBinder.newExporter(binder).export(...).withGeneratedName()}, and may add configuration
 * errors about the base directories with {@code binder.addError}.
 * <p>
 * Which directories a backend takes is fixed by {@link #schemes()} for most backends. One whose storage has a
 * configuration of its own that decides it (HDFS: the Hadoop XML files of {@code hdfs.config.resources}) answers
 * {@link #defaultFileSystem} and {@link #admitsScheme} from that configuration; the exchange manager's module asks
 * them before it reads and checks the base directories.
 */
public interface SpoolStorageBackend
{
    /**
     * Lower-case URI schemes this backend serves, e.g. {@code s3}. A scheme belongs to one backend of a factory.
     */
    Set<String> schemes();

    /**
     * Where base directories that name no file system lie, by this backend's own configuration: a bare absolute path,
     * and a URI of that file system's scheme without authority (HDFS: {@code fs.defaultFS}, so that {@code /spool} and
     * {@code hdfs:///spool} mean what they mean to Hadoop). Empty, the default: a bare path is a local directory.
     * At most one backend of a factory may answer. Fails with a {@code TrinoException} naming the property that
     * cannot be read.
     */
    default Optional<URI> defaultFileSystem(ConfigReader config)
    {
        return Optional.empty();
    }

    /**
     * Whether this backend also serves base directories of {@code scheme}, which is none of {@link #schemes()} and
     * no other backend's, because its own configuration says so (HDFS: any Hadoop-compatible file system with
     * {@code exchange.hdfs.skip-directory-scheme-validation=true}). False by default: the scheme is not supported.
     */
    default boolean admitsScheme(String scheme, ConfigReader config)
    {
        return false;
    }

    /**
     * The module for these base directories, whose scheme is one of {@link #schemes()} or one {@link #admitsScheme} admitted.
     */
    SpoolStorageModule module(BaseDirectories baseDirectories);
}
