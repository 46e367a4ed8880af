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

/**
 * {@code exchange.s3.sse.type}: the server-side encryption S3 applies to every object Spoolex writes (on top of
 * Spoolex's own encryption, which S3 never sees the key of).
 */
public enum S3SseType
{
    /**
     * No encryption header: the bucket's default encryption applies (on AWS, SSE-S3 for every new bucket).
     */
    NONE,
    /**
     * {@code x-amz-server-side-encryption: AES256}, keys managed by S3.
     */
    S3,
    /**
     * {@code x-amz-server-side-encryption: aws:kms}, with {@code exchange.s3.sse.kms-key-id} or the account's default KMS key.
     */
    KMS,
}
