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

import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.StorageClass;

import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * What every object Spoolex creates carries: its storage class and server-side encryption. S3 takes these when an
 * object is created (PutObject, CreateMultipartUpload), never on UploadPart.
 */
record S3WriteOptions(StorageClass storageClass, S3SseType sseType, Optional<String> kmsKeyId)
{
    S3WriteOptions
    {
        requireNonNull(storageClass, "storageClass is null");
        requireNonNull(sseType, "sseType is null");
        requireNonNull(kmsKeyId, "kmsKeyId is null");
    }

    static S3WriteOptions from(S3StorageConfig config)
    {
        return new S3WriteOptions(config.getStorageClass(), config.getSseType(), config.getSseKmsKeyId());
    }

    PutObjectRequest.Builder apply(PutObjectRequest.Builder request)
    {
        request.storageClass(storageClass);
        switch (sseType) {
            case NONE -> {}
            case S3 -> request.serverSideEncryption(ServerSideEncryption.AES256);
            case KMS -> {
                request.serverSideEncryption(ServerSideEncryption.AWS_KMS);
                kmsKeyId.ifPresent(request::ssekmsKeyId);
            }
        }
        return request;
    }

    CreateMultipartUploadRequest.Builder apply(CreateMultipartUploadRequest.Builder request)
    {
        request.storageClass(storageClass);
        switch (sseType) {
            case NONE -> {}
            case S3 -> request.serverSideEncryption(ServerSideEncryption.AES256);
            case KMS -> {
                request.serverSideEncryption(ServerSideEncryption.AWS_KMS);
                kmsKeyId.ifPresent(request::ssekmsKeyId);
            }
        }
        return request;
    }
}
