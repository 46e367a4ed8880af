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
import io.spoolex.config.CompressionCodec;
import io.spoolex.format.SpoolFileFixture.EncodedFile;
import io.trino.spi.TrinoException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static io.spoolex.format.SpoolFileFixture.RANDOM;
import static io.spoolex.format.SpoolFileFixture.decode;
import static io.spoolex.format.SpoolFileFixture.encode;
import static io.spoolex.format.SpoolFileFixture.pages;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * The spool file format on its own: round trips over every boundary, and a corruption suite in which every damaged
 * file must fail with SPOOL_FILE_CORRUPTED before any page of a damaged block is released.
 */
public class TestSpoolFileFormat
{
    private static final SpoolFileId FILE = new SpoolFileId("exchange-a", 3, 1, 7, 0);

    static Stream<Arguments> codecs()
    {
        return Stream.of(
                Arguments.of(CompressionCodec.LZ4, true),
                Arguments.of(CompressionCodec.LZ4, false),
                Arguments.of(CompressionCodec.NONE, true),
                Arguments.of(CompressionCodec.NONE, false));
    }

    private static Optional<ExchangeKey> key(boolean encrypted)
    {
        return encrypted ? Optional.of(ExchangeKey.random(RANDOM)) : Optional.empty();
    }

    @ParameterizedTest
    @MethodSource("codecs")
    public void testRoundTripOverBlockBoundaries(CompressionCodec codec, boolean encrypted)
    {
        Optional<ExchangeKey> key = key(encrypted);
        Random chunking = new Random(42);
        for (int blockSize : new int[] {1, 3, 4, 5, 64, 1000, 4096, 256 * 1024}) {
            List<Slice> pages = pages(blockSize, 60, 3 * blockSize + 10);
            EncodedFile file = encode(FILE, key, codec, pages, blockSize);
            assertThat(decode(file, chunking)).as("block size %s", blockSize).containsExactlyElementsOf(pages);
        }
        // pages that are exactly block-sized, and zero-length pages between them
        List<Slice> pages = new ArrayList<>();
        for (Slice page : pages(7, 20, 100)) {
            pages.add(page);
            pages.add(Slices.EMPTY_SLICE);
        }
        assertThat(decode(encode(FILE, key, codec, pages, 104), chunking)).containsExactlyElementsOf(pages);
    }

    @Test
    public void testEncodersShareOneScratchArray()
    {
        // a sink's files all borrow from one scratch: many files cost one block-sized array, and each still decodes
        SharedCompressionScratch scratch = new SharedCompressionScratch();
        Optional<ExchangeKey> key = key(true);
        int blockSize = 64 * 1024;
        for (int fileIndex = 0; fileIndex < 20; fileIndex++) {
            SpoolFileId id = new SpoolFileId("exchange-a", 3, 1, fileIndex, 0);
            List<Slice> pages = pages(fileIndex, 30, 20_000);
            EncodedFile file = encode(id, key, CompressionCodec.LZ4, pages, blockSize, scratch);
            assertThat(decode(file, new Random(fileIndex))).containsExactlyElementsOf(pages);
        }
        assertThat(scratch.allocatedBytes()).isPositive().isLessThanOrEqualTo(SpoolFileEncoder.encodeBufferBytes(blockSize, true));
        assertThat(scratch.peakAllocatedBytes()).isEqualTo(scratch.allocatedBytes());
        scratch.close();
        assertThat(scratch.allocatedBytes()).isZero();
    }

    @ParameterizedTest
    @MethodSource("codecs")
    public void testIncompressibleBlocksAreStoredRaw(CompressionCodec codec, boolean encrypted)
    {
        byte[] noise = new byte[100_000];
        new Random(1).nextBytes(noise);
        EncodedFile file = encode(FILE, key(encrypted), codec, List.of(Slices.wrappedBuffer(noise)), 10_000);
        // header, raw blocks (9-byte header + payload + check), trailer: nothing larger than the data needs
        int check = SpoolFileFormat.checkBytes(encrypted);
        int blocks = file.blockOffsets().size();
        assertThat(file.bytes().length).isEqualTo(SpoolFileFormat.headerBytes(encrypted) + 100_004 + blocks * (9 + check) + SpoolFileFormat.trailerBytes(encrypted));
        for (int offset : file.blockOffsets()) {
            assertThat(file.bytes()[offset]).isEqualTo(SpoolFileFormat.BLOCK_RAW);
        }
        assertThat(decode(file, new Random(2))).containsExactlyElementsOf(file.pages());
    }

