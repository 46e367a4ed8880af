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

import io.spoolex.format.AttemptManifest;

import java.net.URI;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

import static com.google.common.base.Strings.nullToEmpty;

/**
 * Where an exchange's data lives:
 * <pre>
 * {base}/{hex}.{queryId}.{exchangeId}.{taskPartition}/{attempt}/{outputPartition}_{sequence}.spool
 * {base}/{hex}.{queryId}.{exchangeId}.{taskPartition}/{attempt}/manifest
 * </pre>
 * The random hex prefix spreads object-store keys over key ranges (S3 partitions its request rate by prefix).
 */
public final class SpoolLayout
{
    static final String DATA_FILE_SUFFIX = ".spool";
    private static final char[] HEX = "0123456789abcdef".toCharArray();
    private static final int HEX_PREFIX_LENGTH = 6;
    /**
     * A task partition directory's name as {@link #taskPartitionDirectory} makes it, with the query and exchange ids
     * as groups (Trino's query ids are lower-case letters, digits and '_'; its exchange ids have no '.').
     */
    static final Pattern TASK_PARTITION_DIRECTORY_NAME = Pattern.compile("[0-9a-f]{" + HEX_PREFIX_LENGTH + "}\\.(?<query>[a-z0-9_]+)\\.(?<exchange>[A-Za-z0-9_-]+)\\.[0-9]+");

    private SpoolLayout() {}

    public static URI taskPartitionDirectory(URI baseDirectory, String queryId, String exchangeId, int taskPartitionId)
    {
        return baseDirectory.resolve(randomHexPrefix() + "." + queryId + "." + exchangeId + "." + taskPartitionId + "/");
    }

    public static URI attemptDirectory(URI taskPartitionDirectory, int attemptId)
    {
        return taskPartitionDirectory.resolve(attemptId + "/");
    }

    public static URI dataFile(URI attemptDirectory, int outputPartition, int sequence)
    {
        return attemptDirectory.resolve(dataFileName(outputPartition, sequence));
    }

    public static String dataFileName(int outputPartition, int sequence)
    {
        return outputPartition + "_" + sequence + DATA_FILE_SUFFIX;
    }

    public static URI manifest(URI attemptDirectory)
    {
        return attemptDirectory.resolve(AttemptManifest.FILE_NAME);
    }

    /**
     * Whether {@code location} lies in {@code directory}, by scheme, authority and path: {@code file:///a/} and
     * {@code file:/a/b} (what {@link URI#resolve} makes of it) are the same directory.
     */
    static boolean isIn(URI directory, URI location)
    {
        return directory.getScheme() != null
                && directory.getScheme().equalsIgnoreCase(location.getScheme())
                && nullToEmpty(directory.getRawAuthority()).equals(nullToEmpty(location.getRawAuthority()))
                && location.getRawPath() != null
                && location.getRawPath().startsWith(directory.getRawPath());
    }

    private static String randomHexPrefix()
    {
        char[] prefix = new char[HEX_PREFIX_LENGTH];
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < prefix.length; i++) {
            prefix[i] = HEX[random.nextInt(HEX.length)];
        }
        return new String(prefix);
    }
}
