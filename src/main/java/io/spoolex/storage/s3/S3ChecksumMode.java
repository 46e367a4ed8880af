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
 * {@code exchange.s3.checksum-mode} (Spoolex): when the AWS SDK adds integrity checksums to requests and validates
 * them on responses. Since 2.30 the SDK defaults to {@link #WHEN_SUPPORTED}, which sends CRC32 checksums (often in
 * an {@code aws-chunked} body with trailing headers) on every upload; many S3-compatible stores that predate
 * flexible checksums (older MinIO and Ceph releases, GCS's XML API, ...) reject such requests.
 */
public enum S3ChecksumMode
{
    /**
     * Only where the S3 API requires one (DeleteObjects), and then as {@code Content-MD5} as SDKs before 2.30 did.
     * Uploads carry no checksum header: spool files protect themselves (a CRC32C or an AES-GCM tag per block, a
     * checksum per file in the manifest), so corruption anywhere between sink and source fails the read.
     */
    WHEN_REQUIRED,
    /**
     * The SDK's default: a CRC32 checksum on every upload, and validation where S3 returns checksums.
     */
    WHEN_SUPPORTED,
}
