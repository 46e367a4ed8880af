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

import io.airlift.configuration.Config;
import io.airlift.configuration.ConfigDescription;
import io.airlift.configuration.ConfigSecuritySensitive;
import io.airlift.units.DataSize;
import io.airlift.units.Duration;
import io.airlift.units.MaxDataSize;
import io.airlift.units.MaxDuration;
import io.airlift.units.MinDataSize;
import io.airlift.units.MinDuration;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.services.s3.model.StorageClass;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;

import static com.google.common.base.MoreObjects.toStringHelper;
import static io.airlift.units.DataSize.Unit.MEGABYTE;
import static java.util.concurrent.TimeUnit.MINUTES;
import static java.util.concurrent.TimeUnit.SECONDS;

/**
 * The {@code exchange.s3.*} properties (and {@code exchange.gcs.*} for {@code gs://}): the names, defaults and bounds
 * of Trino 483's filesystem exchange manager, plus Spoolex's {@code exchange.s3.checksum-mode}.
 * Whether a region or an endpoint is needed depends on the scheme, so {@link S3StorageModule} checks that.
 */
public class S3StorageConfig
{
    public static final String ACCESS_KEY = "exchange.s3.aws-access-key";
    public static final String SECRET_KEY = "exchange.s3.aws-secret-key";
    public static final String IAM_ROLE = "exchange.s3.iam-role";
    public static final String EXTERNAL_ID = "exchange.s3.external-id";
    public static final String REGION = "exchange.s3.region";
    public static final String ENDPOINT = "exchange.s3.endpoint";
    public static final String SSE_TYPE = "exchange.s3.sse.type";
    public static final String SSE_KMS_KEY_ID = "exchange.s3.sse.kms-key-id";
    public static final String GCS_JSON_KEY_FILE_PATH = "exchange.gcs.json-key-file-path";
    public static final String GCS_JSON_KEY = "exchange.gcs.json-key";
    public static final String UPLOAD_PART_SIZE = "exchange.s3.upload.part-size";
    public static final String MAX_ERROR_RETRIES = "exchange.s3.max-error-retries";
    public static final String RETRY_TIME = "exchange.s3.retry-time";

    private String awsAccessKey;
    private String awsSecretKey;
    private String iamRole;
    private String externalId;
    private String region;
    private String endpoint;
    private int maxErrorRetries = 10;
    private Duration retryTime = new Duration(30, SECONDS);
    private DataSize uploadPartSize = DataSize.of(5, MEGABYTE);
    private StorageClass storageClass = StorageClass.STANDARD;
    private RetryMode retryMode = RetryMode.ADAPTIVE_V2;
    private int asyncClientConcurrency = 100;
    private int asyncClientMaxPendingConnectionAcquires = 10_000;
    private Duration asyncClientConnectionAcquisitionTimeout = new Duration(1, MINUTES);
    private boolean pathStyleAccess;
    private S3SseType sseType = S3SseType.NONE;
    private String sseKmsKeyId;
    private S3ChecksumMode checksumMode = S3ChecksumMode.WHEN_REQUIRED;
    private String gcsJsonKeyFilePath;
    private String gcsJsonKey;

    public Optional<String> getAwsAccessKey()
    {
        return Optional.ofNullable(awsAccessKey);
    }

    @Config(ACCESS_KEY)
    @ConfigDescription("Access key of static S3 credentials (for gs://, the HMAC access id); without it the default AWS credentials chain is used")
    public S3StorageConfig setAwsAccessKey(String awsAccessKey)
    {
        this.awsAccessKey = awsAccessKey;
        return this;
    }

    public Optional<String> getAwsSecretKey()
    {
        return Optional.ofNullable(awsSecretKey);
    }

    @Config(SECRET_KEY)
    @ConfigSecuritySensitive
    @ConfigDescription("Secret key of static S3 credentials (for gs://, the HMAC secret)")
    public S3StorageConfig setAwsSecretKey(String awsSecretKey)
    {
        this.awsSecretKey = awsSecretKey;
        return this;
    }

    public Optional<String> getIamRole()
    {
        return Optional.ofNullable(iamRole);
    }

    @Config(IAM_ROLE)
    @ConfigDescription("ARN of an IAM role to assume through STS, with the default credentials chain as the caller")
    public S3StorageConfig setIamRole(String iamRole)
    {
        this.iamRole = iamRole;
        return this;
    }

    public Optional<String> getExternalId()
    {
        return Optional.ofNullable(externalId);
    }

    @Config(EXTERNAL_ID)
    @ConfigDescription("External ID the IAM role's trust policy requires")
    public S3StorageConfig setExternalId(String externalId)
    {
        this.externalId = externalId;
        return this;
    }

    public Optional<String> getRegion()
    {
        return Optional.ofNullable(region);
    }

    @Config(REGION)
    @ConfigDescription("Region of the buckets (and of STS); requests are signed for it")
    public S3StorageConfig setRegion(String region)
    {
        this.region = region == null ? null : region.trim().toLowerCase(Locale.ENGLISH);
        return this;
    }

    public Optional<String> getEndpoint()
    {
        return Optional.ofNullable(endpoint);
    }

