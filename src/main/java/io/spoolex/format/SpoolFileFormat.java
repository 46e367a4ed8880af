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

import com.google.errorprone.annotations.FormatMethod;
import com.google.errorprone.annotations.FormatString;
import io.trino.spi.TrinoException;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import static io.spoolex.SpoolexErrorCode.SPOOL_FILE_CORRUPTED;
import static java.nio.ByteOrder.LITTLE_ENDIAN;

/**
 * Constants of the spool file format (version 2); {@code docs/format.md} is the full byte layout.
 * <pre>
 * file    = header block* trailer
 * header  = magic "SPLX" | version u8 | flags u8 | reserved u16 | salt[16] | check
 * block   = kind u8 (0 raw, 1 LZ4) | rawLength i32 | storedLength i32 | payload[storedLength] | check
 * trailer = kind u8 (0x80) | blockCount i32 | rawBytes i64 | check
 * check   = 16-byte AES-GCM tag when the file is encrypted, else 4-byte CRC32C
 * </pre>
 * Numbers are little-endian. The raw bytes of all blocks, concatenated, are the page records
 * {@code length i32 | page bytes}; records may span blocks but never files.
 */
public final class SpoolFileFormat
{
    public static final int MAGIC = 0x584C5053; // "SPLX" read as a little-endian int
    public static final byte VERSION = 2;
    public static final byte FLAG_ENCRYPTED = 1;

    public static final int SALT_BYTES = 16;
    public static final int HEADER_BODY_BYTES = 4 + 1 + 1 + 2 + SALT_BYTES;
    public static final int BLOCK_HEADER_BYTES = 1 + 4 + 4;
    public static final int TRAILER_BODY_BYTES = 1 + 4 + 8;

    public static final byte BLOCK_RAW = 0;
    public static final byte BLOCK_LZ4 = 1;
    public static final byte TRAILER = (byte) 0x80;

    /**
     * Raw page bytes per block written by the sink. Chosen by measurement (see docs/benchmarks.md).
     */
    public static final int DEFAULT_BLOCK_SIZE = 256 * 1024;
    /**
     * Largest raw block a reader accepts; guards allocations against corrupt lengths.
     */
    public static final int MAX_BLOCK_SIZE = 8 * 1024 * 1024;

    public static final int PAGE_LENGTH_BYTES = Integer.BYTES;

    static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, LITTLE_ENDIAN);
    static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, LITTLE_ENDIAN);

    private SpoolFileFormat() {}

    /**
     * Writes a page record's length prefix.
     */
    public static void putPageLength(byte[] buffer, int offset, int length)
    {
        INT_LE.set(buffer, offset, length);
    }

    public static int headerBytes(boolean encrypted)
    {
        return HEADER_BODY_BYTES + checkBytes(encrypted);
    }

    public static int trailerBytes(boolean encrypted)
    {
        return TRAILER_BODY_BYTES + checkBytes(encrypted);
    }

    /**
     * The most bytes one block of {@code rawLength} page bytes can take in a file.
     */
    public static int maxEncodedBlockBytes(int rawLength, boolean encrypted)
    {
        return BLOCK_HEADER_BYTES + rawLength + checkBytes(encrypted);
    }

    public static int checkBytes(boolean encrypted)
    {
        return encrypted ? BlockSeal.GCM_TAG_BYTES : BlockSeal.CRC_BYTES;
    }

    @FormatMethod
    static TrinoException corrupted(String file, @FormatString String format, Object... args)
    {
        return new TrinoException(SPOOL_FILE_CORRUPTED, "Spool file %s is corrupt: %s".formatted(file, format.formatted(args)));
    }

    @FormatMethod
    static TrinoException corrupted(String file, Throwable cause, @FormatString String format, Object... args)
    {
        return new TrinoException(SPOOL_FILE_CORRUPTED, "Spool file %s is corrupt: %s".formatted(file, format.formatted(args)), cause);
    }
}
