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
package io.spoolex.config;

import com.google.common.base.Splitter;
import com.google.common.collect.ImmutableList;
import io.airlift.configuration.Config;
import io.airlift.configuration.ConfigDescription;
import io.airlift.configuration.LegacyConfig;
import io.airlift.units.DataSize;
import io.airlift.units.Duration;
import io.airlift.units.MaxDataSize;
import io.airlift.units.MaxDuration;
import io.airlift.units.MinDataSize;
import io.airlift.units.MinDuration;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

import java.util.List;

import static io.airlift.units.DataSize.Unit.GIGABYTE;
import static io.airlift.units.DataSize.Unit.MEGABYTE;
import static java.util.concurrent.TimeUnit.DAYS;
import static java.util.concurrent.TimeUnit.HOURS;
import static java.util.concurrent.TimeUnit.MINUTES;
import static java.util.concurrent.TimeUnit.SECONDS;

/**
 * The core properties of {@code etc/exchange-manager.properties}: the same names, defaults and bounds as
 * Trino's own filesystem exchange manager, plus Spoolex's compression and encryption switches.
 * Storage-specific properties live in the backend's own config class.
 */
public class ExchangeConfig
{
    private List<String> baseDirectories = ImmutableList.of();
    private DataSize maxPageStorageSize = DataSize.of(16, MEGABYTE);
    private int sinkBufferPoolMinSize = 10;
    private int sinkBuffersPerPartition = 2;
    private DataSize sinkMaxFileSize = DataSize.of(1, GIGABYTE);
    private int sourceConcurrentReaders = 4;
    private int sourceMaxFilesPerReader = 25;
    private int maxOutputPartitionCount = 50;
    private int fileListingParallelism = 50;
    private DataSize sourceHandleTargetDataSize = DataSize.of(256, MEGABYTE);
    private boolean encryptionEnabled = true;
    private CompressionCodec spoolCompressionCodec;
    private Boolean compressionEnabled;
    private Duration cleanupRetryTime = new Duration(10, MINUTES);
    private Duration orphanAge = new Duration(2, DAYS);
    private Duration orphanSweepInterval = new Duration(1, HOURS);
    private StartupCheckMode startupCheck = StartupCheckMode.WARN;
    private Duration baseDirectoryProbeInterval = new Duration(30, SECONDS);
    private Duration baseDirectoryRecoveryTime = new Duration(1, MINUTES);

    public List<String> getBaseDirectories()
    {
        return baseDirectories;
    }

    @Config("exchange.base-directories")
    @LegacyConfig("exchange.base-directory")
    @ConfigDescription("Comma-separated list of base directories (URIs) the exchange spools to; the URI scheme selects the storage")
    public ExchangeConfig setBaseDirectories(String baseDirectories)
    {
        this.baseDirectories = baseDirectories == null
                ? ImmutableList.of()
                : ImmutableList.copyOf(Splitter.on(',').trimResults().omitEmptyStrings().split(baseDirectories));
        return this;
    }

    @AssertTrue(message = "exchange.base-directories must list at least one base directory")
    public boolean isBaseDirectoriesSet()
    {
        return !baseDirectories.isEmpty();
    }

    @NotNull
    @MinDataSize("16B")
    @MaxDataSize("1GB")
    public DataSize getMaxPageStorageSize()
    {
        return maxPageStorageSize;
    }

    @Config("exchange.max-page-storage-size")
    @ConfigDescription("Largest page a sink accepts, counting the page and its 4-byte length")
    public ExchangeConfig setMaxPageStorageSize(DataSize maxPageStorageSize)
    {
        this.maxPageStorageSize = maxPageStorageSize;
        return this;
    }

    @Min(0)
    public int getSinkBufferPoolMinSize()
    {
        return sinkBufferPoolMinSize;
    }

    @Config("exchange.sink-buffer-pool-min-size")
    @ConfigDescription("Minimum number of write buffers in a sink's memory pool")
    public ExchangeConfig setSinkBufferPoolMinSize(int sinkBufferPoolMinSize)
    {
        this.sinkBufferPoolMinSize = sinkBufferPoolMinSize;
        return this;
    }

    @Min(2)
    public int getSinkBuffersPerPartition()
    {
        return sinkBuffersPerPartition;
    }

    @Config("exchange.sink-buffers-per-partition")
    @ConfigDescription("Write buffers per output partition; a sink's pool holds max(partitions * this, pool minimum) buffers")
    public ExchangeConfig setSinkBuffersPerPartition(int sinkBuffersPerPartition)
    {
        this.sinkBuffersPerPartition = sinkBuffersPerPartition;
        return this;
    }

