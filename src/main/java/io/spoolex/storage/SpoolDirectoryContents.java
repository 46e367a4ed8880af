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

import com.google.common.collect.ImmutableList;

import java.net.URI;
import java.util.List;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * A directory to delete and what the caller knows lies in it: {@code files} (named by a manifest, or started by a sink
 * that has settled its writes), and below {@code unlistedDirectories} whatever is there (an attempt that never
 * committed). Nothing else may lie in it; an object store deletes exactly these objects and lists only the unlisted
 * directories.
 */
public record SpoolDirectoryContents(URI directory, List<URI> files, List<URI> unlistedDirectories)
{
    public SpoolDirectoryContents
    {
        requireNonNull(directory, "directory is null");
        files = ImmutableList.copyOf(requireNonNull(files, "files is null"));
        unlistedDirectories = ImmutableList.copyOf(requireNonNull(unlistedDirectories, "unlistedDirectories is null"));
        String prefix = directory.toString();
        checkArgument(prefix.endsWith("/"), "not a directory URI: %s", directory);
        for (URI file : files) {
            checkArgument(file.toString().startsWith(prefix) && !file.toString().endsWith("/"), "%s is not a file in %s", file, directory);
        }
        for (URI unlisted : unlistedDirectories) {
            checkArgument(unlisted.toString().startsWith(prefix) && unlisted.toString().endsWith("/"), "%s is not a directory in %s", unlisted, directory);
        }
    }

    public static SpoolDirectoryContents unknown(URI directory)
    {
        return new SpoolDirectoryContents(directory, ImmutableList.of(), ImmutableList.of(directory));
    }

    /**
     * Whether deleting it needs no listing.
     */
    public boolean fullyKnown()
    {
        return unlistedDirectories.isEmpty();
    }
}
