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
package io.spoolex.config;

import com.google.common.collect.ImmutableList;
import io.trino.spi.TrinoException;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import static io.trino.spi.StandardErrorCode.CONFIGURATION_INVALID;
import static io.trino.spi.StandardErrorCode.NOT_SUPPORTED;
import static java.util.Objects.requireNonNull;

/**
 * The parsed {@code exchange.base-directories}: URIs ending in '/', all of one scheme, which picks the storage.
 */
public record BaseDirectories(String scheme, List<URI> uris)
{
    public static final String PROPERTY = "exchange.base-directories";

    public BaseDirectories
    {
        requireNonNull(scheme, "scheme is null");
        uris = ImmutableList.copyOf(uris);
    }

    /**
     * Reads and checks the directories for an exchange manager whose storage backends serve {@code schemes}.
     *
     * @param schemes the schemes the exchange manager's storage backends serve; where {@code hdfs} is one of them, a
     *         scheme-less {@code host:port/path} means {@code hdfs://host:port/path}, as in Trino's documented examples
     * @param factoryName the exchange manager's name, for the error about an unsupported scheme
     */
    public static BaseDirectories parse(List<String> directories, Set<String> schemes, String factoryName)
    {
        BaseDirectories parsed = read(directories, schemes.contains("hdfs"), Optional.empty());
        if (!schemes.contains(parsed.scheme())) {
            throw unsupportedScheme(parsed.scheme(), schemes, factoryName);
        }
        return parsed;
    }

    /**
     * Reads the directories as URIs of one scheme, without checking that anything serves the scheme.
     *
     * @param hostPortIsHdfs whether a scheme-less {@code host:port/path} means {@code hdfs://host:port/path}
     * @param defaultFileSystem where directories that name no file system lie, if not on the local one: a bare
     *         absolute path, and a URI of the default file system's scheme without authority ({@code hdfs:///path}),
     *         as Hadoop resolves them against {@code fs.defaultFS}
     */
    public static BaseDirectories read(List<String> directories, boolean hostPortIsHdfs, Optional<URI> defaultFileSystem)
    {
        if (directories.isEmpty()) {
            throw new TrinoException(CONFIGURATION_INVALID, PROPERTY + " must list at least one base directory");
        }
        ImmutableList.Builder<URI> uris = ImmutableList.builder();
        String scheme = null;
        for (String directory : directories) {
            URI uri = toUri(directory, hostPortIsHdfs, defaultFileSystem);
            String uriScheme = uri.getScheme().toLowerCase(Locale.ENGLISH);
            if (scheme != null && !scheme.equals(uriScheme)) {
                throw new TrinoException(CONFIGURATION_INVALID, "%s mixes URI schemes (%s and %s): all base directories must be on one storage".formatted(PROPERTY, scheme, uriScheme));
            }
            scheme = uriScheme;
            uris.add(uri);
        }
        return new BaseDirectories(scheme, uris.build());
    }

    public static TrinoException unsupportedScheme(String scheme, Set<String> schemes, String factoryName)
    {
        return new TrinoException(NOT_SUPPORTED, "Scheme %s is not supported as exchange spooling storage in exchange manager type %s (%s; supported: %s)"
                .formatted(scheme, factoryName, PROPERTY, String.join(", ", new TreeSet<>(schemes))));
    }

    private static URI toUri(String directory, boolean hostPortIsHdfs, Optional<URI> defaultFileSystem)
    {
        String value = directory.trim();
        if (value.startsWith("/")) {
            if (defaultFileSystem.isPresent()) {
                // on the default file system, as Hadoop reads a path without scheme
                return withTrailingSlash(onFileSystem(defaultFileSystem.orElseThrow(), Path.of(value).toUri().normalize().getRawPath(), directory));
            }
            // a bare absolute path is a local directory
            return withTrailingSlash(Path.of(value).toUri().normalize());
        }
        if (!value.contains(":/") && hostPortIsHdfs) {
            value = "hdfs://" + value;
        }
        URI uri;
        try {
            uri = new URI(value).normalize();
        }
        catch (URISyntaxException e) {
            throw new TrinoException(CONFIGURATION_INVALID, "%s: '%s' is not a valid URI: %s".formatted(PROPERTY, directory, e.getReason()));
        }
        if (uri.getScheme() == null || uri.isOpaque()) {
            throw new TrinoException(CONFIGURATION_INVALID, "%s: '%s' is neither an absolute path nor a URI such as s3://bucket/prefix".formatted(PROPERTY, directory));
        }
        if (uri.getScheme().equalsIgnoreCase("file") && (uri.getPath() == null || !uri.getPath().startsWith("/"))) {
            throw new TrinoException(CONFIGURATION_INVALID, "%s: '%s' must be an absolute file: URI".formatted(PROPERTY, directory));
        }
        if (defaultFileSystem.isPresent()
                && uri.getRawAuthority() == null
                && uri.getScheme().equalsIgnoreCase(defaultFileSystem.orElseThrow().getScheme())
                && defaultFileSystem.orElseThrow().getRawAuthority() != null) {
            // hdfs:///path: the namenode of the default file system, as Hadoop reads it
            uri = onFileSystem(defaultFileSystem.orElseThrow(), uri.getRawPath(), directory);
        }
        return withTrailingSlash(uri);
    }

    private static URI onFileSystem(URI fileSystem, String rawPath, String directory)
    {
        try {
            return new URI(fileSystem.getScheme() + "://" + (fileSystem.getRawAuthority() == null ? "" : fileSystem.getRawAuthority()) + rawPath).normalize();
        }
        catch (URISyntaxException e) {
            throw new TrinoException(CONFIGURATION_INVALID, "%s: '%s' on the default file system %s is not a valid URI: %s".formatted(PROPERTY, directory, fileSystem, e.getReason()));
        }
    }

    private static URI withTrailingSlash(URI uri)
    {
        // URI.resolve treats the last path segment as a file unless the path ends with '/'
        String text = uri.toString();
        return text.endsWith("/") ? uri : URI.create(text + "/");
    }
}
