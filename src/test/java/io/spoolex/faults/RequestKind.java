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
package io.spoolex.faults;

/**
 * What a storage request does, in terms every backend shares, so that a fault scenario can aim at "listings" or
 * "writes" without naming one storage's API. Each backend's {@link HttpStorageDialect} maps its requests to these.
 */
public enum RequestKind
{
    /**
     * Creating or extending a file: S3 PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload.
     */
    WRITE,
    /**
     * Reading a file or a part of it: S3 GetObject.
     */
    READ,
    /**
     * Listing files or pending uploads: S3 ListObjectsV2, ListMultipartUploads.
     */
    LIST,
    /**
     * Removing files or pending uploads: S3 DeleteObjects, DeleteObject, AbortMultipartUpload.
     */
    DELETE,
    /**
     * Anything else (bucket requests of tests, for example).
     */
    OTHER,
}
