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

import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.format.BlockSeal.SealBrokenException;
import net.jpountz.lz4.LZ4Exception;
import net.jpountz.lz4.LZ4SafeDecompressor;

import java.util.Arrays;
import java.util.Optional;
import java.util.zip.CRC32C;

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
import static io.spoolex.format.SpoolFileFormat.corrupted;
import static java.lang.Math.min;
import static java.util.Objects.requireNonNull;

/**
 * Reads one spool file from chunks of its bytes that arrive in order and may split units anywhere.
 * Every unit is verified before any of its bytes are used; the raw page bytes of each verified block go to the
 * consumer. {@link #finish()} then proves the file was complete: trailer present with the right block count and
 * byte total, nothing after it, and the size and content checksum (CRC32C over the units' check values) the
 * manifest recorded: a complete, well-formed file written by another attempt or another writer of the same name has
 * other check values, because its salt differs.
 * Blocks are handed on in arrays of their own or in the place their {@link BlockSink} offered, never as views of a
 * chunk: the caller may reuse a chunk's memory as soon as {@link #decode} returns.
 * Any problem is a {@code SPOOL_FILE_CORRUPTED} error naming the file and what was wrong.
 */
public final class SpoolFileDecoder
{
    private static final LZ4SafeDecompressor LZ4 = Lz4Implementation.get().decompressor();

    private enum State
    {
        HEADER, BLOCKS, END
    }

    /**
     * Receives a file's raw blocks, in order, and may say where the next one should be decoded to.
     */
    public interface BlockSink
    {
        /**
         * Exactly {@code rawLength} bytes of heap memory to decode the next block into, or null for an array of the
         * decoder's own. The memory must not be read before the block arrives in {@link #accept}.
         */
        default Slice destination(int rawLength)
        {
            return null;
        }

        /**
         * The raw bytes of the next verified block.
         */
        void accept(Slice block);
    }

    private final String fileName;
    private final SpoolFileId fileId;
    private final Optional<ExchangeKey> key;
    private final long expectedFileBytes;
    private final int expectedChecksum;
    private final int checkBytes;
    private final CRC32C fileChecksum = new CRC32C();

    private State state = State.HEADER;
    private BlockSeal seal;
    private long bytesSeen;
    private long unitOffset;
    private int blockIndex;
    private long rawBytes;

    private byte[] scratch;

    // a unit that spans chunks is collected here
    private byte[] carry;
    private int carryLength;

    public SpoolFileDecoder(String fileName, SpoolFileId fileId, Optional<ExchangeKey> key, long expectedFileBytes, int expectedChecksum)
    {
        this.fileName = requireNonNull(fileName, "fileName is null");
        this.fileId = requireNonNull(fileId, "fileId is null");
        this.key = requireNonNull(key, "key is null");
        this.expectedFileBytes = expectedFileBytes;
        this.expectedChecksum = expectedChecksum;
        this.checkBytes = SpoolFileFormat.checkBytes(key.isPresent());
    }

    /**
     * Decodes the next {@code chunk} of the file; passes the raw bytes of each completed block to {@code blocks}.
     */
    public void decode(Slice chunk, BlockSink blocks)
    {
        byte[] buffer = chunk.byteArray();
        int position = chunk.byteArrayOffset();
        int end = position + chunk.length();
        bytesSeen += chunk.length();
        if (bytesSeen > expectedFileBytes) {
            throw corrupted(fileName, "longer than the %s bytes its manifest recorded", expectedFileBytes);
        }
        while (position < end) {
            if (carryLength == 0) {
                int available = end - position;
                int needed = unitLength(buffer, position, available);
                if (needed <= available) {
                    processUnit(buffer, position, needed, blocks);
                    position += needed;
                    continue;
                }
                carry = new byte[Math.max(needed, 16)];
            }
            int needed = unitLength(carry, 0, carryLength);
            while (needed > carryLength && position < end) {
                int length = min(needed - carryLength, end - position);
                if (carry.length < carryLength + length) {
                    carry = Arrays.copyOf(carry, needed);
                }
                System.arraycopy(buffer, position, carry, carryLength, length);
                carryLength += length;
                position += length;
                needed = unitLength(carry, 0, carryLength);
            }
            if (needed <= carryLength) {
                byte[] unit = carry;
                carry = null;
                carryLength = 0;
                processUnit(unit, 0, needed, blocks);
            }
        }
    }

