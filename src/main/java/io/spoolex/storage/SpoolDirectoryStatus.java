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

import java.net.URI;
import java.time.Instant;
import java.util.Optional;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * A directory directly below a base directory, as one delimiter listing shows it. {@code lastModified} is known only
 * where directories exist of their own (local and shared file systems, HDFS, ADLS Gen2); an object store's
 * "directory" is a key prefix without a time.
 */
public record SpoolDirectoryStatus(URI directory, Optional<Instant> lastModified)
{
    public SpoolDirectoryStatus
    {
        requireNonNull(directory, "directory is null");
        requireNonNull(lastModified, "lastModified is null");
        checkArgument(directory.getPath() != null && directory.getPath().endsWith("/"), "not a directory URI: %s", directory);
    }

    /**
     * The directory's own name, without the path above it or the trailing slash.
     */
    public String name()
    {
        String path = directory.getPath();
        String withoutSlash = path.substring(0, path.length() - 1);
        return withoutSlash.substring(withoutSlash.lastIndexOf('/') + 1);
    }
}
