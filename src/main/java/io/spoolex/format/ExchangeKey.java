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
package io.spoolex.format;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * The AES-256 key of one exchange. The coordinator creates it in {@code createExchange}; it travels to workers
 * inside sink instance handles and source handles (the engine's own task channel) and is never written to
 * storage, logs, {@link #toString()} or metrics. Spool files and manifests are encrypted under keys derived
 * from it, never under this key itself.
 */
public final class ExchangeKey
{
    public static final int KEY_BYTES = 32;

    private final byte[] key;

    private ExchangeKey(byte[] key)
    {
        checkArgument(key.length == KEY_BYTES, "exchange key must be %s bytes", KEY_BYTES);
        this.key = key;
    }

    public static ExchangeKey random(SecureRandom random)
    {
        byte[] key = new byte[KEY_BYTES];
        random.nextBytes(key);
        return new ExchangeKey(key);
    }

    @JsonCreator
    public static ExchangeKey fromBase64(String encoded)
    {
        requireNonNull(encoded, "encoded is null");
        return new ExchangeKey(Base64.getDecoder().decode(encoded));
    }

    @JsonValue
    public String toBase64()
    {
        return Base64.getEncoder().encodeToString(key);
    }

    SecretKey secretKey()
    {
        return new SecretKeySpec(key, "AES");
    }

    @Override
    public boolean equals(Object o)
    {
        return o instanceof ExchangeKey other && MessageDigest.isEqual(key, other.key);
    }

    @Override
    public int hashCode()
    {
        // keys are random: a constant hash keeps the key bytes out of any hash-derived output
        return ExchangeKey.class.hashCode();
    }

    @Override
    public String toString()
    {
        return "ExchangeKey[redacted]";
    }
}
