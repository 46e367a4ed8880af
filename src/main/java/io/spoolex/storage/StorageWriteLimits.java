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
package io.spoolex.storage;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * What a backend accepts as the writes of one streamed file ({@link SpoolFileWriter#write}), declared once so that
 * the exchange manager can check at start that its sinks can live with it, instead of failing at the first query.
 * <p>
 * A sink sends writes of {@code writeBytes} up to one encoded block more, and a file's last write may be smaller;
 * with an alignment above 1 every write but the last is a multiple of it.
 *
 * @param writeBytes bytes a sink collects before it sends a write (the multipart part or block size)
 * @param writeBytesProperty the property that sets {@code writeBytes}, named in errors; empty if it is fixed
 * @param minWriteBytes the least every write but a file's last must carry (S3: 5 MiB)
 * @param maxWriteBytes the most one write may carry
 * @param maxWritesPerFile the most writes one file may take (S3: 10,000 parts)
 * @param writeAlignment every write but a file's last is a multiple of this many bytes (1: any length)
 */
public record StorageWriteLimits(
        int writeBytes,
        String writeBytesProperty,
        long minWriteBytes,
        long maxWriteBytes,
        int maxWritesPerFile,
        int writeAlignment)
{
    public StorageWriteLimits
    {
        requireNonNull(writeBytesProperty, "writeBytesProperty is null");
        checkArgument(writeBytes > 0, "writeBytes must be positive");
        checkArgument(minWriteBytes >= 0 && minWriteBytes <= maxWriteBytes, "minWriteBytes must be between 0 and maxWriteBytes");
        checkArgument(maxWritesPerFile >= 2, "maxWritesPerFile must be at least 2");
        checkArgument(writeAlignment >= 1, "writeAlignment must be positive");
    }

    /**
     * Limits of a store that takes writes of any size and number, e.g. a file system.
     */
    public static StorageWriteLimits unlimited(int writeBytes)
    {
        return new StorageWriteLimits(writeBytes, "", 1, Integer.MAX_VALUE, Integer.MAX_VALUE, 1);
    }

    /**
     * How the write size is named in an error: the property, or "the storage's write size".
     */
    public String describeWriteBytes()
    {
        return writeBytesProperty.isEmpty() ? "the storage's write size" : writeBytesProperty;
    }
}
