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
package io.spoolex.storage.azure;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * A file or directory of {@code abfs[s]://container@account.dfs.core.windows.net/path} (or the {@code .blob.} host
 * form). As in Trino, only the container and the path address storage: the account is the one of the configured
 * connection string or endpoint, and the host is kept only to name files as they were configured.
 *
 * @param host the URI's host part, e.g. {@code account.dfs.core.windows.net}
 * @param path the blob name or directory prefix, without a leading slash
 */
record AzureLocation(String scheme, String container, String host, String path)
{
    AzureLocation
    {
        requireNonNull(scheme, "scheme is null");
        requireNonNull(container, "container is null");
        requireNonNull(host, "host is null");
        requireNonNull(path, "path is null");
        checkArgument(!container.isEmpty(), "container is empty");
    }

    static AzureLocation of(URI uri)
    {
        checkArgument(uri.getScheme() != null && uri.isAbsolute() && !uri.isOpaque(), "not an abfs URI: %s", uri);
        // the raw authority, because names with '_' (as in Trino's documentation) are no valid host names, and URI
        // then parses no user info or host
        String authority = uri.getRawAuthority();
        checkArgument(authority != null && authority.indexOf('@') > 0 && authority.indexOf('@') < authority.length() - 1, "no container in %s (expected %s://container@account.dfs.core.windows.net/path)", uri, uri.getScheme());
        int at = authority.indexOf('@');
        String path = uri.getPath() == null ? "" : uri.getPath();
        return new AzureLocation(uri.getScheme(), authority.substring(0, at), authority.substring(at + 1), path.startsWith("/") ? path.substring(1) : path);
    }

    /**
     * The account named in the URI (the host's first label), which may differ from the configured one.
     */
    String accountInUri()
    {
        int dot = host.indexOf('.');
        return (dot < 0 ? host : host.substring(0, dot)).toLowerCase(Locale.ENGLISH);
    }

    /**
     * The path as a listing prefix: everything below this directory, and nothing of a sibling with a longer name.
     */
    String directoryPrefix()
    {
        return path.isEmpty() || path.endsWith("/") ? path : path + "/";
    }

    /**
     * The path as ADLS Gen2 names a directory: no trailing slash.
     */
    String directoryPath()
    {
        return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    AzureLocation withPath(String newPath)
    {
        return new AzureLocation(scheme, container, host, newPath);
    }

    URI toUri()
    {
        try {
            return new URI(scheme, container + "@" + host, "/" + path, null, null);
        }
        catch (URISyntaxException e) {
            throw new IllegalArgumentException("path %s of container %s does not form a URI".formatted(path, container), e);
        }
    }

    @Override
    public String toString()
    {
        return scheme + "://" + container + "@" + host + "/" + path;
    }
}
