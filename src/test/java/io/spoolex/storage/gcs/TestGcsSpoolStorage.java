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

import io.spoolex.storage.AbstractSpoolStorageTest;
import io.spoolex.storage.SpoolStorageBackend;

import java.util.List;
import java.util.Map;

/**
 * The storage contract on the native mode (every request through the GCS JSON API) against Google's in-memory fake
 * ({@link GcsFake}), two buckets as base directories. What the fake cannot do (batch requests: deletes go one
 * request each here) is covered at request level by {@link TestGcsRequests}.
 */
public class TestGcsSpoolStorage
        extends AbstractSpoolStorageTest
{
    private final GcsFake fake = GcsFake.create();

    @Override
    protected SpoolStorageBackend backend()
    {
        return (SpoolStorageBackend) fake.backend();
    }

    @Override
    protected List<String> baseDirectories()
    {
        return List.of("gs://spoolex-storage-one/spool", "gs://spoolex-storage-two/nested/spool");
    }

    @Override
    protected Map<String, String> backendProperties()
    {
        return Map.of();
    }
}
