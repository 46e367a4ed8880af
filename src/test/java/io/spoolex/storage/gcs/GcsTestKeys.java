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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

/**
 * Service-account keys made for a test: a fresh RSA key in Google's JSON key format, whose token endpoint is a
 * closed loopback port (or a given local URL), so that nothing ever leaves the machine.
 */
public final class GcsTestKeys
{
    /**
     * A marker inside every private key made here, so that a test can check it never shows.
     */
    public static final String PRIVATE_KEY_HEADER = "-----BEGIN PRIVATE KEY-----";

    private GcsTestKeys() {}

    public static String serviceAccountKey(String tokenUri)
    {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            String pem = PRIVATE_KEY_HEADER + "\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(generator.generateKeyPair().getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
            return """
                   {"type": "service_account", "project_id": "spoolex-test", "private_key_id": "spoolex-test-key", \
                   "private_key": "%s", "client_email": "spoolex@spoolex-test.iam.gserviceaccount.com", "client_id": "1", \
                   "token_uri": "%s"}""".formatted(pem.replace("\n", "\\n"), tokenUri);
        }
        catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String serviceAccountKey()
    {
        return serviceAccountKey("http://127.0.0.1:9/token");
    }

    public static Path writeKeyFile(Path directory, String content)
    {
        try {
            Files.createDirectories(directory);
            Path file = Files.createTempFile(directory, "gcs-key-", ".json");
            Files.writeString(file, content);
            return file;
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
