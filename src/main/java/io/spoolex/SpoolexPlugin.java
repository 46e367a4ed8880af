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
package io.spoolex;

import com.google.common.collect.ImmutableList;
import io.spoolex.exchange.SpoolexExchangeManagerFactory;
import io.spoolex.storage.azure.AzureStorageBackend;
import io.spoolex.storage.gcs.GcsStorageBackend;
import io.spoolex.storage.local.LocalStorageBackend;
import io.spoolex.storage.s3.S3StorageBackend;
import io.trino.spi.Plugin;
import io.trino.spi.exchange.ExchangeManagerFactory;

/**
 * The Trino plugin of {@code plugin/exchange-filesystem/}: registers the {@code filesystem} exchange manager with
 * the storage backends it offers (local and shared file systems; S3, S3-compatible stores and GCS through its S3 API; Azure Blob Storage and
 * ADLS Gen2).
 */
public class SpoolexPlugin
        implements Plugin
{
    public static final String FILESYSTEM_FACTORY = "filesystem";

    @Override
    public Iterable<ExchangeManagerFactory> getExchangeManagerFactories()
    {
        return ImmutableList.of(new SpoolexExchangeManagerFactory(FILESYSTEM_FACTORY, ImmutableList.of(new LocalStorageBackend(), new S3StorageBackend(), new GcsStorageBackend(), new AzureStorageBackend())));
    }
}
