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

import com.google.common.collect.ImmutableMap;
import io.airlift.units.DataSize;
import io.airlift.units.Duration;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static io.airlift.configuration.testing.ConfigAssertions.assertFullMapping;
import static io.airlift.configuration.testing.ConfigAssertions.assertRecordedDefaults;
import static io.airlift.configuration.testing.ConfigAssertions.recordDefaults;
import static io.airlift.units.DataSize.Unit.GIGABYTE;
import static io.airlift.units.DataSize.Unit.KILOBYTE;
import static io.airlift.units.DataSize.Unit.MEGABYTE;
import static java.util.concurrent.TimeUnit.DAYS;
import static java.util.concurrent.TimeUnit.HOURS;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.MINUTES;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

public class TestExchangeConfig
{
    @Test
    public void testDefaults()
    {
        // the same defaults as Trino's filesystem exchange manager, plus ours (encryption on, LZ4)
        assertRecordedDefaults(recordDefaults(ExchangeConfig.class)
                .setBaseDirectories(null)
                .setMaxPageStorageSize(DataSize.of(16, MEGABYTE))
                .setSinkBufferPoolMinSize(10)
                .setSinkBuffersPerPartition(2)
                .setSinkMaxFileSize(DataSize.of(1, GIGABYTE))
                .setSourceConcurrentReaders(4)
                .setSourceMaxFilesPerReader(25)
                .setMaxOutputPartitionCount(50)
                .setFileListingParallelism(50)
                .setSourceHandleTargetDataSize(DataSize.of(256, MEGABYTE))
                .setEncryptionEnabled(true)
                .setSpoolCompressionCodec(null)
                .setCompressionEnabled(null)
                .setCleanupRetryTime(new Duration(10, MINUTES))
                .setOrphanAge(new Duration(2, DAYS))
                .setOrphanSweepInterval(new Duration(1, HOURS))
                .setStartupCheck(StartupCheckMode.WARN)
                .setBaseDirectoryProbeInterval(new Duration(30, SECONDS))
                .setBaseDirectoryRecoveryTime(new Duration(1, MINUTES)));
        assertThat(new ExchangeConfig().resolveCompressionCodec()).isEqualTo(CompressionCodec.LZ4);
    }

    @Test
    public void testExplicitPropertyMappings()
    {
        Map<String, String> properties = ImmutableMap.<String, String>builder()
                .put("exchange.base-directories", "s3://exchange-1/spool, s3://exchange-2/spool")
                .put("exchange.max-page-storage-size", "32MB")
                .put("exchange.sink-buffer-pool-min-size", "20")
                .put("exchange.sink-buffers-per-partition", "3")
                .put("exchange.sink-max-file-size", "512MB")
                .put("exchange.source-concurrent-readers", "8")
                .put("exchange.source-max-files-per-reader", "10")
                .put("exchange.max-output-partition-count", "100")
                .put("exchange.file-listing-parallelism", "20")
                .put("exchange.source-handle-target-data-size", "128MB")
                .put("exchange.encryption-enabled", "false")
                .put("exchange.spool-compression-codec", "NONE")
                .put("exchange.compression-enabled", "false")
                .put("exchange.cleanup-retry-time", "90s")
                .put("exchange.cleanup.orphan-age", "6h")
                .put("exchange.cleanup.orphan-sweep-interval", "10m")
                .put("exchange.startup-check", "FAIL")
                .put("exchange.base-directory-probe-interval", "5s")
                .put("exchange.base-directory-recovery-time", "10m")
                .buildOrThrow();
        ExchangeConfig expected = new ExchangeConfig()
                .setBaseDirectories("s3://exchange-1/spool,s3://exchange-2/spool")
                .setMaxPageStorageSize(DataSize.of(32, MEGABYTE))
                .setSinkBufferPoolMinSize(20)
                .setSinkBuffersPerPartition(3)
                .setSinkMaxFileSize(DataSize.of(512, MEGABYTE))
                .setSourceConcurrentReaders(8)
                .setSourceMaxFilesPerReader(10)
                .setMaxOutputPartitionCount(100)
                .setFileListingParallelism(20)
                .setSourceHandleTargetDataSize(DataSize.of(128, MEGABYTE))
                .setEncryptionEnabled(false)
                .setSpoolCompressionCodec(CompressionCodec.NONE)
                .setCompressionEnabled(false)
                .setCleanupRetryTime(new Duration(90, SECONDS))
                .setOrphanAge(new Duration(6, HOURS))
                .setOrphanSweepInterval(new Duration(10, MINUTES))
                .setStartupCheck(StartupCheckMode.FAIL)
                .setBaseDirectoryProbeInterval(new Duration(5, SECONDS))
                .setBaseDirectoryRecoveryTime(new Duration(10, MINUTES));
        assertFullMapping(properties, expected);
    }

    @Test
    public void testBaseDirectoriesList()
    {
        assertThat(new ExchangeConfig().setBaseDirectories(" /a , file:///b,").getBaseDirectories()).containsExactly("/a", "file:///b");
        assertThat(new ExchangeConfig().setSinkMaxFileSize(DataSize.of(1, KILOBYTE)).isMaxPageWithinMaxFileSize()).isFalse();
    }

    @Test
    public void testBaseDirectoryProbeInterval()
    {
        assertThat(new ExchangeConfig().isBaseDirectoryProbeEnabled()).isTrue();
        assertThat(new ExchangeConfig().setBaseDirectoryProbeInterval(new Duration(0, SECONDS)).isBaseDirectoryProbeEnabled()).isFalse();
        assertThat(new ExchangeConfig().setBaseDirectoryProbeInterval(new Duration(0, SECONDS)).isBaseDirectoryProbeIntervalValid()).isTrue();
        assertThat(new ExchangeConfig().setBaseDirectoryProbeInterval(new Duration(1, SECONDS)).isBaseDirectoryProbeIntervalValid()).isTrue();
        assertThat(new ExchangeConfig().setBaseDirectoryProbeInterval(new Duration(100, MILLISECONDS)).isBaseDirectoryProbeIntervalValid()).isFalse();
    }

    @Test
    public void testCompressionSwitches()
    {
        assertThat(new ExchangeConfig().setCompressionEnabled(false).resolveCompressionCodec()).isEqualTo(CompressionCodec.NONE);
        assertThat(new ExchangeConfig().setCompressionEnabled(true).resolveCompressionCodec()).isEqualTo(CompressionCodec.LZ4);
        assertThat(new ExchangeConfig().setSpoolCompressionCodec(CompressionCodec.NONE).resolveCompressionCodec()).isEqualTo(CompressionCodec.NONE);
        assertThat(new ExchangeConfig().setCompressionEnabled(false).setSpoolCompressionCodec(CompressionCodec.LZ4).isCompressionSettingConsistent()).isFalse();
        assertThat(new ExchangeConfig().setCompressionEnabled(true).setSpoolCompressionCodec(CompressionCodec.LZ4).isCompressionSettingConsistent()).isTrue();
        assertThat(List.of(CompressionCodec.values())).containsExactly(CompressionCodec.NONE, CompressionCodec.LZ4);
    }
}
