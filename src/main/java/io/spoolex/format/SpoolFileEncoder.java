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

import io.spoolex.config.CompressionCodec;
import net.jpountz.lz4.LZ4Compressor;

import java.security.SecureRandom;
import java.util.Optional;
import java.util.zip.CRC32C;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkState;
import static io.spoolex.format.SpoolFileFormat.BLOCK_HEADER_BYTES;
import static io.spoolex.format.SpoolFileFormat.BLOCK_LZ4;
import static io.spoolex.format.SpoolFileFormat.BLOCK_RAW;
import static io.spoolex.format.SpoolFileFormat.FLAG_ENCRYPTED;
import static io.spoolex.format.SpoolFileFormat.HEADER_BODY_BYTES;
import static io.spoolex.format.SpoolFileFormat.INT_LE;
import static io.spoolex.format.SpoolFileFormat.LONG_LE;
import static io.spoolex.format.SpoolFileFormat.MAGIC;
import static io.spoolex.format.SpoolFileFormat.MAX_BLOCK_SIZE;
import static io.spoolex.format.SpoolFileFormat.SALT_BYTES;
import static io.spoolex.format.SpoolFileFormat.TRAILER;
import static io.spoolex.format.SpoolFileFormat.TRAILER_BODY_BYTES;
import static io.spoolex.format.SpoolFileFormat.VERSION;
import static java.util.Objects.requireNonNull;

/**
 * Writes one spool file: its header, then blocks of raw page bytes (compressed when that shrinks them,
 * then sealed), then the trailer. The caller owns the output buffers; this class keeps the running totals
 * and the file's content checksum that goes into the attempt's manifest: a CRC32C over the check values (CRC32C or
 * GCM tag) of its units, which bind every byte already, so the manifest needs no second pass over the bytes.
 * Not thread-safe: one per file.
 */
public final class SpoolFileEncoder
{
    static final String FILE_PURPOSE = "spoolex/1 file";

    private static final LZ4Compressor LZ4 = Lz4Implementation.get().compressor();

    private final CompressionCodec codec;
    private final boolean encrypted;
    private final int checkBytes;
    private final byte[] salt = new byte[SALT_BYTES];
    private final BlockSeal seal;
    private final CRC32C fileChecksum = new CRC32C();
    private final byte[] trailerScratch = new byte[TRAILER_BODY_BYTES];

    private final CompressionScratch scratch;
    private final AdaptiveCompression compression;
    private boolean headerWritten;
    private boolean finished;
    private int blockCount;
    private long rawBytes;
    private long fileBytes;

    /**
     * An encoder borrowing its compression scratch arrays from {@code scratch}, which it may share with other encoders.
     */
    public SpoolFileEncoder(SpoolFileId fileId, Optional<ExchangeKey> key, CompressionCodec codec, AdaptiveCompression compression, SecureRandom random, CompressionScratch scratch)
    {
        requireNonNull(fileId, "fileId is null");
        this.compression = requireNonNull(compression, "compression is null");
        this.scratch = requireNonNull(scratch, "scratch is null");
        requireNonNull(key, "key is null");
        this.codec = requireNonNull(codec, "codec is null");
        this.encrypted = key.isPresent();
        this.checkBytes = SpoolFileFormat.checkBytes(encrypted);
        random.nextBytes(salt);
        this.seal = BlockSeal.forFile(key, FILE_PURPOSE, fileId.toBytes(), salt);
    }

    /**
     * Buffer space {@link #encodeBlock} needs for a block of {@code rawLength} bytes (room for an LZ4 attempt that does not shrink).
     */
    public static int encodeBufferBytes(int rawLength, boolean encrypted)
    {
        return BLOCK_HEADER_BYTES + Math.max(rawLength, LZ4.maxCompressedLength(rawLength)) + SpoolFileFormat.checkBytes(encrypted);
    }

    public boolean isEncrypted()
    {
        return encrypted;
    }