    @ParameterizedTest
    @MethodSource("codecs")
    public void testEveryBitFlipIsDetected(CompressionCodec codec, boolean encrypted)
    {
        EncodedFile file = encode(FILE, key(encrypted), codec, pages(5, 12, 300), 256);
        assertThat(file.blockOffsets().size()).isGreaterThan(5);
        Random chunking = new Random(3);
        for (int position = 0; position < file.bytes().length; position++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] damaged = file.bytes().clone();
                damaged[position] ^= (byte) (1 << bit);
                assertDetected(file, damaged, chunking, "bit %s of byte %s".formatted(bit, position));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    public void testTruncationAndExtensionAreDetected(CompressionCodec codec, boolean encrypted)
    {
        EncodedFile file = encode(FILE, key(encrypted), codec, pages(6, 12, 300), 256);
        Random chunking = new Random(4);
        for (int length = 0; length < file.bytes().length; length++) {
            byte[] truncated = Arrays.copyOf(file.bytes(), length);
            // as stored (the manifest still records the full size) and as if the manifest had been rewritten to match
            assertDetected(file, truncated, file.bytes().length, file.checksum(), chunking, "truncated to " + length);
            assertDetected(file, truncated, length, contentChecksum(truncated, encrypted), chunking, "truncated to %s with a matching manifest".formatted(length));
        }
        for (int extra : new int[] {1, 2, 9, 30, 1000}) {
            byte[] extended = Arrays.copyOf(file.bytes(), file.bytes().length + extra);
            assertDetected(file, extended, file.bytes().length, file.checksum(), chunking, "extended by " + extra);
            assertDetected(file, extended, extended.length, contentChecksum(extended, encrypted), chunking, "extended by %s with a matching manifest".formatted(extra));
            // a copy of the trailer appended, and a whole valid block appended after the trailer
            byte[] withTrailerTwice = concat(file.bytes(), Arrays.copyOfRange(file.bytes(), file.trailerOffset(), file.bytes().length));
            assertDetected(file, withTrailerTwice, withTrailerTwice.length, contentChecksum(withTrailerTwice, encrypted), chunking, "trailer twice");
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    public void testReorderedDroppedAndReplayedBlocksAreDetected(CompressionCodec codec, boolean encrypted)
    {
        Optional<ExchangeKey> key = key(encrypted);
        EncodedFile file = encode(FILE, key, codec, pages(8, 20, 300), 256);
        Random chunking = new Random(5);
        List<byte[]> blocks = blocks(file);
        byte[] header = Arrays.copyOfRange(file.bytes(), 0, file.blockOffsets().getFirst());
        byte[] trailer = Arrays.copyOfRange(file.bytes(), file.trailerOffset(), file.bytes().length);
        for (int i = 0; i + 1 < blocks.size(); i++) {
            List<byte[]> swapped = new ArrayList<>(blocks);
            swapped.set(i, blocks.get(i + 1));
            swapped.set(i + 1, blocks.get(i));
            byte[] bytes = assemble(header, swapped, trailer);
            assertDetected(file, bytes, bytes.length, contentChecksum(bytes, encrypted), chunking, "blocks %s and %s swapped".formatted(i, i + 1));

            List<byte[]> dropped = new ArrayList<>(blocks);
            dropped.remove(i);
            bytes = assemble(header, dropped, trailer);
            assertDetected(file, bytes, bytes.length, contentChecksum(bytes, encrypted), chunking, "block %s dropped".formatted(i));

            List<byte[]> duplicated = new ArrayList<>(blocks);
            duplicated.add(i + 1, blocks.get(i));
            bytes = assemble(header, duplicated, trailer);
            assertDetected(file, bytes, bytes.length, contentChecksum(bytes, encrypted), chunking, "block %s repeated".formatted(i));
        }
        // the last block dropped together with a trailer that would match a shorter file cannot be forged, so drop both
        byte[] withoutEnd = assemble(header, blocks.subList(0, blocks.size() - 1), new byte[0]);
        assertDetected(file, withoutEnd, withoutEnd.length, contentChecksum(withoutEnd, encrypted), chunking, "last block and trailer dropped");

        // a block of the same position from another file (another output partition, another attempt, another exchange)
        for (SpoolFileId other : List.of(
                new SpoolFileId("exchange-a", 3, 1, 8, 0),
                new SpoolFileId("exchange-a", 3, 2, 7, 0),
                new SpoolFileId("exchange-a", 3, 1, 7, 1),
                new SpoolFileId("exchange-b", 3, 1, 7, 0))) {
            EncodedFile otherFile = encode(other, key, codec, file.pages(), 256);
            List<byte[]> otherBlocks = blocks(otherFile);
            for (int i = 0; i < blocks.size(); i++) {
                List<byte[]> replayed = new ArrayList<>(blocks);
                replayed.set(i, otherBlocks.get(i));
                byte[] bytes = assemble(header, replayed, trailer);
                assertDetected(file, bytes, bytes.length, contentChecksum(bytes, encrypted), chunking, "block %s replayed from %s".formatted(i, other));
            }
            // the whole file moved to another identity (another attempt's directory, another partition)
            assertDetected(file, otherFile.bytes(), otherFile.bytes().length, otherFile.checksum(), chunking, "whole file of " + other);
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    public void testWrongKeyOrModeIsDetected(CompressionCodec codec, boolean encrypted)
    {
        EncodedFile file = encode(FILE, key(encrypted), codec, pages(9, 10, 300), 256);
        // an encrypted file read with another exchange's key or as if unencrypted; a plain file read as if encrypted
        List<Optional<ExchangeKey>> wrongKeys = encrypted
                ? List.of(Optional.of(ExchangeKey.random(RANDOM)), Optional.empty())
                : List.of(Optional.of(ExchangeKey.random(RANDOM)));
        for (Optional<ExchangeKey> readKey : wrongKeys) {
            List<Slice> pages = new ArrayList<>();
            try {
                decode(file, file.bytes(), readKey, file.bytes().length, file.checksum(), new Random(6), pages);
                fail("read with the wrong key or mode succeeded");
            }
            catch (TrinoException e) {
                assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_FILE_CORRUPTED");
                assertThat(e.getMessage()).contains("test.spool");
            }
            assertThat(pages).isEmpty();
        }
    }

    @ParameterizedTest
    @MethodSource("codecs")
    public void testAnotherWriteOfTheSameFileIsDetected(CompressionCodec codec, boolean encrypted)
    {
        // two complete, well-formed writes of the same file with the same pages (a retried upload, a stale copy):
        // same identity, same size, every unit valid on its own; only the manifest's content checksum tells them apart
        Optional<ExchangeKey> key = key(encrypted);
        EncodedFile recorded = encode(FILE, key, codec, pages(10, 12, 300), 256);
        EncodedFile other = encode(FILE, key, codec, recorded.pages(), 256);
        assertThat(other.bytes().length).isEqualTo(recorded.bytes().length);
        assertThat(decode(other, new Random(7))).containsExactlyElementsOf(recorded.pages());
        assertThat(other.checksum()).isNotEqualTo(recorded.checksum());
        assertThatThrownBy(() -> decode(recorded, other.bytes(), key, recorded.bytes().length, recorded.checksum(), new Random(8), new ArrayList<>()))
                .isInstanceOfSatisfying(TrinoException.class, e -> assertThat(e.getErrorCode().getName()).isEqualTo("SPOOL_FILE_CORRUPTED"))
                .hasMessageContaining("test.spool")
                .hasMessageContaining("content checksum");
    }

    private static void assertDetected(EncodedFile file, byte[] damaged, Random chunking, String description)
    {
        assertDetected(file, damaged, file.bytes().length, file.checksum(), chunking, description);
    }

    /**
     * Decoding must fail with SPOOL_FILE_CORRUPTED naming the file, and the pages released before the failure must be
     * exactly a prefix of the original pages: damage may stop the read, never alter what it returns.
     */
    private static void assertDetected(EncodedFile file, byte[] damaged, long expectedBytes, int expectedChecksum, Random chunking, String description)
    {
        List<Slice> released = new ArrayList<>();
        try {
            decode(file, damaged, file.key(), expectedBytes, expectedChecksum, chunking, released);
        }
        catch (TrinoException e) {
            assertThat(e.getErrorCode().getName()).as(description).isEqualTo("SPOOL_FILE_CORRUPTED");
            assertThat(e.getMessage()).as(description).contains("test.spool");
            assertThat(released.size()).as(description).isLessThanOrEqualTo(file.pages().size());
            assertThat(released).as("%s: pages released before the error", description).containsExactlyElementsOf(file.pages().subList(0, released.size()));
            return;
        }
        fail("not detected: " + description);
    }

    private static List<byte[]> blocks(EncodedFile file)
    {
        List<byte[]> blocks = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>(file.blockOffsets());
        offsets.add(file.trailerOffset());
        for (int i = 0; i + 1 < offsets.size(); i++) {
            blocks.add(Arrays.copyOfRange(file.bytes(), offsets.get(i), offsets.get(i + 1)));
        }
        return blocks;
    }

    private static byte[] assemble(byte[] header, List<byte[]> blocks, byte[] trailer)
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(header);
        blocks.forEach(out::writeBytes);
        out.writeBytes(trailer);
        return out.toByteArray();
    }

    private static byte[] concat(byte[] first, byte[] second)
    {
        byte[] result = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, result, first.length, second.length);
        return result;
    }

    /**
     * The content checksum a forger who rewrote the manifest would record: CRC32C over the check values of every
     * complete unit the bytes hold, walked by their lengths alone, so that detection has to come from the units.
     */
    private static int contentChecksum(byte[] bytes, boolean encrypted)
    {
        int check = SpoolFileFormat.checkBytes(encrypted);
        CRC32C crc = new CRC32C();
        int position = SpoolFileFormat.headerBytes(encrypted);
        if (position > bytes.length) {
            return 0;
        }
        crc.update(bytes, position - check, check);
        while (position < bytes.length) {
            byte kind = bytes[position];
            int length;
            if (kind == SpoolFileFormat.TRAILER) {
                length = SpoolFileFormat.trailerBytes(encrypted);
            }
            else if ((kind == SpoolFileFormat.BLOCK_RAW || kind == SpoolFileFormat.BLOCK_LZ4) && position + SpoolFileFormat.BLOCK_HEADER_BYTES <= bytes.length) {
                length = SpoolFileFormat.BLOCK_HEADER_BYTES + (int) SpoolFileFormat.INT_LE.get(bytes, position + 5) + check;
            }
            else {
                break;
            }
            if (length <= 0 || position + length > bytes.length) {
                break;
            }
            crc.update(bytes, position + length - check, check);
            position += length;
        }
        return (int) crc.getValue();
    }
}
