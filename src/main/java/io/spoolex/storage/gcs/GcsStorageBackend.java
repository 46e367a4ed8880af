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

import io.spoolex.config.BaseDirectories;
import io.spoolex.storage.SpoolStorageBackend;
import io.spoolex.storage.SpoolStorageModule;

import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Google Cloud Storage ({@code gs://}) in one of two modes, chosen by the configuration ({@link GcsStorageModule}):
 * with an HMAC key in {@code exchange.s3.aws-access-key}, Trino's: data through GCS's S3-interoperability API, deletes
 * through the JSON API; without one, native: every request through the JSON API.
 */
public final class GcsStorageBackend
        implements SpoolStorageBackend
{
    public static final String SCHEME = "gs";

    private final GcsServiceFactory serviceFactory;

    public GcsStorageBackend()
    {
        this(GcsServiceFactory.DEFAULT);
    }

    private GcsStorageBackend(GcsServiceFactory serviceFactory)
    {
        this.serviceFactory = requireNonNull(serviceFactory, "serviceFactory is null");
    }

    /**
     * For tests only (no property reaches it): the JSON API's {@code Storage} service made by {@code serviceFactory}
     * from the options Spoolex configured, e.g. Google's in-memory fake, or the options pointed at a local server.
     * Without a configured key no credentials are looked up then.
     */
    public static GcsStorageBackend withServiceFactory(GcsServiceFactory serviceFactory)
    {
        return new GcsStorageBackend(serviceFactory);
    }

    @Override
    public Set<String> schemes()
    {
        return Set.of(SCHEME);
    }

    @Override
    public SpoolStorageModule module(BaseDirectories baseDirectories)
    {
        return new GcsStorageModule(baseDirectories, serviceFactory);
    }
}
