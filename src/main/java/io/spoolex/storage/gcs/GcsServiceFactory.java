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

import com.google.cloud.storage.HttpStorageOptions;
import com.google.cloud.storage.Storage;

/**
 * Makes the {@link Storage} service of the GCS JSON API from the options Spoolex configured (credentials, project,
 * retries). The default builds them as they are. A test hands in another through
 * {@link GcsStorageBackend#withServiceFactory}: Google's in-memory fake, or the options pointed at a local server with
 * {@code setHost}. Operators have no property for it.
 */
@FunctionalInterface
public interface GcsServiceFactory
{
    GcsServiceFactory DEFAULT = options -> options.build().getService();

    Storage create(HttpStorageOptions.Builder options);
}