    public int writeHeader(byte[] out, int offset)
    {
        checkState(!headerWritten, "header already written");
        INT_LE.set(out, offset, MAGIC);
        out[offset + 4] = VERSION;
        out[offset + 5] = encrypted ? FLAG_ENCRYPTED : 0;
        out[offset + 6] = 0;
        out[offset + 7] = 0;
        System.arraycopy(salt, 0, out, offset + 8, SALT_BYTES);
        int sealed = seal.seal(BlockSeal.HEADER_INDEX, out, offset, HEADER_BODY_BYTES, out, offset + HEADER_BODY_BYTES, 0, out, offset + HEADER_BODY_BYTES);
        headerWritten = true;
        return account(out, offset, HEADER_BODY_BYTES + sealed);
    }

    /**
     * Encodes {@code rawLength} page bytes as the next block into {@code out} at {@code offset}, which must have
     * {@link #encodeBufferBytes} bytes of room. Returns the bytes written.
     */
    public int encodeBlock(byte[] raw, int rawOffset, int rawLength, byte[] out, int offset)
    {
        checkState(headerWritten && !finished, "block outside of header and trailer");
        checkArgument(rawLength > 0 && rawLength <= MAX_BLOCK_SIZE, "invalid block length: %s", rawLength);
        int payloadOffset = offset + BLOCK_HEADER_BYTES;
        byte kind = BLOCK_RAW;
        int storedLength = rawLength;
        int sealed;
        byte[] payload = raw;
        int payloadSourceOffset = rawOffset;
        byte[] borrowed = null;
        try {
            if (codec == CompressionCodec.LZ4 && compression.shouldTry()) {
                // compress straight into place when only a checksum follows; into a scratch array when the block gets
                // encrypted, because the JDK's AES-GCM runs about twice as fast out of place as in place
                if (encrypted) {
                    borrowed = scratch.take(LZ4.maxCompressedLength(rawLength));
                }
                byte[] target = encrypted ? borrowed : out;
                int targetOffset = encrypted ? 0 : payloadOffset;
                int compressedLength = LZ4.compress(raw, rawOffset, rawLength, target, targetOffset, target.length - targetOffset);
                compression.recordAttempt(rawLength, compressedLength);
                if (compressedLength < rawLength) {
                    kind = BLOCK_LZ4;
                    storedLength = compressedLength;
                    payload = target;
                    payloadSourceOffset = targetOffset;
                }
            }
            out[offset] = kind;
            INT_LE.set(out, offset + 1, rawLength);
            INT_LE.set(out, offset + 5, storedLength);
            sealed = seal.seal(blockCount, out, offset, BLOCK_HEADER_BYTES, payload, payloadSourceOffset, storedLength, out, payloadOffset);
        }
        finally {
            if (borrowed != null) {
                scratch.release(borrowed);
            }
        }
        blockCount++;
        rawBytes += rawLength;
        return account(out, offset, BLOCK_HEADER_BYTES + sealed);
    }

    public int writeTrailer(byte[] out, int offset)
    {
        checkState(headerWritten && !finished, "trailer outside of the file");
        trailerScratch[0] = TRAILER;
        INT_LE.set(trailerScratch, 1, blockCount);
        LONG_LE.set(trailerScratch, 5, rawBytes);
        System.arraycopy(trailerScratch, 0, out, offset, TRAILER_BODY_BYTES);
        int sealed = seal.seal(blockCount, out, offset, TRAILER_BODY_BYTES, out, offset + TRAILER_BODY_BYTES, 0, out, offset + TRAILER_BODY_BYTES);
        finished = true;
        return account(out, offset, TRAILER_BODY_BYTES + sealed);
    }

    private int account(byte[] out, int offset, int length)
    {
        // every unit ends with its check value
        fileChecksum.update(out, offset + length - checkBytes, checkBytes);
        fileBytes += length;
        return length;
    }

    /**
     * CRC32C over the check values of the units written so far, in order.
     */
    public int fileChecksum()
    {
        return (int) fileChecksum.getValue();
    }

    public long fileBytes()
    {
        return fileBytes;
    }

    public long rawBytes()
    {
        return rawBytes;
    }

    public int blockCount()
    {
        return blockCount;
    }
}
