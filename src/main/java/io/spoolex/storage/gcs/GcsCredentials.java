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

import com.google.auth.Credentials;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.auth.oauth2.ServiceAccountCredentials;
import com.google.cloud.NoCredentials;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * The credentials of the GCS JSON API, as Trino takes them: a service-account key file
 * ({@code exchange.gcs.json-key-file-path}), an inline key ({@code exchange.gcs.json-key}), or else the
 * application-default credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's, or the metadata server's: Workload
 * Identity on GKE). A key that cannot be read or parsed fails with a message naming the property, never its content.
 * {@link #toString()} says where the credentials come from, nothing more.
 */
final class GcsCredentials
{
    /**
     * Enough for every request Spoolex makes: objects created, read, listed and deleted.
     */
    static final List<String> SCOPES = List.of("https://www.googleapis.com/auth/devstorage.read_write");

    private final Credentials credentials;
    private final Optional<String> projectId;
    private final String source;

    private GcsCredentials(Credentials credentials, Optional<String> projectId, String source)
    {
        this.credentials = requireNonNull(credentials, "credentials is null");
        this.projectId = requireNonNull(projectId, "projectId is null");
        this.source = requireNonNull(source, "source is null");
    }

    /**
     * A key that could not be used: the message names the property and never the key's content.
     */
    static final class InvalidKeyException
            extends RuntimeException
    {
        InvalidKeyException(String message)
        {
            // no cause: a parser's message may quote the key
            super(message, null, false, false);
        }
    }

    /**
     * The configured key, if one is configured.
     */
    static Optional<GcsCredentials> fromKey(Optional<String> keyFilePath, Optional<String> inlineKey)
    {
        if (keyFilePath.isPresent()) {
            Path path = Path.of(keyFilePath.orElseThrow());
            byte[] key;
            try {
                key = Files.readAllBytes(path);
            }
            catch (NoSuchFileException e) {
                throw new InvalidKeyException("Invalid configuration: %s: %s does not exist".formatted(GcsStorageConfig.JSON_KEY_FILE_PATH, path));
            }
            catch (AccessDeniedException e) {
                throw new InvalidKeyException("Invalid configuration: %s: %s cannot be read (permission denied)".formatted(GcsStorageConfig.JSON_KEY_FILE_PATH, path));
            }
            catch (IOException | RuntimeException e) {
                throw new InvalidKeyException("Invalid configuration: %s: %s cannot be read (%s)".formatted(GcsStorageConfig.JSON_KEY_FILE_PATH, path, e.getClass().getSimpleName()));
            }
            GoogleCredentials parsed = parse(key).orElseThrow(() -> new InvalidKeyException(
                    "Invalid configuration: %s: %s is not a Google credentials file in JSON (such as a service-account key)".formatted(GcsStorageConfig.JSON_KEY_FILE_PATH, path)));
            return Optional.of(new GcsCredentials(parsed, projectOf(parsed), "key file %s (%s)".formatted(path, GcsStorageConfig.JSON_KEY_FILE_PATH)));
        }
        if (inlineKey.isPresent()) {
            GoogleCredentials parsed = parse(inlineKey.orElseThrow().getBytes(StandardCharsets.UTF_8)).orElseThrow(() -> new InvalidKeyException(
                    "Invalid configuration: %s is not Google credentials in JSON (such as a service-account key); its content is not shown".formatted(GcsStorageConfig.JSON_KEY)));
            return Optional.of(new GcsCredentials(parsed, projectOf(parsed), "inline key (%s)".formatted(GcsStorageConfig.JSON_KEY)));
        }
        return Optional.empty();
    }

    /**
     * The application-default credentials, or empty where there are none.
     */
    static Optional<GcsCredentials> applicationDefault()
    {
        try {
            GoogleCredentials found = GoogleCredentials.getApplicationDefault();
            return Optional.of(new GcsCredentials(scoped(found), projectOf(found), "application-default credentials (%s)".formatted(found.getClass().getSimpleName())));
        }
        catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * No credentials, for a Storage service that needs none (one a test hands in).
     */
    static GcsCredentials none()
    {
        return new GcsCredentials(NoCredentials.getInstance(), Optional.empty(), "none (a given Storage service)");
    }

    private static Optional<GoogleCredentials> parse(byte[] key)
    {
        try (InputStream stream = new ByteArrayInputStream(key)) {
            return Optional.of(scoped(GoogleCredentials.fromStream(stream)));
        }
        catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static GoogleCredentials scoped(GoogleCredentials credentials)
    {
        return credentials.createScopedRequired() ? credentials.createScoped(SCOPES) : credentials;
    }

    private static Optional<String> projectOf(GoogleCredentials credentials)
    {
        if (credentials instanceof ServiceAccountCredentials serviceAccount) {
            return Optional.ofNullable(serviceAccount.getProjectId());
        }
        return Optional.ofNullable(credentials.getQuotaProjectId());
    }

    Credentials credentials()
    {
        return credentials;
    }

    /**
     * The key's project, so that the client never looks one up (object requests need none).
     */
    Optional<String> projectId()
    {
        return projectId;
    }

    @Override
    public String toString()
    {
        return source;
    }
}