    /**
     * Verifies that the whole file was decoded. Call after the last chunk.
     */
    public void finish()
    {
        if (state != State.END || carryLength > 0) {
            String where = switch (state) {
                case HEADER -> "inside its header";
                case BLOCKS -> carryLength > 0 ? "inside block %s".formatted(blockIndex) : "before its trailer (after %s blocks)".formatted(blockIndex);
                case END -> "after its trailer";
            };
            throw corrupted(fileName, "truncated: it ends %s, at byte %s of the %s its manifest recorded", where, bytesSeen, expectedFileBytes);
        }
        if (bytesSeen != expectedFileBytes) {
            throw corrupted(fileName, "it has %s bytes but its manifest recorded %s", bytesSeen, expectedFileBytes);
        }
        if ((int) fileChecksum.getValue() != expectedChecksum) {
            throw corrupted(fileName, "content checksum %08x does not match the manifest's %08x", (int) fileChecksum.getValue(), expectedChecksum);
        }
    }

    public int blockCount()
    {
        return blockIndex;
    }

    public long rawBytes()
    {
        return rawBytes;
    }

    public long bytesSeen()
    {
        return bytesSeen;
    }

    /**
     * Length of the unit starting at {@code offset} if {@code available} bytes suffice to tell; otherwise a
     * lower bound larger than {@code available} (call again once that many bytes are there).
     */
    private int unitLength(byte[] buffer, int offset, int available)
    {
        return switch (state) {
            case HEADER -> HEADER_BODY_BYTES + checkBytes;
            case END -> throw corrupted(fileName, "%s unexpected bytes after its trailer", expectedFileBytes - unitOffset);
            case BLOCKS -> {
                if (available < 1) {
                    yield 1;
                }
                byte kind = buffer[offset];
                if (kind == TRAILER) {
                    yield TRAILER_BODY_BYTES + checkBytes;
                }
                if (kind != BLOCK_RAW && kind != BLOCK_LZ4) {
                    throw corrupted(fileName, "unknown unit kind 0x%02x at byte %s (block %s)", kind, unitOffset, blockIndex);
                }
                if (available < BLOCK_HEADER_BYTES) {
                    yield BLOCK_HEADER_BYTES;
                }
                int rawLength = (int) INT_LE.get(buffer, offset + 1);
                int storedLength = (int) INT_LE.get(buffer, offset + 5);
                if (rawLength <= 0 || rawLength > MAX_BLOCK_SIZE || storedLength <= 0 || storedLength > rawLength || (kind == BLOCK_RAW && storedLength != rawLength)) {
                    throw corrupted(fileName, "block %s at byte %s has impossible lengths (raw %s, stored %s)", blockIndex, unitOffset, rawLength, storedLength);
                }
                yield BLOCK_HEADER_BYTES + storedLength + checkBytes;
            }
        };
    }

    private void processUnit(byte[] buffer, int offset, int length, BlockSink blocks)
    {
        // taken before the unit is opened, which may decrypt in place
        fileChecksum.update(buffer, offset + length - checkBytes, checkBytes);
        switch (state) {
            case HEADER -> readHeader(buffer, offset);
            case BLOCKS -> {
                if (buffer[offset] == TRAILER) {
                    readTrailer(buffer, offset);
                }
                else {
                    blocks.accept(readBlock(buffer, offset, length, blocks));
                }
            }
            case END -> throw new IllegalStateException("unit after the end");
        }
        unitOffset += length;
    }

    private void readHeader(byte[] buffer, int offset)
    {
        if ((int) INT_LE.get(buffer, offset) != MAGIC) {
            throw corrupted(fileName, "not a Spoolex spool file (bad magic number)");
        }
        if (buffer[offset + 4] != VERSION) {
            throw corrupted(fileName, "unsupported format version %s (this reader knows version %s)", buffer[offset + 4], VERSION);
        }
        boolean encrypted = (buffer[offset + 5] & FLAG_ENCRYPTED) != 0;
        if ((buffer[offset + 5] & ~FLAG_ENCRYPTED) != 0 || buffer[offset + 6] != 0 || buffer[offset + 7] != 0) {
            throw corrupted(fileName, "unknown header flags");
        }
        if (encrypted != key.isPresent()) {
            throw corrupted(fileName, encrypted ? "the file is encrypted but its exchange is not" : "the file is not encrypted but its exchange is");
        }
        byte[] salt = Arrays.copyOfRange(buffer, offset + 8, offset + 8 + SALT_BYTES);
        seal = BlockSeal.forFile(key, SpoolFileEncoder.FILE_PURPOSE, fileId.toBytes(), salt);
        open(BlockSeal.HEADER_INDEX, buffer, offset, HEADER_BODY_BYTES, "header");
        state = State.BLOCKS;
    }

