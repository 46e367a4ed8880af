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

import com.google.common.collect.ImmutableList;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.config.CompressionCodec;
import io.spoolex.exchange.TestPages;

import java.io.ByteArrayOutputStream;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Writes and reads spool files with the codec alone (no sink, no storage), with a configurable block size so that
 * small files still have many blocks.
 */
final class SpoolFileFixture
{
    static final SecureRandom RANDOM = new SecureRandom();

    private SpoolFileFixture() {}

    record EncodedFile(SpoolFileId id, Optional<ExchangeKey> key, byte[] bytes, int checksum, List<Slice> pages, List<Integer> blockOffsets, int trailerOffset) {}

    static List<Slice> pages(long seed, int count, int maxSize)
    {
        Random random = new Random(seed);
        ImmutableList.Builder<Slice> pages = ImmutableList.builder();
        for (int i = 0; i < count; i++) {
            int size = random.nextInt(4) == 0 ? random.nextInt(8) : random.nextInt(maxSize + 1);
            byte[] bytes = new byte[size];
            TestPages.fill(bytes, random);
            pages.add(Slices.wrappedBuffer(bytes));
        }
        return pages.build();
    }

    /**
     * Encodes the pages as the sink does: length-prefixed records cut into blocks of {@code blockSize} raw bytes.
     */
    static EncodedFile encode(SpoolFileId id, Optional<ExchangeKey> key, CompressionCodec codec, List<Slice> pages, int blockSize)
    {
        return encode(id, key, codec, pages, blockSize, new SharedCompressionScratch());
    }

    static EncodedFile encode(SpoolFileId id, Optional<ExchangeKey> key, CompressionCodec codec, List<Slice> pages, int blockSize, CompressionScratch scratch)
    {
        ByteArrayOutputStream records = new ByteArrayOutputStream();
        for (Slice page : pages) {
            byte[] length = new byte[4];
            SpoolFileFormat.putPageLength(length, 0, page.length());
            records.writeBytes(length);
            records.writeBytes(page.getBytes());
        }
        byte[] raw = records.toByteArray();
        SpoolFileEncoder encoder = new SpoolFileEncoder(id, key, codec, AdaptiveCompression.tryingEveryBlock(), RANDOM, scratch);
        boolean encrypted = key.isPresent();
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        byte[] buffer = new byte[SpoolFileFormat.headerBytes(encrypted) + SpoolFileEncoder.encodeBufferBytes(blockSize, encrypted) + SpoolFileFormat.trailerBytes(encrypted)];
        int length = encoder.writeHeader(buffer, 0);
        file.write(buffer, 0, length);
        List<Integer> blockOffsets = new ArrayList<>();
        for (int offset = 0; offset < raw.length; offset += blockSize) {
            blockOffsets.add(file.size());
            length = encoder.encodeBlock(raw, offset, Math.min(blockSize, raw.length - offset), buffer, 0);
            file.write(buffer, 0, length);
        }
        int trailerOffset = file.size();
        length = encoder.writeTrailer(buffer, 0);
        file.write(buffer, 0, length);
        byte[] bytes = file.toByteArray();
        if (encoder.fileBytes() != bytes.length) {
            throw new AssertionError("encoder counted %s bytes, wrote %s".formatted(encoder.fileBytes(), bytes.length));
        }
        return new EncodedFile(id, key, bytes, encoder.fileChecksum(), pages, blockOffsets, trailerOffset);
    }

    /**
     * Decodes {@code bytes} fed in chunks of random sizes, as ranged reads deliver them; every page is passed to
     * {@code pages} as soon as the decoder releases it. Throws what the decoder throws.
     */
    static void decode(EncodedFile file, byte[] bytes, Optional<ExchangeKey> key, long expectedBytes, int expectedChecksum, Random chunking, List<Slice> pages)
    {
        SpoolFileDecoder decoder = new SpoolFileDecoder("test.spool", file.id(), key, expectedBytes, expectedChecksum);
        PageAssembler assembler = new PageAssembler("test.spool", 64 * 1024 * 1024, pages::add);
        // one chunk buffer for the whole file, scribbled over after every chunk, as the source reuses its read
        // buffers: a page that still referred to a chunk would come out wrong
        byte[] chunk = new byte[4096];
        int position = 0;
        while (position < bytes.length) {
            int length = Math.min(bytes.length - position, 1 + chunking.nextInt(chunking.nextBoolean() ? 64 : 4096));
            System.arraycopy(bytes, position, chunk, 0, length);
            decoder.decode(Slices.wrappedBuffer(chunk, 0, length), assembler);
            Arrays.fill(chunk, (byte) 0x5A);
            position += length;
        }
        decoder.finish();
        assembler.finish();
    }

    static List<Slice> decode(EncodedFile file, Random chunking)
    {
        List<Slice> pages = new ArrayList<>();
        decode(file, file.bytes(), file.key(), file.bytes().length, file.checksum(), chunking, pages);
        return pages;
    }
}
