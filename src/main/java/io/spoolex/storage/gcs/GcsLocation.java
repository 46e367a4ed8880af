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
package io.spoolex.storage.gcs;

import com.google.cloud.storage.BlobId;

import java.net.URI;
import java.net.URISyntaxException;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * An object (or, with a name ending in '/', a prefix) named by a {@code gs://bucket/name} URI.
 */
record GcsLocation(String bucket, String name)
{
    GcsLocation
    {
        requireNonNull(bucket, "bucket is null");
        requireNonNull(name, "name is null");
        checkArgument(!bucket.isEmpty(), "bucket is empty");
    }

    static GcsLocation of(URI uri)
    {
        checkArgument("gs".equalsIgnoreCase(uri.getScheme()) && !uri.isOpaque(), "not a gs:// URI: %s", uri);
        // a bucket name with '_' is legal in GCS but not a host name, so URI leaves the host null
        String bucket = uri.getHost() != null ? uri.getHost() : uri.getAuthority();
        checkArgument(bucket != null && !bucket.isEmpty() && uri.getUserInfo() == null, "no bucket in %s", uri);
        String path = uri.getPath() == null ? "" : uri.getPath();
        return new GcsLocation(bucket, path.startsWith("/") ? path.substring(1) : path);
    }

    /**
     * The name as a listing prefix: everything below this directory, and nothing of a sibling with a longer name.
     */
    String directoryPrefix()
    {
        return name.isEmpty() || name.endsWith("/") ? name : name + "/";
    }

    GcsLocation withName(String newName)
    {
        return new GcsLocation(bucket, newName);
    }

    BlobId blobId()
    {
        return BlobId.of(bucket, name);
    }

    URI toUri()
    {
        try {
            return new URI("gs", bucket, "/" + name, null, null);
        }
        catch (URISyntaxException e) {
            throw new IllegalArgumentException("name %s of bucket %s does not form a URI".formatted(name, bucket), e);
        }
    }

    @Override
    public String toString()
    {
        return "gs://" + bucket + "/" + name;
    }
}
