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

import java.net.URI;
import java.net.URISyntaxException;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * An object (or, with a key ending in '/', a prefix) named by a {@code s3://bucket/key} or {@code gs://bucket/key} URI.
 */
record S3Location(String scheme, String bucket, String key)
{
    S3Location
    {
        requireNonNull(scheme, "scheme is null");
        requireNonNull(bucket, "bucket is null");
        requireNonNull(key, "key is null");
        checkArgument(!bucket.isEmpty(), "bucket is empty");
    }

    static S3Location of(URI uri)
    {
        checkArgument(uri.getScheme() != null && uri.isAbsolute() && !uri.isOpaque(), "not an object URI: %s", uri);
        // a bucket name with '_' (legal in old us-east-1 buckets) is not a valid host name, so URI leaves the host null
        String bucket = uri.getHost() != null ? uri.getHost() : uri.getAuthority();
        checkArgument(bucket != null && uri.getUserInfo() == null, "no bucket in %s", uri);
        String path = uri.getPath() == null ? "" : uri.getPath();
        return new S3Location(uri.getScheme(), bucket, path.startsWith("/") ? path.substring(1) : path);
    }

    /**
     * The key as a listing prefix: everything below this directory, and nothing of a sibling with a longer name.
     */
    String directoryPrefix()
    {
        return key.isEmpty() || key.endsWith("/") ? key : key + "/";
    }

    S3Location withKey(String newKey)
    {
        return new S3Location(scheme, bucket, newKey);
    }

    URI toUri()
    {
        try {
            return new URI(scheme, bucket, "/" + key, null, null);
        }
        catch (URISyntaxException e) {
            throw new IllegalArgumentException("key %s of bucket %s does not form a URI".formatted(key, bucket), e);
        }
    }

    @Override
    public String toString()
    {
        return scheme + "://" + bucket + "/" + key;
    }
}