    @NotNull
    @MinDataSize("1kB")
    public DataSize getSinkMaxFileSize()
    {
        return sinkMaxFileSize;
    }

    @Config("exchange.sink-max-file-size")
    @ConfigDescription("A spool file rolls over to a new file past this many page bytes")
    public ExchangeConfig setSinkMaxFileSize(DataSize sinkMaxFileSize)
    {
        this.sinkMaxFileSize = sinkMaxFileSize;
        return this;
    }

    @AssertTrue(message = "exchange.sink-max-file-size must not be smaller than exchange.max-page-storage-size")
    public boolean isMaxPageWithinMaxFileSize()
    {
        return maxPageStorageSize == null || sinkMaxFileSize == null || maxPageStorageSize.toBytes() <= sinkMaxFileSize.toBytes();
    }

    @Min(1)
    @Max(1024)
    public int getSourceConcurrentReaders()
    {
        return sourceConcurrentReaders;
    }

    @Config("exchange.source-concurrent-readers")
    @ConfigDescription("Spool files one source reads at once")
    public ExchangeConfig setSourceConcurrentReaders(int sourceConcurrentReaders)
    {
        this.sourceConcurrentReaders = sourceConcurrentReaders;
        return this;
    }

    @Min(1)
    public int getSourceMaxFilesPerReader()
    {
        return sourceMaxFilesPerReader;
    }

    @Config("exchange.source-max-files-per-reader")
    @ConfigDescription("Small spool files one reader may read one after another")
    public ExchangeConfig setSourceMaxFilesPerReader(int sourceMaxFilesPerReader)
    {
        this.sourceMaxFilesPerReader = sourceMaxFilesPerReader;
        return this;
    }

    @Min(1)
    public int getMaxOutputPartitionCount()
    {
        return maxOutputPartitionCount;
    }

    @Config("exchange.max-output-partition-count")
    @ConfigDescription("Largest number of output partitions an exchange may have")
    public ExchangeConfig setMaxOutputPartitionCount(int maxOutputPartitionCount)
    {
        this.maxOutputPartitionCount = maxOutputPartitionCount;
        return this;
    }

    @Min(1)
    public int getFileListingParallelism()
    {
        return fileListingParallelism;
    }

    @Config("exchange.file-listing-parallelism")
    @ConfigDescription("Manifests the coordinator reads at once when it builds source handles")
    public ExchangeConfig setFileListingParallelism(int fileListingParallelism)
    {
        this.fileListingParallelism = fileListingParallelism;
        return this;
    }

    @NotNull
    @MinDataSize("1B")
    public DataSize getSourceHandleTargetDataSize()
    {
        return sourceHandleTargetDataSize;
    }

    @Config("exchange.source-handle-target-data-size")
    @ConfigDescription("Page bytes packed into one source handle")
    public ExchangeConfig setSourceHandleTargetDataSize(DataSize sourceHandleTargetDataSize)
    {
        this.sourceHandleTargetDataSize = sourceHandleTargetDataSize;
        return this;
    }

    public boolean isEncryptionEnabled()
    {
        return encryptionEnabled;
    }

    @Config("exchange.encryption-enabled")
    @ConfigDescription("Encrypt spooled blocks with AES-256-GCM under a fresh key per exchange")
    public ExchangeConfig setEncryptionEnabled(boolean encryptionEnabled)
    {
        this.encryptionEnabled = encryptionEnabled;
        return this;
    }

    /**
     * The codec spool blocks are compressed with: {@code exchange.spool-compression-codec} when set, otherwise
     * {@code exchange.compression-enabled} (an engine property operators often put in this file too), otherwise LZ4.
     */
    public CompressionCodec resolveCompressionCodec()
    {
        if (spoolCompressionCodec != null) {
            return spoolCompressionCodec;
        }
        return compressionEnabled == null || compressionEnabled ? CompressionCodec.LZ4 : CompressionCodec.NONE;
    }

    @NotNull
    @MinDuration("0s")
    @MaxDuration("1d")
    public Duration getCleanupRetryTime()
    {
        return cleanupRetryTime;
    }

    @Config("exchange.cleanup-retry-time")
    @ConfigDescription("How long deleting an exchange's (or an aborted task attempt's) spool data is tried again after it fails, before what is left is logged and counted")
    public ExchangeConfig setCleanupRetryTime(Duration cleanupRetryTime)
    {
        this.cleanupRetryTime = cleanupRetryTime;
        return this;
    }

