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
import io.airlift.configuration.AbstractConfigurationAwareModule;
import io.spoolex.config.ExchangeConfig;
import io.spoolex.storage.SpoolStorage;

import static io.airlift.configuration.ConfigBinder.configBinder;
import static java.util.Objects.requireNonNull;

/**
 * The storage for {@code s3://} and {@code gs://} base directories. Binding {@link S3StorageConfig} only here makes
 * the {@code exchange.s3.*} properties unknown (and so rejected) under any other scheme.
 */
public class S3StorageModule
        extends AbstractConfigurationAwareModule
{
    private final S3Dialect dialect;

    public S3StorageModule(S3Dialect dialect)
    {
        this.dialect = requireNonNull(dialect, "dialect is null");
    }

    @Override
    protected void setup(Binder binder)
    {
        configBinder(binder).bindConfig(S3StorageConfig.class);
        S3StorageConfig config = buildConfigObject(S3StorageConfig.class);
        // s3:// without exchange.s3.region and exchange.s3.endpoint: S3ClientPool looks for the region as the SDK does
        ExchangeConfig exchangeConfig = buildConfigObject(ExchangeConfig.class);
        if (exchangeConfig.getSinkMaxFileSize() != null && config.getUploadPartSize() != null) {
            // a file's stored bytes exceed its page bytes by at most ~1% (block framing, incompressible blocks)
            long largestFileBytes = exchangeConfig.getSinkMaxFileSize().toBytes() + exchangeConfig.getSinkMaxFileSize().toBytes() / 64 + exchangeConfig.getMaxPageStorageSize().toBytes();
            long parts = largestFileBytes / config.getUploadPartSize().toBytes() + 1;
            if (parts > S3MultipartWriter.MAX_PARTS) {
                binder.addError("Invalid configuration: exchange.sink-max-file-size %s needs up to %s multipart parts of exchange.s3.upload.part-size %s, more than S3's limit of %s: raise the part size or lower the file size",
                        exchangeConfig.getSinkMaxFileSize(), parts, config.getUploadPartSize(), S3MultipartWriter.MAX_PARTS);
            }
        }
        binder.bind(S3Dialect.class).toInstance(dialect);
        binder.bind(S3StorageStats.class).in(Scopes.SINGLETON);
        binder.bind(SpoolStorage.class).to(S3SpoolStorage.class).in(Scopes.SINGLETON);
    }
}
