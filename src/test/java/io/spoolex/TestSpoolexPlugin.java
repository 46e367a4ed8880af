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
package io.spoolex;

import com.google.common.collect.ImmutableMap;
import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.exchange.SpoolexExchangeManager;
import io.spoolex.exchange.SpoolexExchangeManagerFactory;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The plugin as Trino sees it: the factory it registers, the configurations it starts with, and the errors it
 * fails to start with. Every bad value must name its property.
 */
public class TestSpoolexPlugin
{
    @Test
    public void testRegistersFilesystemFactory()
    {
        ExchangeManagerFactory factory = ExchangeTestKit.filesystemFactory();
        assertThat(factory.getName()).isEqualTo("filesystem");
    }

    @Test
    public void testEachPluginRegistersOneFactory()
    {
        // a server with both plugin folders must see each name once
        assertThat(new SpoolexPlugin().getExchangeManagerFactories()).extracting(ExchangeManagerFactory::getName).containsExactly("filesystem");
        assertThat(new SpoolexHdfsPlugin().getExchangeManagerFactories()).extracting(ExchangeManagerFactory::getName).containsExactly("hdfs");
    }

    @Test
    public void testOperatorLocalConfigurationStartsUnchanged()
            throws Exception
    {
        Path directory = Files.createTempDirectory("trino-exchange-manager");
        // the documented local configuration, and the same with the deprecated singular property name
        ExchangeManager manager = create(Map.of("exchange.base-directories", directory.toString()));
        assertThat(manager).isInstanceOf(SpoolexExchangeManager.class);
        assertThat(manager.supportsConcurrentReadAndWrite()).isFalse();
        manager.shutdown();
        create(Map.of("exchange.base-directory", directory.toUri().toString())).shutdown();
        // engine properties operators put in this file too
        create(Map.of("exchange.base-directories", directory.toString(), "exchange.compression-enabled", "true", "exchange.encryption-enabled", "true")).shutdown();
    }

    @Test
    public void testStartLogsWhatRunsWithoutSecrets()
            throws Exception
    {
        Path directory = Files.createTempDirectory("spoolex-start-line");
        List<String> lines = new ArrayList<>();
        Handler capture = new Handler()
        {
            @Override
            public void publish(LogRecord record)
            {
                synchronized (lines) {
                    lines.add(record.getMessage());
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger logger = Logger.getLogger(SpoolexExchangeManagerFactory.class.getName());
        logger.addHandler(capture);
        try {
            create(Map.of("exchange.base-directories", directory.toString(), "exchange.startup-check", "OFF")).shutdown();
        }
        finally {
            logger.removeHandler(capture);
        }
        SpoolexVersion version = SpoolexVersion.current();
        assertThat(version.version()).isNotEqualTo("unknown");
        assertThat(lines).singleElement().satisfies(line -> assertThat(line)
                .startsWith("Spoolex " + version + ": exchange manager filesystem started: file storage")
                .contains(directory.toUri().toString())
                .contains("compression LZ4 (JNI)")
                .contains("encryption AES-256-GCM with a key per exchange")
                .contains("startup check OFF"));
    }

    @ParameterizedTest
    @MethodSource("badProperties")
    public void testBadPropertyFailsStartNamingIt(String property, String value, String expectedMessage)
    {
        Map<String, String> properties = new HashMap<>();
        properties.put("exchange.base-directories", "/tmp/spoolex-bad-config");
        properties.put(property, value);
        assertThatThrownBy(() -> create(properties))
                .hasMessageContaining(property)
                .hasMessageContaining(expectedMessage);
    }

    static Stream<Arguments> badProperties()
    {
        return Stream.of(
                arguments("exchange.sink-buffers-per-partition", "1", "must be greater than or equal to 2"),
                arguments("exchange.sink-buffer-pool-min-size", "-1", "must be greater than or equal to 0"),
                arguments("exchange.max-output-partition-count", "0", "must be greater than or equal to 1"),
                arguments("exchange.source-concurrent-readers", "0", "must be greater than or equal to 1"),
                arguments("exchange.source-max-files-per-reader", "0", "must be greater than or equal to 1"),
                arguments("exchange.file-listing-parallelism", "0", "must be greater than or equal to 1"),
                arguments("exchange.max-page-storage-size", "abc", "Invalid value 'abc'"),
                arguments("exchange.max-page-storage-size", "2GB", "must be less than or equal to 1GB"),
                arguments("exchange.sink-max-file-size", "10B", "must be greater than or equal to 1kB"),
                arguments("exchange.source-handle-target-data-size", "0B", "must be greater than or equal to 1B"),
                arguments("exchange.encryption-enabled", "maybe", "Invalid value 'maybe'"),
                arguments("exchange.spool-compression-codec", "ZSTD", "Invalid value 'ZSTD'"),
                arguments("exchange.no-such-property", "1", "was not used"),
                arguments("exchange.base-directories", "relative/dir", "neither an absolute path nor a URI"),
                arguments("exchange.base-directories", "s3://bucket/a,/tmp/b", "mixes URI schemes"),
                arguments("exchange.base-directories", "ftp://host/dir", "Scheme ftp is not supported"));
    }

    @Test
    public void testCrossPropertyErrorsNameBothProperties()
    {
        assertThatThrownBy(() -> create(ImmutableMap.of(
                "exchange.base-directories", "/tmp/spoolex-bad-config",
                "exchange.sink-max-file-size", "1MB")))
                .hasMessageContaining("exchange.sink-max-file-size")
                .hasMessageContaining("exchange.max-page-storage-size");
        assertThatThrownBy(() -> create(ImmutableMap.of(
                "exchange.base-directories", "/tmp/spoolex-bad-config",
                "exchange.compression-enabled", "false",
                "exchange.spool-compression-codec", "LZ4")))
                .hasMessageContaining("exchange.compression-enabled")
                .hasMessageContaining("exchange.spool-compression-codec");
        assertThatThrownBy(() -> create(ImmutableMap.of()))
                .hasMessageContaining("exchange.base-directories");
    }

    private static ExchangeManager create(Map<String, String> properties)
    {
        return ExchangeTestKit.filesystemFactory().create(properties, new ExchangeManagerContext() {});
    }
}