    @NotNull
    @MinDuration("0s")
    public Duration getOrphanAge()
    {
        return orphanAge;
    }

    @Config("exchange.cleanup.orphan-age")
    @ConfigDescription("Spool directories older than this that belong to no open exchange of this coordinator are deleted by the orphan collector; 0 turns the collector off")
    public ExchangeConfig setOrphanAge(Duration orphanAge)
    {
        this.orphanAge = orphanAge;
        return this;
    }

    public boolean isOrphanCollectorEnabled()
    {
        return orphanAge.toMillis() > 0;
    }

    @NotNull
    @MinDuration("1s")
    public Duration getOrphanSweepInterval()
    {
        return orphanSweepInterval;
    }

    @Config("exchange.cleanup.orphan-sweep-interval")
    @ConfigDescription("How often the orphan collector looks at the top level of each base directory (on the coordinator)")
    public ExchangeConfig setOrphanSweepInterval(Duration orphanSweepInterval)
    {
        this.orphanSweepInterval = orphanSweepInterval;
        return this;
    }

    public CompressionCodec getSpoolCompressionCodec()
    {
        return spoolCompressionCodec;
    }

    @Config("exchange.spool-compression-codec")
    @ConfigDescription("Compression of spooled blocks: LZ4 (default) or NONE")
    public ExchangeConfig setSpoolCompressionCodec(CompressionCodec spoolCompressionCodec)
    {
        this.spoolCompressionCodec = spoolCompressionCodec;
        return this;
    }

    public Boolean getCompressionEnabled()
    {
        return compressionEnabled;
    }

    @Config("exchange.compression-enabled")
    @ConfigDescription("Compress spooled blocks with LZ4; false means the same as exchange.spool-compression-codec=NONE")
    public ExchangeConfig setCompressionEnabled(Boolean compressionEnabled)
    {
        this.compressionEnabled = compressionEnabled;
        return this;
    }

    @AssertTrue(message = "exchange.compression-enabled and exchange.spool-compression-codec disagree: set only one of them")
    public boolean isCompressionSettingConsistent()
    {
        if (spoolCompressionCodec == null || compressionEnabled == null) {
            return true;
        }
        return compressionEnabled == (spoolCompressionCodec != CompressionCodec.NONE);
    }

    @NotNull
    public StartupCheckMode getStartupCheck()
    {
        return startupCheck;
    }

    @Config("exchange.startup-check")
    @ConfigDescription("Probe every base directory (write, read back, delete a small object) when the exchange manager starts: WARN logs a failure and starts, FAIL stops the start, OFF skips the probe")
    public ExchangeConfig setStartupCheck(StartupCheckMode startupCheck)
    {
        this.startupCheck = startupCheck;
        return this;
    }

    @NotNull
    @MinDuration("0s")
    @MaxDuration("1h")
    public Duration getBaseDirectoryProbeInterval()
    {
        return baseDirectoryProbeInterval;
    }

    @Config("exchange.base-directory-probe-interval")
    @ConfigDescription("How often the coordinator probes every base directory (write, read back, list and delete a small object) so that new task attempts avoid one that fails; 0 turns every probe after the startup check off")
    public ExchangeConfig setBaseDirectoryProbeInterval(Duration baseDirectoryProbeInterval)
    {
        this.baseDirectoryProbeInterval = baseDirectoryProbeInterval;
        return this;
    }

    public boolean isBaseDirectoryProbeEnabled()
    {
        return baseDirectoryProbeInterval.toMillis() > 0;
    }

    @AssertTrue(message = "exchange.base-directory-probe-interval must be 0 (no probes) or at least 1s")
    public boolean isBaseDirectoryProbeIntervalValid()
    {
        return baseDirectoryProbeInterval == null || baseDirectoryProbeInterval.toMillis() == 0 || baseDirectoryProbeInterval.toMillis() >= 1000;
    }

    @NotNull
    @MinDuration("1s")
    @MaxDuration("1d")
    public Duration getBaseDirectoryRecoveryTime()
    {
        return baseDirectoryRecoveryTime;
    }

    @Config("exchange.base-directory-recovery-time")
    @ConfigDescription("How long after its last failure (a write of a task attempt, or a probe) a base directory is kept out of placement before it is probed again and, if it passes, used again")
    public ExchangeConfig setBaseDirectoryRecoveryTime(Duration baseDirectoryRecoveryTime)
    {
        this.baseDirectoryRecoveryTime = baseDirectoryRecoveryTime;
        return this;
    }
}
