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
package io.spoolex.storage.gcs;

import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.BlobInfo;
import com.google.cloud.storage.Storage;
import com.google.common.collect.ImmutableList;
import io.spoolex.exchange.AbstractExchangeContractTest;
import io.spoolex.exchange.SpoolexExchangeManagerFactory;
import io.spoolex.storage.SpoolStorageBackend;
import io.trino.spi.exchange.ExchangeManagerFactory;

import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * The exchange contract on the native {@code gs://} mode against Google's in-memory fake ({@link GcsFake}), two buckets
 * as base directories at different depths.
 */
public class TestGcsExchangeContract
        extends AbstractExchangeContractTest
{
    private static final List<String> BUCKETS = List.of("spoolex-contract-one", "spoolex-contract-two");

    private final GcsFake fake = GcsFake.create();

    private Storage storage()
    {
        return fake.testStorage();
    }

    @Override
    protected ExchangeManagerFactory exchangeManagerFactory()
    {
        return new SpoolexExchangeManagerFactory("filesystem", List.of((SpoolStorageBackend) fake.backend()));
    }

    @Override
    protected Map<String, String> storageProperties()
    {
        return Map.of("exchange.base-directories", "gs://%s/spool,gs://%s/nested/spool".formatted(BUCKETS.get(0), BUCKETS.get(1)));
    }

    @Override
    protected List<URI> listStoredFiles()
    {
        ImmutableList.Builder<URI> files = ImmutableList.builder();
        for (String bucket : BUCKETS) {
            for (Blob blob : storage().list(bucket).iterateAll()) {
                files.add(new GcsLocation(bucket, blob.getName()).toUri());
            }
        }
        return files.build();
    }

    @Override
    protected byte[] readStoredFile(URI file)
    {
        return storage().readAllBytes(GcsLocation.of(file).blobId());
    }

    @Override
    protected void writeStoredFile(URI file, byte[] content)
    {
        storage().create(BlobInfo.newBuilder(GcsLocation.of(file).blobId()).build(), content);
    }

    @Override
    protected void deleteStoredFile(URI file)
    {
        storage().delete(GcsLocation.of(file).blobId());
    }

    @Override
    protected void cleanUpStorage()
    {
        for (URI file : listStoredFiles()) {
            GcsLocation location = GcsLocation.of(file);
            storage().delete(BlobId.of(location.bucket(), location.name()));
        }
    }
}