    @Config(ENDPOINT)
    @ConfigDescription("S3 endpoint URL, e.g. http://minio:9000 or https://storage.googleapis.com; default: the region's AWS endpoint")
    public S3StorageConfig setEndpoint(String endpoint)
    {
        this.endpoint = endpoint == null ? null : endpoint.trim();
        return this;
    }

    @Min(0)
    public int getMaxErrorRetries()
    {
        return maxErrorRetries;
    }

    @Config(MAX_ERROR_RETRIES)
    @ConfigDescription("Attempts a failing S3 request gets at least, counting the first (0 and 1 both mean one); see also exchange.s3.retry-time")
    public S3StorageConfig setMaxErrorRetries(int maxErrorRetries)
    {
        this.maxErrorRetries = maxErrorRetries;
        return this;
    }

    /**
     * What the SDK calls max attempts: Trino passes this property there, so 10 means one attempt and nine retries.
     */
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
    @ConfigDescription("How long after its first failure an S3 request that fails with a retryable error (throttling, 5xx, connection failures, answers cut short) is still retried: the outage a task rides out")
    public S3StorageConfig setRetryTime(Duration retryTime)
    {
        this.retryTime = retryTime;
        return this;
    }

    @NotNull
    @MinDataSize("5MB")
    @MaxDataSize("256MB")
    public DataSize getUploadPartSize()
    {
        return uploadPartSize;
    }

    @Config(UPLOAD_PART_SIZE)
    @ConfigDescription("Multipart upload part size, and the size of a sink's write buffers")
    public S3StorageConfig setUploadPartSize(DataSize uploadPartSize)
    {
        this.uploadPartSize = uploadPartSize;
        return this;
    }

    @NotNull
    public StorageClass getStorageClass()
    {
        return storageClass;
    }

    @Config("exchange.s3.storage-class")
    @ConfigDescription("Storage class of spool objects")
    public S3StorageConfig setStorageClass(StorageClass storageClass)
    {
        this.storageClass = storageClass;
        return this;
    }

    @AssertTrue(message = "exchange.s3.storage-class is not a storage class this AWS SDK knows")
    public boolean isStorageClassKnown()
    {
        return storageClass != StorageClass.UNKNOWN_TO_SDK_VERSION;
    }

    @NotNull
    public RetryMode getRetryMode()
    {
        return retryMode;
    }

    @Config("exchange.s3.retry-mode")
    @ConfigDescription("AWS SDK retry strategy: LEGACY, STANDARD, ADAPTIVE or ADAPTIVE_V2")
    public S3StorageConfig setRetryMode(RetryMode retryMode)
    {
        this.retryMode = retryMode;
        return this;
    }

    @Min(1)
    public int getAsyncClientConcurrency()
    {
        return asyncClientConcurrency;
    }

    @Config("exchange.s3.async-client-concurrency")
    @ConfigDescription("Most concurrent S3 requests (connections) per bucket")
    public S3StorageConfig setAsyncClientConcurrency(int asyncClientConcurrency)
    {
        this.asyncClientConcurrency = asyncClientConcurrency;
        return this;
    }

    @Min(1)
    public int getAsyncClientMaxPendingConnectionAcquires()
    {
        return asyncClientMaxPendingConnectionAcquires;
    }

    @Config("exchange.s3.async-client-max-pending-connection-acquires")
    @ConfigDescription("Most S3 requests per bucket waiting for a connection; more fail the request")
    public S3StorageConfig setAsyncClientMaxPendingConnectionAcquires(int asyncClientMaxPendingConnectionAcquires)
    {
        this.asyncClientMaxPendingConnectionAcquires = asyncClientMaxPendingConnectionAcquires;
        return this;
    }

    @NotNull
    @MinDuration("1ms")
    public Duration getAsyncClientConnectionAcquisitionTimeout()
    {
        return asyncClientConnectionAcquisitionTimeout;
    }

    @Config("exchange.s3.async-client-connection-acquisition-timeout")
    @ConfigDescription("How long an S3 request may wait for a connection")
    public S3StorageConfig setAsyncClientConnectionAcquisitionTimeout(Duration asyncClientConnectionAcquisitionTimeout)
    {
        this.asyncClientConnectionAcquisitionTimeout = asyncClientConnectionAcquisitionTimeout;
        return this;
    }

    public boolean isPathStyleAccess()
    {
        return pathStyleAccess;
    }

    @Config("exchange.s3.path-style-access")
    @ConfigDescription("Address buckets as endpoint/bucket/key instead of bucket.endpoint/key (MinIO and most S3-compatible stores need this)")
    public S3StorageConfig setPathStyleAccess(boolean pathStyleAccess)
    {
        this.pathStyleAccess = pathStyleAccess;
        return this;
    }

    @NotNull
    public S3SseType getSseType()
    {
        return sseType;
    }

    @Config(SSE_TYPE)
    @ConfigDescription("Server-side encryption of spool objects: NONE, S3 or KMS")
    public S3StorageConfig setSseType(S3SseType sseType)
    {
        this.sseType = sseType;
        return this;
    }

