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

import com.google.common.collect.ImmutableSortedSet;
import com.google.inject.Binder;
import com.google.inject.Scopes;
import io.airlift.log.Logger;
import io.spoolex.config.BaseDirectories;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.SpoolStorageModule;
import io.spoolex.storage.StorageWriteLimits;
import io.spoolex.storage.s3.S3BulkDeleter;
import io.spoolex.storage.s3.S3BulkDeletes;
import io.spoolex.storage.s3.S3Dialect;
import io.spoolex.storage.s3.S3StorageConfig;
import io.spoolex.storage.s3.S3StorageModule;

import java.net.URI;
import java.util.Optional;
import java.util.Set;

import static io.airlift.configuration.ConfigBinder.configBinder;
import static io.spoolex.config.BaseDirectories.PROPERTY;
import static java.util.Objects.requireNonNull;
import static org.weakref.jmx.guice.ExportBinder.newExporter;

/**
 * The storage of {@code gs://} base directories, in the mode the configuration asks for:
 * <ul>
 * <li>an HMAC key ({@code exchange.s3.aws-access-key}, {@code exchange.s3.aws-secret-key}): Trino's configuration, the
 * S3 backend's module with the GCS dialect, its deletes in JSON-API batches with the {@code exchange.gcs.*}
 * credentials (or application-default ones), one S3 delete per object if there are none;</li>
 * <li>no HMAC key: the native mode, {@link GcsSpoolStorage}. Of the {@code exchange.s3.*} properties only the retry
 * settings mean something there; any other fails the start, naming it.</li>
 * </ul>
 */
public class GcsStorageModule
        extends SpoolStorageModule
{
    private static final Logger log = Logger.get(GcsStorageModule.class);

    /**
     * The {@code exchange.s3.*} properties the native mode takes: they mean there what they mean for S3.
     */
    static final Set<String> NATIVE_S3_PROPERTIES = Set.of(GcsStorageConfig.MAX_ERROR_RETRIES, GcsStorageConfig.RETRY_TIME);

    private final BaseDirectories baseDirectories;
    private final GcsServiceFactory serviceFactory;

    public GcsStorageModule(BaseDirectories baseDirectories, GcsServiceFactory serviceFactory)
    {
        this.baseDirectories = requireNonNull(baseDirectories, "baseDirectories is null");
        this.serviceFactory = requireNonNull(serviceFactory, "serviceFactory is null");
    }

    @Override
    protected StorageWriteLimits setupStorage(Binder binder)
    {
        if (getProperty(S3StorageConfig.ACCESS_KEY).isPresent() || getProperty(S3StorageConfig.SECRET_KEY).isPresent()) {
            return setupInteroperabilityMode(binder);
        }
        return setupNativeMode(binder);
    }

    private StorageWriteLimits setupInteroperabilityMode(Binder binder)
    {
        S3StorageConfig config = buildConfigObject(S3StorageConfig.class);
        Optional<GcsCredentials> credentials = credentials(binder, config.getGcsJsonKeyFilePath(), config.getGcsJsonKey());
        S3BulkDeleter.Factory deleterFactory = s3Config -> {
            if (credentials.isEmpty()) {
                log.info("gs:// in S3-interoperability mode without GCS credentials (neither %s nor %s is set, and no application-default credentials were found): "
                        + "objects are deleted one S3 request each, not in JSON-API batches", GcsStorageConfig.JSON_KEY_FILE_PATH, GcsStorageConfig.JSON_KEY);
                return Optional.empty();
            }
            return Optional.of(new GcsS3BulkDeleter(s3Config, credentials.orElseThrow(), serviceFactory));
        };
        S3StorageModule s3 = new S3StorageModule(S3Dialect.GCS, baseDirectories, new S3BulkDeletes(Optional.of(deleterFactory)));
        install(s3);
        log.info("gs:// mode: S3 interoperability (HMAC key of %s), deletes through the GCS JSON API, credentials: %s",
                S3StorageConfig.ACCESS_KEY,
                credentials.map(Object::toString).orElse("none found"));
        return s3.writeLimits();
    }

    private StorageWriteLimits setupNativeMode(Binder binder)
    {
        configBinder(binder).bindConfig(GcsStorageConfig.class);
        for (URI directory : baseDirectories.uris()) {
            try {
                GcsLocation.of(directory);
            }
            catch (IllegalArgumentException e) {
                binder.addError("Invalid configuration: %s: '%s' names no bucket (expected gs://bucket/prefix)", PROPERTY, directory);
            }
        }
        Set<String> meaningless = getProperties().keySet().stream()
                .filter(property -> property.startsWith("exchange.s3.") && !NATIVE_S3_PROPERTIES.contains(property))
                .collect(ImmutableSortedSet.toImmutableSortedSet(String::compareTo));
        for (String property : meaningless) {
            binder.addError("Invalid configuration: %s has no meaning for gs:// without an HMAC key (native mode: every request goes through the GCS JSON API); "
                    + "remove it, or set %s and %s for the S3-interoperability mode", property, S3StorageConfig.ACCESS_KEY, S3StorageConfig.SECRET_KEY);
        }
        GcsStorageConfig config = buildConfigObject(GcsStorageConfig.class);
        Optional<GcsCredentials> credentials = credentials(binder, config.getJsonKeyFilePath(), config.getJsonKey());
        if (credentials.isEmpty()) {
            binder.addError("Invalid configuration: gs:// without an HMAC key sends every request through the GCS JSON API, and no credentials were found for it: "
                    + "set %s or %s, or provide application-default credentials (GOOGLE_APPLICATION_CREDENTIALS, or Workload Identity on GKE)", GcsStorageConfig.JSON_KEY_FILE_PATH, GcsStorageConfig.JSON_KEY);
        }
        log.info("gs:// mode: native (no HMAC key: every request through the GCS JSON API), credentials: %s", credentials.map(Object::toString).orElse("none found"));
        binder.bind(GcsCredentials.class).toInstance(credentials.orElseGet(GcsCredentials::none));
        binder.bind(GcsServiceFactory.class).toInstance(serviceFactory);
        binder.bind(GcsStorageStats.class).in(Scopes.SINGLETON);
        newExporter(binder).export(GcsStorageStats.class).withGeneratedName();
        binder.bind(SpoolStorage.class).to(GcsSpoolStorage.class).in(Scopes.SINGLETON);
        // a resumable upload takes writes of any size and number; the library sends them in chunks
        return StorageWriteLimits.unlimited(GcsSpoolStorage.WRITE_BYTES);
    }

    /**
     * The configured key, else (with the default service) the application-default credentials; a key that cannot be
     * used is a configuration error naming its property.
     */
    private Optional<GcsCredentials> credentials(Binder binder, Optional<String> keyFilePath, Optional<String> inlineKey)
    {
        try {
            Optional<GcsCredentials> configured = GcsCredentials.fromKey(keyFilePath, inlineKey);
            if (configured.isPresent()) {
                return configured;
            }
        }
        catch (GcsCredentials.InvalidKeyException e) {
            binder.addError(e.getMessage());
            return Optional.of(GcsCredentials.none());
        }
        if (serviceFactory != GcsServiceFactory.DEFAULT) {
            // a service a test handed in: never look for credentials of the machine
            return Optional.of(GcsCredentials.none());
        }
        return GcsCredentials.applicationDefault();
    }
}
