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
package io.spoolex.storage.local;

import com.google.inject.Binder;
import com.google.inject.Scopes;
import io.spoolex.config.BaseDirectories;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.SpoolStorageBackend;
import io.spoolex.storage.SpoolStorageModule;
import io.spoolex.storage.StorageWriteLimits;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static io.spoolex.config.BaseDirectories.PROPERTY;

/**
 * Local and mounted (NFS) file systems: {@code file:} URIs and bare absolute paths.
 */
public final class LocalStorageBackend
        implements SpoolStorageBackend
{
    @Override
    public Set<String> schemes()
    {
        return Set.of("file");
    }

    @Override
    public SpoolStorageModule module(BaseDirectories baseDirectories)
    {
        return new SpoolStorageModule()
        {
            @Override
            protected StorageWriteLimits setupStorage(Binder binder)
            {
                baseDirectories.uris().forEach(directory -> checkDirectory(binder, directory));
                binder.bind(SpoolStorage.class).to(LocalSpoolStorage.class).in(Scopes.SINGLETON);
                return StorageWriteLimits.unlimited(LocalSpoolStorage.WRITE_BUFFER_BYTES);
            }
        };
    }

    /**
     * Refuses base directories that can never hold spool files; a directory that does not exist yet is created on first write.
     */
    private static void checkDirectory(Binder binder, URI directory)
    {
        if (directory.getRawAuthority() != null && !directory.getRawAuthority().isEmpty()) {
            binder.addError("Invalid configuration: %s: '%s' names a host; a local base directory is a path on this node (file:///path or /path)", PROPERTY, directory);
            return;
        }
        Path path = LocalSpoolStorage.path(directory);
        for (Path existing = path; existing != null; existing = existing.getParent()) {
            if (Files.exists(existing)) {
                if (!Files.isDirectory(existing)) {
                    binder.addError("Invalid configuration: %s: '%s' is not a directory: %s is a file", PROPERTY, directory, existing);
                }
                return;
            }
        }
    }
}
