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

import com.google.inject.Binder;
import com.google.inject.Scopes;
import io.spoolex.config.BaseDirectories;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.SpoolStorageModule;
import io.spoolex.storage.StorageWriteLimits;
import software.amazon.awssdk.regions.Region;

import java.net.URI;
import java.util.regex.Pattern;

import static io.airlift.configuration.ConfigBinder.configBinder;
import static io.spoolex.config.BaseDirectories.PROPERTY;
import static java.lang.Math.toIntExact;
import static java.util.Objects.requireNonNull;
import static org.weakref.jmx.guice.ExportBinder.newExporter;

/**
 * The storage for {@code s3://} base directories, and for {@code gs://} ones in GCS's S3-interoperability mode
 * (installed by the GCS backend's module, with its JSON-API bulk deleter). Binding {@link S3StorageConfig} only here makes
 * the {@code exchange.s3.*} properties unknown (and so rejected) under any other scheme.
 */
public class S3StorageModule
        extends SpoolStorageModule
{
    private static final Pattern REGION_NAME = Pattern.compile("[a-z0-9]+(-[a-z0-9]+)*");
    /**
     * Every AWS region so far: two letters, one or more words, a number ({@code ap-southeast-7}, {@code us-isob-east-1}).
     */
    private static final Pattern AWS_REGION_NAME = Pattern.compile("[a-z]{2}(-[a-z]+)+-[0-9]+");

    private final S3Dialect dialect;
    private final BaseDirectories baseDirectories;
    private final S3BulkDeletes bulkDeletes;

    public S3StorageModule(S3Dialect dialect, BaseDirectories baseDirectories)
    {
        this(dialect, baseDirectories, S3BulkDeletes.none());
    }

    /**
     * @param bulkDeletes how a dialect without DeleteObjects deletes in bulk (GCS: its JSON API), or none
     */
    public S3StorageModule(S3Dialect dialect, BaseDirectories baseDirectories, S3BulkDeletes bulkDeletes)
    {
        this.dialect = requireNonNull(dialect, "dialect is null");
        this.baseDirectories = requireNonNull(baseDirectories, "baseDirectories is null");
        this.bulkDeletes = requireNonNull(bulkDeletes, "bulkDeletes is null");
    }

    /**
     * A region is signed into every request's credential scope, so it must be a name (letters, digits, hyphens).
     * Without an endpoint it also picks AWS's endpoint, so for {@code s3://} it must look like an AWS region
     * ({@code us-east-1}, {@code eu-central-2}, {@code us-gov-west-1}); anything else would fail every request.
     */
    private void checkRegion(Binder binder, String region, boolean endpointSet)
    {
        if (!REGION_NAME.matcher(region).matches()) {
            binder.addError("Invalid configuration: %s: '%s' is not a region name (letters, digits and hyphens, such as us-east-1)", S3StorageConfig.REGION, region);
            return;
        }
        if (dialect == S3Dialect.S3 && !endpointSet && !AWS_REGION_NAME.matcher(region).matches() && !Region.regions().contains(Region.of(region))) {
            binder.addError("Invalid configuration: %s: '%s' is not an AWS region (such as us-east-1); for an S3-compatible store with regions of its own, set %s too", S3StorageConfig.REGION, region, S3StorageConfig.ENDPOINT);
        }
    }

    @Override
    protected StorageWriteLimits setupStorage(Binder binder)
    {
        configBinder(binder).bindConfig(S3StorageConfig.class);
        for (URI directory : baseDirectories.uris()) {
            try {
                S3Location.of(directory);
            }
            catch (IllegalArgumentException e) {
                binder.addError("Invalid configuration: %s: '%s' names no bucket (expected %s://bucket/prefix)", PROPERTY, directory, directory.getScheme());
            }
        }
        S3StorageConfig config = buildConfigObject(S3StorageConfig.class);
        config.getRegion().ifPresent(region -> checkRegion(binder, region, config.getEndpoint().isPresent()));
        binder.bind(S3Dialect.class).toInstance(dialect);
        binder.bind(S3BulkDeletes.class).toInstance(bulkDeletes);
        binder.bind(S3StorageStats.class).in(Scopes.SINGLETON);
        newExporter(binder).export(S3StorageStats.class).withGeneratedName();
        binder.bind(SpoolStorage.class).to(S3SpoolStorage.class).in(Scopes.SINGLETON);

        // multipart parts of exchange.s3.upload.part-size, within S3's limits on parts
        int partBytes = toIntExact(config.getUploadPartSize().toBytes());
        return new StorageWriteLimits(partBytes, S3StorageConfig.UPLOAD_PART_SIZE, S3MultipartWriter.MIN_PART_BYTES, S3MultipartWriter.MAX_PART_BYTES, S3MultipartWriter.MAX_PARTS, 1);
    }
}
