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

import static java.util.Objects.requireNonNull;

/**
 * A stored file as a listing shows it; {@code lastModified} is when it was written (the object's creation or last
 * modification time as the storage keeps it), empty where the storage did not say.
 */
public record SpoolFileStatus(URI file, long bytes, Optional<Instant> lastModified)
{
    public SpoolFileStatus
    {
        requireNonNull(file, "file is null");
        requireNonNull(lastModified, "lastModified is null");
    }
}
