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

import com.google.common.io.Closer;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.log.Logger;
import io.trino.spi.TrinoException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.LegacyMd5Plugin;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.StsClientBuilder;
import software.amazon.awssdk.services.sts.auth.StsAssumeRoleCredentialsProvider;
import software.amazon.awssdk.utils.SdkAutoCloseable;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static io.airlift.concurrent.Threads.daemonThreadsNamed;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static io.trino.spi.StandardErrorCode.CONFIGURATION_INVALID;
import static java.util.Objects.requireNonNull;
import static software.amazon.awssdk.core.client.config.SdkAdvancedClientOption.USER_AGENT_SUFFIX;

/**
 * One S3 client per bucket, created on first use. Each client has its own connection pool, so the limits of
 * {@code exchange.s3.async-client-*} apply per bucket and a throttled bucket (its requests waiting in backoff or
 * for connections) does not hold up the others. The clients share the Netty event loops and the credentials.
 */
final class S3ClientPool
        implements AutoCloseable
{
    private static final Logger log = Logger.get(S3ClientPool.class);

    /**
     * Where {@code gs://} goes when no endpoint is configured: GCS's XML (S3-interoperable) API.
     */
    static final URI GCS_XML_API_ENDPOINT = URI.create("https://storage.googleapis.com");
    /**
     * GCS accepts "auto" as the location of a SigV4 credential scope.
     */
    static final Region GCS_SIGNING_REGION = Region.of("auto");

    private final S3StorageConfig config;
    private final S3Dialect dialect;
    private final ExecutionInterceptor requestCounter;
    private final AwsCredentialsProvider credentialsProvider;
    private final Optional<StsClient> stsClient;
    private final SdkEventLoopGroup eventLoops;
    private final RetryStrategy retryStrategy;
    private final Region signingRegion;

    @GuardedBy("this")
    private final Map<String, S3AsyncClient> clients = new HashMap<>();
    @GuardedBy("this")
    private boolean closed;

    S3ClientPool(S3StorageConfig config, S3Dialect dialect, S3StorageStats stats)
    {
        this.config = requireNonNull(config, "config is null");
        this.dialect = requireNonNull(dialect, "dialect is null");
        this.requestCounter = new S3RequestCounter(requireNonNull(stats, "stats is null"));
        this.signingRegion = signingRegion(config, dialect);
        // Spoolex retries every request itself (S3Calls): the SDK's own retries count attempts, not time, stop early
        // when its retry-token bucket runs dry during an outage, and do not retry answers cut short
        this.retryStrategy = AwsRetryStrategy.doNotRetry();

        if (config.getAwsAccessKey().isPresent()) {
            credentialsProvider = StaticCredentialsProvider.create(AwsBasicCredentials.create(config.getAwsAccessKey().orElseThrow(), config.getAwsSecretKey().orElseThrow()));
            stsClient = Optional.empty();
        }
        else if (config.getIamRole().isPresent()) {
            // STS of the buckets' region (for gs:// there is no AWS region to speak of: the SDK's default applies)
            StsClientBuilder sts = StsClient.builder().credentialsProvider(DefaultCredentialsProvider.builder().build());
            if (dialect == S3Dialect.S3) {
                sts.region(signingRegion);
            }
            stsClient = Optional.of(sts.build());
            credentialsProvider = StsAssumeRoleCredentialsProvider.builder()
                    .stsClient(stsClient.orElseThrow())
                    .refreshRequest(request -> request
                            .roleArn(config.getIamRole().orElseThrow())
                            .roleSessionName("spoolex-exchange")
                            .externalId(config.getExternalId().orElse(null)))
                    .asyncCredentialUpdateEnabled(true)
                    .build();
        }
        else {
            credentialsProvider = DefaultCredentialsProvider.builder().build();
            stsClient = Optional.empty();
        }
        eventLoops = SdkEventLoopGroup.builder()
                .threadFactory(daemonThreadsNamed("spoolex-s3-netty-%s"))
                .build();
    }

    synchronized S3AsyncClient client(String bucket)
    {
        if (closed) {
            throw new TrinoException(SPOOL_STORAGE_ERROR, "The S3 spool storage is closed: no request to bucket %s is made".formatted(bucket));
        }
        return clients.computeIfAbsent(bucket, _ -> createClient());
    }

    private S3AsyncClient createClient()
    {
        S3AsyncClientBuilder builder = S3AsyncClient.builder()
                .credentialsProvider(credentialsProvider)
                .region(signingRegion)
                .forcePathStyle(config.isPathStyleAccess())
                .httpClientBuilder(NettyNioAsyncHttpClient.builder()
                        .eventLoopGroup(eventLoops)
                        .maxConcurrency(config.getAsyncClientConcurrency())
                        .maxPendingConnectionAcquires(config.getAsyncClientMaxPendingConnectionAcquires())
                        .connectionAcquisitionTimeout(Duration.ofMillis(config.getAsyncClientConnectionAcquisitionTimeout().toMillis())))
                .overrideConfiguration(override -> override
                        .retryStrategy(retryStrategy)
                        .addExecutionInterceptor(requestCounter)
                        .putAdvancedOption(USER_AGENT_SUFFIX, "spoolex-exchange"));
        endpoint().ifPresent(builder::endpointOverride);
        switch (config.getChecksumMode()) {
            case WHEN_REQUIRED -> builder
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                    // where S3 requires a checksum (DeleteObjects), send Content-MD5 as SDKs before 2.30 did
                    .addPlugin(LegacyMd5Plugin.create());
            case WHEN_SUPPORTED -> builder
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_SUPPORTED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_SUPPORTED);
        }
        return builder.build();
    }

    private Optional<URI> endpoint()
    {
        Optional<URI> configured = config.getEndpoint().map(URI::create);
        if (configured.isEmpty() && dialect == S3Dialect.GCS) {
            return Optional.of(GCS_XML_API_ENDPOINT);
        }
        // empty: the SDK derives AWS's endpoint from the region
        return configured;
    }

    private static Region signingRegion(S3StorageConfig config, S3Dialect dialect)
    {
        if (config.getRegion().isPresent()) {
            return Region.of(config.getRegion().orElseThrow());
        }
        if (dialect == S3Dialect.GCS) {
            return GCS_SIGNING_REGION;
        }
        if (config.getEndpoint().isPresent()) {
            // an S3-compatible store; MinIO and most others take us-east-1 unless configured otherwise
            return Region.US_EAST_1;
        }
        // neither is set: on AWS the instance's or the environment's region (as the SDK finds it) is the one meant
        try {
            return new DefaultAwsRegionProviderChain().getRegion();
        }
        catch (SdkClientException e) {
            throw new TrinoException(CONFIGURATION_INVALID, "s3:// base directories need %s or %s: neither is set, and no region was found in AWS_REGION, aws.region, the AWS profile or the instance metadata"
                    .formatted(S3StorageConfig.REGION, S3StorageConfig.ENDPOINT), e);
        }
    }

    @Override
    public void close()
    {
        Map<String, S3AsyncClient> toClose;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toClose = Map.copyOf(clients);
            clients.clear();
        }
        try (Closer closer = Closer.create()) {
            // registered in reverse order of closing: the event loops go last, after the clients that use them
            closer.register(() -> {
                // not waited for: the event loops stop on their own within the two seconds
                var _ = eventLoops.eventLoopGroup().shutdownGracefully(0, 2, TimeUnit.SECONDS);
            });
            stsClient.ifPresent(client -> closer.register(client::close));
            if (credentialsProvider instanceof SdkAutoCloseable closeable) {
                closer.register(closeable::close);
            }
            toClose.values().forEach(client -> closer.register(client::close));
        }
        catch (IOException | RuntimeException e) {
            log.warn(e, "Failed to close S3 clients");
        }
    }

    @Override
    public String toString()
    {
        // names what the clients talk to, never the credentials
        return "S3ClientPool{dialect=%s, endpoint=%s, region=%s, credentials=%s}".formatted(
                dialect,
                endpoint().map(URI::toString).orElse("AWS"),
                signingRegion,
                credentialsProvider.getClass().getSimpleName());
    }
}
