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
package io.spoolex.storage.s3;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The bulk deleter factory a module installs for its dialect, if any (bound as one instance, so that an empty one
 * needs no optional binding).
 */
public record S3BulkDeletes(Optional<S3BulkDeleter.Factory> factory)
{
    public S3BulkDeletes
    {
        requireNonNull(factory, "factory is null");
    }

    public static S3BulkDeletes none()
    {
        return new S3BulkDeletes(Optional.empty());
    }
}
