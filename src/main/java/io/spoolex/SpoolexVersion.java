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
package io.spoolex;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

import static java.util.Objects.requireNonNull;

/**
 * The Spoolex build this is: its version and the git commit it was built from, as the build wrote them into
 * {@code io/spoolex/spoolex-version.properties} (also in the jar manifest: {@code Implementation-Version},
 * {@code Spoolex-Commit}).
 */
public record SpoolexVersion(String version, String commit)
{
    private static final String RESOURCE = "spoolex-version.properties";

    public SpoolexVersion
    {
        requireNonNull(version, "version is null");
        requireNonNull(commit, "commit is null");
    }

    public static SpoolexVersion current()
    {
        Properties properties = new Properties();
        try (InputStream resource = SpoolexVersion.class.getResourceAsStream(RESOURCE)) {
            if (resource != null) {
                properties.load(resource);
            }
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new SpoolexVersion(value(properties, "version"), value(properties, "commit"));
    }

    private static String value(Properties properties, String key)
    {
        String value = properties.getProperty(key, "");
        // left unfilled by a build that is not from git (or not through Maven)
        return value.isEmpty() || value.startsWith("${") ? "unknown" : value;
    }

    @Override
    public String toString()
    {
        return "%s (commit %s)".formatted(version, commit);
    }
}
