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

import com.google.common.primitives.Bytes;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.KDF;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.HKDFParameterSpec;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Protects one unit of a spool file (header, block or trailer): its header bytes are authenticated, its payload
 * is encrypted (AES-256-GCM) or only checksummed (CRC32C), and the check is appended after the payload.
 * Every unit has an index (block number; the header and trailer have their own) that must match on reading,
 * so units cannot be reordered, dropped or replayed.
 */
abstract sealed class BlockSeal
        permits BlockSeal.Gcm, BlockSeal.Crc
{
    static final int GCM_TAG_BYTES = 16;
    static final int CRC_BYTES = 4;
    static final long HEADER_INDEX = -1;

    static BlockSeal forFile(Optional<ExchangeKey> key, String purpose, byte[] identity, byte[] salt)
    {
        if (key.isEmpty()) {
            return new Crc(Bytes.concat(purpose.getBytes(StandardCharsets.UTF_8), identity, salt));
        }
        return new Gcm(deriveKey(key.orElseThrow(), purpose, identity, salt));
    }

    abstract int checkBytes();

    /**
     * Seals {@code length} payload bytes from {@code src} into {@code dst} (which may be the same bytes):
     * writes the protected payload followed by the check and returns the bytes written.
     */
    abstract int seal(long index, byte[] header, int headerOffset, int headerLength, byte[] src, int srcOffset, int length, byte[] dst, int dstOffset);

    /**
     * Verifies {@code sealedLength} bytes (payload and check) of {@code src} and returns the payload length. An encrypted
     * payload is decrypted into {@code dst} (a separate buffer: the JDK's AES-GCM is about twice as fast out of place);
     * a checksummed one stays where it is and {@code dst} is not touched.
     *
     * @throws SealBrokenException if the unit was modified, moved, or written under another key
     */
    abstract int open(long index, byte[] header, int headerOffset, int headerLength, byte[] src, int srcOffset, int sealedLength, byte[] dst, int dstOffset)
            throws SealBrokenException;

    /**
     * Whether {@link #open} writes the payload to its destination (true) or leaves it in place (false).
     */
    abstract boolean decryptsToDestination();

    static final class SealBrokenException
            extends Exception
    {
        SealBrokenException(String message)
        {
            super(message, null, false, false);
        }
    }

    private static SecretKey deriveKey(ExchangeKey exchangeKey, String purpose, byte[] identity, byte[] salt)
    {
        try {
            // HKDF-SHA256: a distinct AES key per file (salted with the file's random salt), so the per-block
            // counter nonces below never repeat under one key, however many writers share the exchange key
            KDF hkdf = KDF.getInstance("HKDF-SHA256");
            byte[] info = Bytes.concat(purpose.getBytes(StandardCharsets.UTF_8), identity);
            return hkdf.deriveKey("AES", HKDFParameterSpec.ofExtract()
                    .addIKM(exchangeKey.secretKey())
                    .addSalt(salt)
                    .thenExpand(info, ExchangeKey.KEY_BYTES));
        }
        catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM key derivation (HKDF-SHA256) is not available in this JVM", e);
        }
    }

    static final class Gcm
            extends BlockSeal
    {
        private final SecretKey key;
        private final Cipher cipher;
        private final byte[] nonce = new byte[12];

        Gcm(SecretKey key)
        {
            this.key = key;
            try {
                this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
            }
            catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES/GCM/NoPadding is not available in this JVM", e);
            }
        }

        @Override
        int checkBytes()
        {
            return GCM_TAG_BYTES;
        }

        @Override
        int seal(long index, byte[] header, int headerOffset, int headerLength, byte[] src, int srcOffset, int length, byte[] dst, int dstOffset)
        {
            try {
                cipher.init(Cipher.ENCRYPT_MODE, key, parameters(index));
                cipher.updateAAD(header, headerOffset, headerLength);
                return cipher.doFinal(src, srcOffset, length, dst, dstOffset);
            }
            catch (ShortBufferException e) {
                throw new IllegalArgumentException("output buffer too small for a sealed block", e);
            }
            catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM encryption failed", e);
            }
        }

        @Override
        boolean decryptsToDestination()
        {
            return true;
        }

        @Override
        int open(long index, byte[] header, int headerOffset, int headerLength, byte[] src, int srcOffset, int sealedLength, byte[] dst, int dstOffset)
                throws SealBrokenException
        {
            if (sealedLength < GCM_TAG_BYTES) {
                throw new SealBrokenException("shorter than its authentication tag");
            }
            try {
                cipher.init(Cipher.DECRYPT_MODE, key, parameters(index));
                cipher.updateAAD(header, headerOffset, headerLength);
                return cipher.doFinal(src, srcOffset, sealedLength, dst, dstOffset);
            }
            catch (AEADBadTagException e) {
                throw new SealBrokenException("authentication failed (modified or moved data, or another exchange's key)");
            }
            catch (ShortBufferException e) {
                throw new IllegalStateException(e);
            }
            catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM decryption failed", e);
            }
        }

        private GCMParameterSpec parameters(long index)
        {
            // 96-bit nonce: 4 zero bytes, then the unit index; unique per unit within a file key
            for (int i = 0; i < 8; i++) {
                nonce[4 + i] = (byte) (index >>> (56 - 8 * i));
            }
            return new GCMParameterSpec(GCM_TAG_BYTES * 8, nonce);
        }
    }

    static final class Crc
            extends BlockSeal
    {
        private final byte[] prefix;
        private final CRC32C crc = new CRC32C();
        private final byte[] indexBytes = new byte[8];

        Crc(byte[] prefix)
        {
            this.prefix = prefix;
        }

        @Override
        int checkBytes()
        {
            return CRC_BYTES;
        }

        @Override
        int seal(long index, byte[] header, int headerOffset, int headerLength, byte[] src, int srcOffset, int length, byte[] dst, int dstOffset)
        {
            if (src != dst || srcOffset != dstOffset) {
                System.arraycopy(src, srcOffset, dst, dstOffset, length);
            }
            int value = checksum(index, header, headerOffset, headerLength, dst, dstOffset, length);
            SpoolFileFormat.INT_LE.set(dst, dstOffset + length, value);
            return length + CRC_BYTES;
        }

        @Override
        boolean decryptsToDestination()
        {
            return false;
        }

        @Override
        int open(long index, byte[] header, int headerOffset, int headerLength, byte[] src, int srcOffset, int sealedLength, byte[] dst, int dstOffset)
                throws SealBrokenException
        {
            if (sealedLength < CRC_BYTES) {
                throw new SealBrokenException("shorter than its checksum");
            }
            int length = sealedLength - CRC_BYTES;
            int expected = (int) SpoolFileFormat.INT_LE.get(src, srcOffset + length);
            int actual = checksum(index, header, headerOffset, headerLength, src, srcOffset, length);
            if (expected != actual) {
                throw new SealBrokenException("checksum mismatch (modified or moved data)");
            }
            return length;
        }

        private int checksum(long index, byte[] header, int headerOffset, int headerLength, byte[] payload, int payloadOffset, int payloadLength)
        {
            crc.reset();
            crc.update(prefix);
            SpoolFileFormat.LONG_LE.set(indexBytes, 0, index);
            crc.update(indexBytes);
            crc.update(header, headerOffset, headerLength);
            crc.update(payload, payloadOffset, payloadLength);
            return (int) crc.getValue();
        }
    }
}
