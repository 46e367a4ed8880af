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

import io.spoolex.config.BaseDirectories;
import io.spoolex.storage.SpoolStorageBackend;
import io.spoolex.storage.SpoolStorageModule;

import java.util.Set;

/**
 * AWS S3 and S3-compatible stores ({@code s3://}). Google Cloud Storage ({@code gs://}) is the GCS backend's, which
 * installs this package's module for its S3-interoperability mode.
 */
public final class S3StorageBackend
        implements SpoolStorageBackend
{
    @Override
    public Set<String> schemes()
    {
        return Set.of("s3");
    }

    @Override
    public SpoolStorageModule module(BaseDirectories baseDirectories)
    {
        return new S3StorageModule(S3Dialect.S3, baseDirectories);
    }
}
