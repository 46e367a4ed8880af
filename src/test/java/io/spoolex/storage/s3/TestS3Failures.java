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

import io.spoolex.SpoolexErrorCode;
import io.spoolex.storage.RequestFailure;
import io.spoolex.storage.ShortAnswerException;
import io.trino.spi.TrinoException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletionException;

import static io.spoolex.storage.RequestFailure.Kind.PERMANENT;
import static io.spoolex.storage.RequestFailure.Kind.THROTTLED;
import static io.spoolex.storage.RequestFailure.Kind.TRANSIENT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which S3 failures another attempt can cure, and what the error of a request given up on says about them.
 */
public class TestS3Failures
{
    @Test
    public void testThrottling()
    {
        assertThat(S3Failures.classify(serviceError(503, "SlowDown"))).isEqualTo(new RequestFailure(THROTTLED, "503 SlowDown"));
        assertThat(S3Failures.classify(serviceError(429, ""))).isEqualTo(new RequestFailure(THROTTLED, "429"));
        assertThat(S3Failures.classify(serviceError(400, "RequestLimitExceeded")).kind()).isEqualTo(THROTTLED);
        // wrapped as the SDK's futures fail
        assertThat(S3Failures.classify(new CompletionException(serviceError(503, "SlowDown"))).kind()).isEqualTo(THROTTLED);
    }

    @Test
    public void testTransientFailures()
    {
        assertThat(S3Failures.classify(serviceError(500, "InternalError"))).isEqualTo(new RequestFailure(TRANSIENT, "500 InternalError"));
        assertThat(S3Failures.classify(serviceError(503, "ServiceUnavailable")).kind()).isEqualTo(TRANSIENT);
        assertThat(S3Failures.classify(serviceError(502, "")).kind()).isEqualTo(TRANSIENT);
        assertThat(S3Failures.classify(serviceError(400, "RequestTimeout")).kind()).isEqualTo(TRANSIENT);
        assertThat(S3Failures.classify(SdkClientException.create("Unable to execute HTTP request: Connection reset", new IOException("Connection reset"))))
                .isEqualTo(new RequestFailure(TRANSIENT, "connection failure (Connection reset)"));
        assertThat(S3Failures.classify(SdkClientException.create("Unable to execute HTTP request: Read timed out", new SocketTimeoutException("Read timed out"))).kind()).isEqualTo(TRANSIENT);
        // the SDK's advice after the first sentence is left to the error's detail
        assertThat(S3Failures.classify(SdkClientException.create("Unable to execute HTTP request", new IOException("The connection was closed during the request. The request will usually succeed on a retry, but if it does not: consider disabling any proxies"))))
                .isEqualTo(new RequestFailure(TRANSIENT, "connection failure (The connection was closed during the request.)"));
        // a listing cut off mid-document
        assertThat(S3Failures.classify(SdkClientException.create("Could not parse XML response.", new IllegalStateException("unexpected end")))).isEqualTo(new RequestFailure(TRANSIENT, "malformed answer"));
        assertThat(S3Failures.classify(SdkClientException.create("Unable to execute HTTP request: Acquire operation took longer than the configured maximum time."))).isEqualTo(new RequestFailure(TRANSIENT, "no free connection"));
        // a ranged read answered with fewer bytes than it promised
        assertThat(S3Failures.classify(SdkClientException.create("wrapped", new ShortAnswerException(10, 20, 0))).kind()).isEqualTo(TRANSIENT);
    }

    @Test
    public void testPermanentFailures()
    {
        assertThat(S3Failures.classify(serviceError(403, "AccessDenied"))).isEqualTo(new RequestFailure(PERMANENT, "403 AccessDenied"));
        assertThat(S3Failures.classify(serviceError(404, "NoSuchBucket")).kind()).isEqualTo(PERMANENT);
        assertThat(S3Failures.classify(NoSuchKeyException.builder().statusCode(404).message("gone").build()).kind()).isEqualTo(PERMANENT);
        // what a store cannot do is not cured by asking again
        assertThat(S3Failures.classify(serviceError(501, "NotImplemented")).kind()).isEqualTo(PERMANENT);
        // a file of the wrong size, as a response transformer reports it
        assertThat(S3Failures.classify(SdkClientException.create("wrapped", new TrinoException(SpoolexErrorCode.SPOOL_FILE_CORRUPTED, "wrong size"))).kind()).isEqualTo(PERMANENT);
        assertThat(S3Failures.classify(SdkClientException.create("Unable to load credentials from any of the providers in the chain")).kind()).isEqualTo(PERMANENT);
        assertThat(S3Failures.classify(new IllegalStateException("executor not accepting a task")).kind()).isEqualTo(PERMANENT);
    }

    @Test
    public void testDescriptionLeavesOutTheSdkAttemptCount()
    {
        // Spoolex makes every attempt an SDK call of its own: the SDK's count is always 1 and would mislead
        assertThat(S3Failures.describe(SdkClientException.create("Unable to execute HTTP request: Connection reset (SDK Attempt Count: 1)")))
                .isEqualTo("Unable to execute HTTP request: Connection reset");
    }

    private static S3Exception serviceError(int status, String code)
    {
        return (S3Exception) S3Exception.builder()
                .statusCode(status)
                .message("the store says " + status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code.isEmpty() ? null : code).errorMessage("the store says " + status).build())
                .build();
    }
}
