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

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * What a spool file is: the exchange, task partition and attempt that wrote it, the output partition it holds
 * and its place in that partition's sequence of rolled-over files. The identity is bound into every block's
 * check (key derivation when encrypted, checksum seed otherwise), so a block or file moved elsewhere fails.
 */
public record SpoolFileId(String exchangeId, int taskPartitionId, int attemptId, int outputPartitionId, int sequence)
{
    public SpoolFileId
    {
        requireNonNull(exchangeId, "exchangeId is null");
        checkArgument(taskPartitionId >= 0, "taskPartitionId is negative");
        checkArgument(attemptId >= 0, "attemptId is negative");
        checkArgument(outputPartitionId >= 0, "outputPartitionId is negative");
        checkArgument(sequence >= 0, "sequence is negative");
    }

    /**
     * A canonical byte encoding: the exchange id (length-prefixed UTF-8) then the four numbers, big-endian.
     */
    public byte[] toBytes()
    {
        return encode(exchangeId, taskPartitionId, attemptId, outputPartitionId, sequence);
    }

    static byte[] encode(String exchangeId, int... numbers)
    {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeUTF(exchangeId);
            for (int number : numbers) {
                out.writeInt(number);
            }
            out.flush();
            return bytes.toByteArray();
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
