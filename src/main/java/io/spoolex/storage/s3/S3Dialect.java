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
 * Which service speaks S3 behind the base directories' scheme.
 */
public enum S3Dialect
{
    /**
     * {@code s3://}: AWS S3 or an S3-compatible store (MinIO, Ceph, ...).
     */
    S3,
    /**
     * {@code gs://}: Google Cloud Storage through its S3 interoperability (XML) API, with an HMAC key as
     * {@code exchange.s3.aws-access-key}/{@code exchange.s3.aws-secret-key}. That API has no multi-object delete:
     * objects are deleted through the module's {@link S3BulkDeleter} (GCS's JSON API), or one request each without one.
     */
    GCS;

    public static S3Dialect forScheme(String scheme)
    {
        return switch (scheme) {
            case "s3" -> S3;
            case "gs" -> GCS;
            default -> throw new IllegalArgumentException("not an S3 scheme: " + scheme);
        };
    }
}
