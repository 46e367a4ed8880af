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
package io.spoolex.exchange;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.google.common.collect.ImmutableList;
import io.spoolex.format.ExchangeKey;
import io.trino.spi.exchange.ExchangeSourceHandle;

import java.util.List;
import java.util.Optional;

import static com.google.common.base.Preconditions.checkArgument;
import static io.airlift.slice.SizeOf.estimatedSizeOf;
import static io.airlift.slice.SizeOf.instanceSize;
import static java.util.Objects.requireNonNull;

/**
 * Spool files of one output partition, grouped by the attempt that wrote them. The files of one attempt are
 * its rolled-over files in write order and are always read in that order.
 * {@link #getDataSizeInBytes()} counts page bytes as the engine wrote them, not storage bytes.
 */
public record SpoolexSourceHandle(
        @JsonProperty("exchangeId") String exchangeId,
        @JsonProperty("partitionId") int partitionId,
        @JsonProperty("key") Optional<ExchangeKey> key,
        @JsonProperty("attempts") List<AttemptFiles> attempts)
        implements ExchangeSourceHandle
{
    private static final long INSTANCE_SIZE = instanceSize(SpoolexSourceHandle.class);

    @JsonCreator
    public SpoolexSourceHandle
    {
        requireNonNull(exchangeId, "exchangeId is null");
        requireNonNull(key, "key is null");
        attempts = ImmutableList.copyOf(requireNonNull(attempts, "attempts is null"));
    }

    @Override
    public int getPartitionId()
    {
        return partitionId;
    }

    @Override
    public long getDataSizeInBytes()
    {
        long total = 0;
        for (AttemptFiles attempt : attempts) {
            total += attempt.dataBytes();
        }
        return total;
    }

    @Override
    public long getRetainedSizeInBytes()
    {
        return INSTANCE_SIZE + estimatedSizeOf(exchangeId) + estimatedSizeOf(attempts, AttemptFiles::retainedSizeInBytes);
    }

    /**
     * The files one attempt of a task partition wrote for this output partition, in write order.
     */
    public record AttemptFiles(
            @JsonProperty("directory") String directory,
            @JsonProperty("taskPartitionId") int taskPartitionId,
            @JsonProperty("attemptId") int attemptId,
            @JsonProperty("files") List<FileRef> files)
    {
        private static final long INSTANCE_SIZE = instanceSize(AttemptFiles.class);

        @JsonCreator
        public AttemptFiles
        {
            requireNonNull(directory, "directory is null");
            files = ImmutableList.copyOf(requireNonNull(files, "files is null"));
            checkArgument(!files.isEmpty(), "no files");
        }

        @JsonIgnore
        public long dataBytes()
        {
            long total = 0;
            for (FileRef file : files) {
                total += file.dataBytes();
            }
            return total;
        }

        long retainedSizeInBytes()
        {
            return INSTANCE_SIZE + estimatedSizeOf(directory) + estimatedSizeOf(files, _ -> FileRef.INSTANCE_SIZE);
        }
    }

    /**
     * One spool file: its place in the sequence, its size in storage, the page bytes it holds, its content checksum
     * (see {@code AttemptManifest}).
     */
    public record FileRef(
            @JsonProperty("sequence") int sequence,
            @JsonProperty("fileBytes") long fileBytes,
            @JsonProperty("dataBytes") long dataBytes,
            @JsonProperty("checksum") int checksum)
    {
        static final long INSTANCE_SIZE = instanceSize(FileRef.class);

        @JsonCreator
        public FileRef
        {
            checkArgument(sequence >= 0, "sequence is negative");
            checkArgument(fileBytes > 0, "fileBytes must be positive");
            checkArgument(dataBytes >= 0, "dataBytes is negative");
        }
    }
}
