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

import com.google.common.collect.ImmutableList;
import io.spoolex.exchange.AbstractExchangeContractTest;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.net.URI;
import java.util.List;
import java.util.Map;

/**
 * The exchange contract on an S3 server, with two buckets (one base directory each, at different depths) and the
 * smallest part size S3 allows, so that files of more than 5 MB go through multipart uploads. Subclasses start the
 * server; the test looks at what is stored with its own plain SDK client.
 */
public abstract class AbstractS3ExchangeContractTest
        extends AbstractExchangeContractTest
{
    protected static final List<String> BUCKETS = List.of("spoolex-contract-one", "spoolex-contract-two");

    /**
     * The endpoint the exchange manager talks to.
     */
    protected abstract URI exchangeEndpoint();

    /**
     * The client the test inspects storage with.
     */
    protected abstract S3Client testClient();

    protected abstract String accessKey();

    protected abstract String secretKey();

    protected String scheme()
    {
        return "s3";
    }

    @Override
    protected Map<String, String> storageProperties()
    {
        return properties(
                "exchange.base-directories",
                scheme() + "://" + BUCKETS.get(0) + "/spool," + scheme() + "://" + BUCKETS.get(1) + "/nested/spool",
                "exchange.s3.endpoint",
                exchangeEndpoint().toString(),
                "exchange.s3.region",
                "us-east-1",
                "exchange.s3.aws-access-key",
                accessKey(),
                "exchange.s3.aws-secret-key",
                secretKey(),
                "exchange.s3.path-style-access",
                "true",
                "exchange.s3.upload.part-size",
                "5MB");
    }

    protected static void createBuckets(S3Client client)
    {
        for (String bucket : BUCKETS) {
            client.createBucket(request -> request.bucket(bucket));
        }
    }

    @Override
    protected List<URI> listStoredFiles()
    {
        ImmutableList.Builder<URI> files = ImmutableList.builder();
        for (String bucket : BUCKETS) {
            for (S3Object object : testClient().listObjectsV2Paginator(request -> request.bucket(bucket)).contents()) {
                files.add(URI.create(scheme() + "://" + bucket + "/" + object.key()));
            }
        }
        return files.build();
    }

    /**
     * Multipart uploads neither completed nor aborted, in both buckets.
     */
    protected List<MultipartUpload> pendingUploads()
    {
        ImmutableList.Builder<MultipartUpload> uploads = ImmutableList.builder();
        for (String bucket : BUCKETS) {
            uploads.addAll(testClient().listMultipartUploads(request -> request.bucket(bucket)).uploads());
        }
        return uploads.build();
    }

    @Override
    protected byte[] readStoredFile(URI file)
    {
        S3Location location = S3Location.of(file);
        return testClient().getObjectAsBytes(request -> request.bucket(location.bucket()).key(location.key())).asByteArray();
    }

    @Override
    protected void writeStoredFile(URI file, byte[] content)
    {
        S3Location location = S3Location.of(file);
        testClient().putObject(request -> request.bucket(location.bucket()).key(location.key()), RequestBody.fromBytes(content));
    }

    @Override
    protected void deleteStoredFile(URI file)
    {
        S3Location location = S3Location.of(file);
        testClient().deleteObject(request -> request.bucket(location.bucket()).key(location.key()));
    }

    @Override
    protected void cleanUpStorage()
    {
        for (String bucket : BUCKETS) {
            for (MultipartUpload upload : testClient().listMultipartUploads(request -> request.bucket(bucket)).uploads()) {
                testClient().abortMultipartUpload(request -> request.bucket(bucket).key(upload.key()).uploadId(upload.uploadId()));
            }
            for (S3Object object : testClient().listObjectsV2Paginator(request -> request.bucket(bucket)).contents()) {
                testClient().deleteObject(request -> request.bucket(bucket).key(object.key()));
            }
        }
    }
}
