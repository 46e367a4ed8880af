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

import io.airlift.configuration.Config;
import io.airlift.configuration.ConfigDescription;
import io.airlift.configuration.ConfigSecuritySensitive;
import io.airlift.units.Duration;
import io.airlift.units.MaxDuration;
import io.airlift.units.MinDuration;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

import java.util.Optional;

import static com.google.common.base.MoreObjects.toStringHelper;
import static java.util.concurrent.TimeUnit.SECONDS;

/**
 * The properties of {@code gs://} in native mode (no HMAC key: every request through the GCS JSON API): Trino's
 * {@code exchange.gcs.*} credentials, and the two {@code exchange.s3.*} retry properties, which mean the same here.
 * The other {@code exchange.s3.*} properties have no meaning in this mode and fail the start ({@link GcsStorageModule}).
 */
public class GcsStorageConfig
{
    public static final String JSON_KEY_FILE_PATH = "exchange.gcs.json-key-file-path";
    public static final String JSON_KEY = "exchange.gcs.json-key";
    public static final String MAX_ERROR_RETRIES = "exchange.s3.max-error-retries";
    public static final String RETRY_TIME = "exchange.s3.retry-time";

    private String jsonKeyFilePath;
    private String jsonKey;
    private int maxErrorRetries = 10;
    private Duration retryTime = new Duration(30, SECONDS);

    public Optional<String> getJsonKeyFilePath()
    {
        return Optional.ofNullable(jsonKeyFilePath);
    }

    @Config(JSON_KEY_FILE_PATH)
    @ConfigDescription("GCS service-account key file (JSON); without it and exchange.gcs.json-key, application-default credentials (Workload Identity on GKE)")
    public GcsStorageConfig setJsonKeyFilePath(String jsonKeyFilePath)
    {
        this.jsonKeyFilePath = jsonKeyFilePath;
        return this;
    }

    public Optional<String> getJsonKey()
    {
        return Optional.ofNullable(jsonKey);
    }

    @Config(JSON_KEY)
    @ConfigSecuritySensitive
    @ConfigDescription("GCS service-account key as inline JSON, instead of exchange.gcs.json-key-file-path")
    public GcsStorageConfig setJsonKey(String jsonKey)
    {
        this.jsonKey = jsonKey;
        return this;
    }

    @AssertTrue(message = "exchange.gcs.json-key-file-path and exchange.gcs.json-key are mutually exclusive: set at most one")
    public boolean isJsonKeySetOnce()
    {
        return jsonKeyFilePath == null || jsonKey == null;
    }

    @Min(0)
    public int getMaxErrorRetries()
    {
        return maxErrorRetries;
    }

    @Config(MAX_ERROR_RETRIES)
    @ConfigDescription("Attempts a failing GCS request gets at least, counting the first (0 and 1 both mean one); see also exchange.s3.retry-time")
    public GcsStorageConfig setMaxErrorRetries(int maxErrorRetries)
    {
        this.maxErrorRetries = maxErrorRetries;
        return this;
    }

    public int maxAttempts()
    {
        return Math.max(1, maxErrorRetries);
    }

    @NotNull
    @MinDuration("0s")
    @MaxDuration("1h")
    public Duration getRetryTime()
    {
        return retryTime;
    }

    @Config(RETRY_TIME)
    @ConfigDescription("How long after its first failure a GCS request that fails with a retryable error (429, 408, 5xx, connection failures) is still retried")
    public GcsStorageConfig setRetryTime(Duration retryTime)
    {
        this.retryTime = retryTime;
        return this;
    }

    @Override
    public String toString()
    {
        // never the inline key: this may end up in logs
        return toStringHelper(this)
                .omitNullValues()
                .add("jsonKeyFilePath", jsonKeyFilePath)
                .add("jsonKey", jsonKey == null ? null : "***")
                .add("maxErrorRetries", maxErrorRetries)
                .add("retryTime", retryTime)
                .toString();
    }
}