    private Slice readBlock(byte[] buffer, int offset, int length, BlockSink blocks)
    {
        byte kind = buffer[offset];
        int rawLength = (int) INT_LE.get(buffer, offset + 1);
        int storedLength = (int) INT_LE.get(buffer, offset + 5);
        if (length != BLOCK_HEADER_BYTES + storedLength + checkBytes) {
            throw corrupted(fileName, "block %s at byte %s has the wrong length", blockIndex, unitOffset);
        }
        Slice raw = blocks.destination(rawLength);
        if (raw == null) {
            raw = Slices.wrappedBuffer(new byte[rawLength]);
        }
        else if (raw.length() != rawLength) {
            throw new IllegalArgumentException("destination has %s bytes, not %s".formatted(raw.length(), rawLength));
        }
        // the verified payload: decrypted to the raw bytes or, for LZ4, to the scratch buffer; checksummed in place
        byte[] payload = buffer;
        int payloadOffset = offset + BLOCK_HEADER_BYTES;
        if (seal.decryptsToDestination()) {
            if (kind == BLOCK_LZ4) {
                payload = scratch(storedLength);
                payloadOffset = 0;
            }
            else {
                payload = raw.byteArray();
                payloadOffset = raw.byteArrayOffset();
            }
        }
        int payloadLength = open(blockIndex, buffer, offset, BLOCK_HEADER_BYTES, payload, payloadOffset, "block " + blockIndex);
        if (payloadLength != storedLength) {
            throw corrupted(fileName, "block %s at byte %s has the wrong length", blockIndex, unitOffset);
        }
        if (kind == BLOCK_LZ4) {
            int actual;
            try {
                actual = LZ4.decompress(payload, payloadOffset, storedLength, raw.byteArray(), raw.byteArrayOffset(), rawLength);
            }
            catch (LZ4Exception e) {
                throw corrupted(fileName, e, "block %s at byte %s does not decompress", blockIndex, unitOffset);
            }
            if (actual != rawLength) {
                throw corrupted(fileName, "block %s at byte %s decompresses to %s bytes, not %s", blockIndex, unitOffset, actual, rawLength);
            }
        }
        else if (payload == buffer) {
            // checksummed only: copied out, so that nothing refers to the chunk once decode returns
            System.arraycopy(buffer, payloadOffset, raw.byteArray(), raw.byteArrayOffset(), rawLength);
        }
        blockIndex++;
        rawBytes += rawLength;
        return raw;
    }

    private void readTrailer(byte[] buffer, int offset)
    {
        open(blockIndex, buffer, offset, TRAILER_BODY_BYTES, "trailer");
        int blockCount = (int) INT_LE.get(buffer, offset + 1);
        long trailerRawBytes = (long) LONG_LE.get(buffer, offset + 5);
        if (blockCount != blockIndex || trailerRawBytes != rawBytes) {
            throw corrupted(fileName, "trailer records %s blocks and %s bytes, but the file has %s blocks and %s bytes", blockCount, trailerRawBytes, blockIndex, rawBytes);
        }
        state = State.END;
    }

    private int open(long index, byte[] buffer, int offset, int headerLength, String unit)
    {
        // header and trailer have no payload: nothing is written to the destination
        return open(index, buffer, offset, headerLength, buffer, offset + headerLength, unit);
    }

    private int open(long index, byte[] buffer, int offset, int headerLength, byte[] destination, int destinationOffset, String unit)
    {
        try {
            return seal.open(index, buffer, offset, headerLength, buffer, offset + headerLength, sealedLength(buffer, offset), destination, destinationOffset);
        }
        catch (SealBrokenException e) {
            throw corrupted(fileName, "%s at byte %s: %s", unit, unitOffset, e.getMessage());
        }
    }

    /**
     * A reusable buffer for decrypted LZ4 payloads, which live only until they are decompressed.
     */
    private byte[] scratch(int length)
    {
        if (scratch == null || scratch.length < length) {
            scratch = new byte[length];
        }
        return scratch;
    }

    private int sealedLength(byte[] buffer, int offset)
    {
        if (state == State.BLOCKS && buffer[offset] != TRAILER) {
            return (int) INT_LE.get(buffer, offset + 5) + checkBytes;
        }
        return checkBytes;
    }
}
