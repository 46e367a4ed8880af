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
package io.spoolex.storage.azure;

import io.spoolex.config.BaseDirectories;
import io.spoolex.storage.SpoolStorageBackend;
import io.spoolex.storage.SpoolStorageModule;

import java.util.Set;

/**
 * Azure Blob Storage and ADLS Gen2: {@code abfs://} and {@code abfss://} base directories (both over HTTPS unless the
 * configured endpoint says otherwise, as in Trino).
 */
public final class AzureStorageBackend
        implements SpoolStorageBackend
{
    @Override
    public Set<String> schemes()
    {
        return Set.of("abfs", "abfss");
    }

    @Override
    public SpoolStorageModule module(BaseDirectories baseDirectories)
    {
        return new AzureStorageModule(baseDirectories);
    }
}