    public Optional<String> getSseKmsKeyId()
    {
        return Optional.ofNullable(sseKmsKeyId);
    }

    @Config(SSE_KMS_KEY_ID)
    @ConfigDescription("KMS key (id, ARN or alias) for exchange.s3.sse.type=KMS; default: the account's S3 KMS key")
    public S3StorageConfig setSseKmsKeyId(String sseKmsKeyId)
    {
        this.sseKmsKeyId = sseKmsKeyId;
        return this;
    }

    @AssertTrue(message = "exchange.s3.sse.kms-key-id can only be set together with exchange.s3.sse.type=KMS")
    public boolean isKmsKeyIdOnlyWithKms()
    {
        return sseKmsKeyId == null || sseType == S3SseType.KMS;
    }

    @NotNull
    public S3ChecksumMode getChecksumMode()
    {
        return checksumMode;
    }

    @Config("exchange.s3.checksum-mode")
    @ConfigDescription("When the AWS SDK sends request checksums: WHEN_REQUIRED (only where S3 requires one, as Content-MD5; works with stores that predate flexible checksums) or WHEN_SUPPORTED (CRC32 on every upload)")
    public S3StorageConfig setChecksumMode(S3ChecksumMode checksumMode)
    {
        this.checksumMode = checksumMode;
        return this;
    }

    public Optional<String> getGcsJsonKeyFilePath()
    {
        return Optional.ofNullable(gcsJsonKeyFilePath);
    }

    @Config(GCS_JSON_KEY_FILE_PATH)
    @ConfigDescription("gs:// only: GCS service-account key file (JSON) for the GCS JSON API; without it and exchange.gcs.json-key, application-default credentials (docs/storage-gcs.md)")
    public S3StorageConfig setGcsJsonKeyFilePath(String gcsJsonKeyFilePath)
    {
        this.gcsJsonKeyFilePath = gcsJsonKeyFilePath;
        return this;
    }

    public Optional<String> getGcsJsonKey()
    {
        return Optional.ofNullable(gcsJsonKey);
    }

    @Config(GCS_JSON_KEY)
    @ConfigSecuritySensitive
    @ConfigDescription("gs:// only: GCS service-account key as inline JSON, instead of exchange.gcs.json-key-file-path")
    public S3StorageConfig setGcsJsonKey(String gcsJsonKey)
    {
        this.gcsJsonKey = gcsJsonKey;
        return this;
    }

    @AssertTrue(message = "exchange.gcs.json-key-file-path and exchange.gcs.json-key are mutually exclusive: set at most one")
    public boolean isGcsJsonKeySetOnce()
    {
        return gcsJsonKeyFilePath == null || gcsJsonKey == null;
    }

    @AssertTrue(message = "exchange.s3.aws-access-key and exchange.s3.aws-secret-key must be set together")
    public boolean isStaticCredentialsComplete()
    {
        return (awsAccessKey == null) == (awsSecretKey == null);
    }

    @AssertTrue(message = "exchange.s3.iam-role cannot be combined with exchange.s3.aws-access-key: the role is assumed with the default credentials chain")
    public boolean isIamRoleWithoutStaticCredentials()
    {
        return iamRole == null || awsAccessKey == null;
    }

    @AssertTrue(message = "exchange.s3.external-id is only used with exchange.s3.iam-role")
    public boolean isExternalIdWithIamRole()
    {
        return externalId == null || iamRole != null;
    }

    @AssertTrue(message = "exchange.s3.endpoint must be an absolute http:// or https:// URL")
    public boolean isEndpointValid()
    {
        if (endpoint == null) {
            return true;
        }
        try {
            URI uri = new URI(endpoint);
            return uri.getScheme() != null
                    && (uri.getScheme().equalsIgnoreCase("http") || uri.getScheme().equalsIgnoreCase("https"))
                    && uri.getHost() != null;
        }
        catch (URISyntaxException e) {
            return false;
        }
    }

    @Override
    public String toString()
    {
        // never the secret key or the GCS key: this may end up in logs
        return toStringHelper(this)
                .omitNullValues()
                .add("accessKey", awsAccessKey)
                .add("secretKey", awsSecretKey == null ? null : "***")
                .add("iamRole", iamRole)
                .add("externalId", externalId)
                .add("region", region)
                .add("endpoint", endpoint)
                .add("maxErrorRetries", maxErrorRetries)
                .add("retryTime", retryTime)
                .add("uploadPartSize", uploadPartSize)
                .add("storageClass", storageClass)
                .add("retryMode", retryMode)
                .add("asyncClientConcurrency", asyncClientConcurrency)
                .add("asyncClientMaxPendingConnectionAcquires", asyncClientMaxPendingConnectionAcquires)
                .add("asyncClientConnectionAcquisitionTimeout", asyncClientConnectionAcquisitionTimeout)
                .add("pathStyleAccess", pathStyleAccess)
                .add("sseType", sseType)
                .add("sseKmsKeyId", sseKmsKeyId)
                .add("checksumMode", checksumMode)
                .add("gcsJsonKeyFilePath", gcsJsonKeyFilePath)
                .add("gcsJsonKey", gcsJsonKey == null ? null : "***")
                .toString();
    }
}
