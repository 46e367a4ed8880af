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
package io.spoolex.storage.azure;

import com.google.common.base.Throwables;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.exchange.ExchangeTestKit;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

import static io.spoolex.exchange.ExchangeTestKit.createSink;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.readAll;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * An account key in {@code exchange.azure.connection-string} appears in no log line (everything logged, the SDK's
 * debug output included), no exception (with its causes and stack) and no {@code toString()}: on a working round
 * trip through Azurite (its well-known key is the marker there), on a start refused for a bad property, and with a
 * marker key Azurite refuses, which fails the start on the authentication error.
 */
public class TestAzureSecrets
{
    private static final String CONTAINER = "spoolex-secrets";
    // a well-formed key Azurite does not know: every signed request is refused
    private static final String MARKER_KEY = "U3Bvb2xleE1hcmtlcktleVNob3VsZE5ldmVyQmVMb2dnZWRBbnl3aGVyZTAxMjM0NTY3ODk=";

    @Test
    public void testAccountKeyNeverLoggedNorInExceptionsNorInToString()
    {
        AzuriteServer server = AzuriteServer.shared();
        server.createContainers(List.of(CONTAINER));
        String host = AzuriteServer.ACCOUNT + ".dfs.core.windows.net";
        Map<String, String> properties = Map.of(
                "exchange.base-directories", "abfs://%s@%s/spool".formatted(CONTAINER, host),
                "exchange.azure.connection-string", server.connectionString());

        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
        Handler handler = new Handler()
        {
            private final SimpleFormatter formatter = new SimpleFormatter();

            @Override
            public void publish(LogRecord record)
            {
                capture.print(formatter.format(record));
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        handler.setLevel(Level.ALL);
        Logger root = Logger.getLogger("");
        Level rootLevel = root.getLevel();
        root.addHandler(handler);
        root.setLevel(Level.ALL);
        List<String> texts = new ArrayList<>();
        try {
            ExchangeManager manager = ExchangeTestKit.filesystemFactory().create(properties, new ExchangeManagerContext() {});
            List<Slice> pages = List.of(Slices.utf8Slice("spooled through Azurite"), Slices.wrappedBuffer(new byte[100_000]));
            Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
            ExchangeSinkHandle task = exchange.addSink(0);
            exchange.noMoreSinks();
            ExchangeSink sink = createSink(manager, exchange, task, 0);
            write(sink, 0, pages);
            finish(sink);
            exchange.sinkFinished(task, 0);
            assertThat(readAll(manager, sourceHandles(exchange), finalSelector(exchange.getId(), Map.of(0, 0), 1))).isEqualTo(pages);
            texts.add(manager.toString());
            texts.add(exchange.toString());
            exchange.close();
            manager.shutdown();

            // a bad property beside the key: refused at start, naming the property
            Map<String, String> badBlockSize = new HashMap<>(properties);
            badBlockSize.put("exchange.azure.block-size", "1MB");
            Throwable refused = catchThrowable(() -> ExchangeTestKit.filesystemFactory().create(badBlockSize, new ExchangeManagerContext() {}));
            assertThat(refused).hasStackTraceContaining("exchange.azure.block-size");
            texts.add(Throwables.getStackTraceAsString(refused));

            // a key the account does not have: the start fails on the authentication error
            Map<String, String> wrongKey = new HashMap<>(properties);
            wrongKey.put("exchange.azure.connection-string", server.connectionString().replace(AzuriteServer.ACCOUNT_KEY, MARKER_KEY));
            Throwable unauthenticated = catchThrowable(() -> ExchangeTestKit.filesystemFactory().create(wrongKey, new ExchangeManagerContext() {}).shutdown());
            assertThat(unauthenticated).hasStackTraceContaining("403");
            texts.add(Throwables.getStackTraceAsString(unauthenticated));
        }
        finally {
            root.setLevel(rootLevel);
            root.removeHandler(handler);
        }
        String logs = captured.toString(StandardCharsets.UTF_8);
        // the capture works: the bootstrap's property table went through it, with the connection string's row redacted
        assertThat(logs).contains("exchange.azure.connection-string").contains("[REDACTED]");
        texts.add(logs);
        AzureStorageConfig config = new AzureStorageConfig().setConnectionString(server.connectionString());
        texts.add(config.toString());
        texts.add(new AzureStorageConfig().setConnectionString(server.connectionString().replace(AzuriteServer.ACCOUNT_KEY, MARKER_KEY)).toString());
        assertThat(texts).allSatisfy(text -> assertThat(text)
                .doesNotContain(AzuriteServer.ACCOUNT_KEY)
                .doesNotContain(MARKER_KEY)
                // nor a recognisable part of either
                .doesNotContain(AzuriteServer.ACCOUNT_KEY.substring(0, 16))
                .doesNotContain(MARKER_KEY.substring(0, 16)));
    }
}
