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
import io.spoolex.format.BlockSeal.SealBrokenException;
import io.trino.spi.TrinoException;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static com.google.common.base.Preconditions.checkArgument;
import static io.spoolex.SpoolexErrorCode.SPOOL_FILE_CORRUPTED;
import static io.spoolex.format.SpoolFileFormat.INT_LE;
import static io.spoolex.format.SpoolFileFormat.LONG_LE;
import static io.spoolex.format.SpoolFileFormat.SALT_BYTES;
import static java.util.Objects.requireNonNull;

/**
 * The commit record of one task attempt: every spool file it wrote, with size, page bytes and content checksum
 * (CRC32C over the check values of the file's units, {@link SpoolFileEncoder#fileChecksum()}).
 * Written last by {@code ExchangeSink.finish()}; an attempt without one is not committed. The coordinator reads
 * one manifest per winning attempt instead of listing directories.
 * <pre>
 * manifest = magic "SPLM" | version u8 | flags u8 | reserved u16 | salt[16] | bodyLength i32 | sealed(body) | check
 * body     = fileCount i32 | (outputPartition i32 | sequence i32 | fileBytes i64 | dataBytes i64 | checksum i32)*
 * </pre>
 * The body is encrypted (AES-256-GCM, key derived from the exchange key) when the exchange is, else CRC32C-checked;
 * either way the check binds the exchange, task partition and attempt.
 */
public record AttemptManifest(String exchangeId, int taskPartitionId, int attemptId, List<File> files)
{
    public static final String FILE_NAME = "manifest";

    static final String MANIFEST_PURPOSE = "spoolex/1 manifest";
    private static final int MAGIC = 0x4D4C5053; // "SPLM"
    private static final int HEADER_BYTES = 4 + 1 + 1 + 2 + SALT_BYTES + 4;
    private static final int FILE_ENTRY_BYTES = 4 + 4 + 8 + 8 + 4;
    private static final int MAX_FILES = 10_000_000;

    public AttemptManifest
    {
        requireNonNull(exchangeId, "exchangeId is null");
        files = ImmutableList.copyOf(requireNonNull(files, "files is null"));
    }

    public record File(int outputPartition, int sequence, long fileBytes, long dataBytes, int checksum)
    {
        public File
        {
            checkArgument(outputPartition >= 0 && sequence >= 0 && fileBytes > 0 && dataBytes >= 0, "invalid manifest entry");
        }
    }

    public Slice serialize(Optional<ExchangeKey> key, SecureRandom random)
    {
        boolean encrypted = key.isPresent();
        int bodyBytes = 4 + files.size() * FILE_ENTRY_BYTES;
        byte[] out = new byte[HEADER_BYTES + bodyBytes + SpoolFileFormat.checkBytes(encrypted)];
        INT_LE.set(out, 0, MAGIC);
        out[4] = SpoolFileFormat.VERSION;
        out[5] = encrypted ? SpoolFileFormat.FLAG_ENCRYPTED : 0;
        byte[] salt = new byte[SALT_BYTES];
        random.nextBytes(salt);
        System.arraycopy(salt, 0, out, 8, SALT_BYTES);
        INT_LE.set(out, 8 + SALT_BYTES, bodyBytes);

        int position = HEADER_BYTES;
        INT_LE.set(out, position, files.size());
        position += 4;
        for (File file : files) {
            INT_LE.set(out, position, file.outputPartition());
            INT_LE.set(out, position + 4, file.sequence());
            LONG_LE.set(out, position + 8, file.fileBytes());
            LONG_LE.set(out, position + 16, file.dataBytes());
            INT_LE.set(out, position + 24, file.checksum());
            position += FILE_ENTRY_BYTES;
        }
        BlockSeal seal = BlockSeal.forFile(key, MANIFEST_PURPOSE, identity(exchangeId, taskPartitionId, attemptId), salt);
        seal.seal(0, out, 0, HEADER_BYTES, out, HEADER_BYTES, bodyBytes, out, HEADER_BYTES);
        return Slices.wrappedBuffer(out);
    }

    /**
     * Parses and verifies a manifest read from {@code location}, which must belong to the given attempt.
     */
    public static AttemptManifest deserialize(Slice data, String location, String exchangeId, int taskPartitionId, int attemptId, Optional<ExchangeKey> key)
    {
        byte[] bytes = data.getBytes();
        boolean encrypted = key.isPresent();
        int checkBytes = SpoolFileFormat.checkBytes(encrypted);
        if (bytes.length < HEADER_BYTES + 4 + checkBytes || (int) INT_LE.get(bytes, 0) != MAGIC) {
            throw corrupted(location, "not a Spoolex manifest");
        }
        if (bytes[4] != SpoolFileFormat.VERSION) {
            throw corrupted(location, "unsupported manifest version " + bytes[4]);
        }
        if (((bytes[5] & SpoolFileFormat.FLAG_ENCRYPTED) != 0) != encrypted) {
            throw corrupted(location, encrypted ? "the manifest is not encrypted but its exchange is" : "the manifest is encrypted but its exchange is not");
        }
        int bodyBytes = (int) INT_LE.get(bytes, 8 + SALT_BYTES);
        if (bodyBytes != bytes.length - HEADER_BYTES - checkBytes) {
            throw corrupted(location, "truncated or extended: %s bytes of body expected, %s present".formatted(bodyBytes, bytes.length - HEADER_BYTES - checkBytes));
        }
        byte[] salt = Arrays.copyOfRange(bytes, 8, 8 + SALT_BYTES);
        BlockSeal seal = BlockSeal.forFile(key, MANIFEST_PURPOSE, identity(exchangeId, taskPartitionId, attemptId), salt);
        try {
            byte[] body = new byte[bodyBytes];
            seal.open(0, bytes, 0, HEADER_BYTES, bytes, HEADER_BYTES, bodyBytes + checkBytes, body, 0);
            if (seal.decryptsToDestination()) {
                System.arraycopy(body, 0, bytes, HEADER_BYTES, bodyBytes);
            }
        }
        catch (SealBrokenException e) {
            throw corrupted(location, e.getMessage() + "; or it belongs to another attempt");
        }

        int position = HEADER_BYTES;
        int fileCount = (int) INT_LE.get(bytes, position);
        position += 4;
        if (fileCount < 0 || fileCount > MAX_FILES || 4 + (long) fileCount * FILE_ENTRY_BYTES != bodyBytes) {
            throw corrupted(location, "invalid file count " + fileCount);
        }
        ImmutableList.Builder<File> files = ImmutableList.builderWithExpectedSize(fileCount);
        for (int i = 0; i < fileCount; i++) {
            try {
                files.add(new File(
                        (int) INT_LE.get(bytes, position),
                        (int) INT_LE.get(bytes, position + 4),
                        (long) LONG_LE.get(bytes, position + 8),
                        (long) LONG_LE.get(bytes, position + 16),
                        (int) INT_LE.get(bytes, position + 24)));
            }
            catch (IllegalArgumentException e) {
                throw corrupted(location, "invalid entry " + i);
            }
            position += FILE_ENTRY_BYTES;
        }
        return new AttemptManifest(exchangeId, taskPartitionId, attemptId, files.build());
    }

    private static byte[] identity(String exchangeId, int taskPartitionId, int attemptId)
    {
        return SpoolFileId.encode(exchangeId, taskPartitionId, attemptId);
    }

    private static TrinoException corrupted(String location, String problem)
    {
        return new TrinoException(SPOOL_FILE_CORRUPTED, "Manifest %s is corrupt: %s".formatted(location, problem));
    }
}
