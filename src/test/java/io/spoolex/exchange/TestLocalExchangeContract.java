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

import com.google.common.collect.HashMultiset;
import com.google.common.collect.Multiset;
import com.google.common.io.MoreFiles;
import io.airlift.slice.Slice;
import io.trino.spi.exchange.Exchange;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeSink;
import io.trino.spi.exchange.ExchangeSinkHandle;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;

import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;
import static io.spoolex.exchange.ExchangeTestKit.finalSelector;
import static io.spoolex.exchange.ExchangeTestKit.finish;
import static io.spoolex.exchange.ExchangeTestKit.readAll;
import static io.spoolex.exchange.ExchangeTestKit.sourceHandles;
import static io.spoolex.exchange.ExchangeTestKit.write;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The exchange contract on the local file system, with two base directories (one as a file: URI, one as a path).
 */
public class TestLocalExchangeContract
        extends AbstractExchangeContractTest
{
    private Path root;
    private Path first;
    private Path second;

    @BeforeEach
    public void createDirectories()
            throws IOException
    {
        root = Files.createTempDirectory("spoolex-contract");
        first = Files.createDirectories(root.resolve("first"));
        second = Files.createDirectories(root.resolve("second"));
    }

    /**
     * A base directory that really fails: replaced by a regular file (permissions would not stop root), so writes
     * below it fail. The attempt that failed there is retried on the other directory, later attempts avoid it, the
     * data comes back whole, and once the directory is back a probe after the recovery time makes it healthy again;
     * one WARN line when it became unhealthy, one INFO line when it recovered, and JMX shows both.
     */
    @Test
    public void testFailingBaseDirectoryIsAvoidedAndRecovers()
            throws Exception
    {
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler capture = new Handler()
        {
            @Override
            public void publish(LogRecord record)
            {
                records.add(record);
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger healthLog = Logger.getLogger(StorageHealth.class.getName());
        healthLog.addHandler(capture);
        try {
            ExchangeManager manager = createManager(Map.of("exchange.base-directory-probe-interval", "1h", "exchange.base-directory-recovery-time", "3s"));
            List<URI> bases = baseDirectories(manager);
            assertThat(bases.get(1)).isEqualTo(second.toUri());
            MoreFiles.deleteRecursively(second, ALLOW_INSECURE);
            Files.writeString(second, "not a directory");

            Exchange exchange = ExchangeTestKit.createExchange(manager, 1, false);
            int tasks = 6;
            Map<Integer, Integer> committed = new HashMap<>();
            int failed = 0;
            for (int task = 0; task < tasks; task++) {
                ExchangeSinkHandle sinkHandle = exchange.addSink(task);
                int attempt = 0;
                while (true) {
                    SpoolexSinkInstanceHandle instance = instantiate(exchange, sinkHandle, attempt);
                    ExchangeSink sink = manager.createSink(instance);
                    write(sink, 0, pages(task, attempt, 0, 4, 500));
                    if (baseIndex(bases, instance) == 1) {
                        assertThatThrownBy(() -> finish(sink)).hasMessageContaining(second.toString());
                        failed++;
                        attempt++;
                        continue;
                    }
                    finish(sink);
                    exchange.sinkFinished(sinkHandle, attempt);
                    committed.put(task, attempt);
                    break;
                }
            }
            exchange.noMoreSinks();
            assertThat(failed).as("one attempt failed there before the directory was known to fail").isEqualTo(1);
            assertThat(committed.values()).as("its retry went to the other directory at once").containsOnly(0, 1);
            BaseDirectoryHealth health = ((SpoolexExchangeManager) manager).getStorageHealth().directories().get(1);
            assertThat(health.state()).isEqualTo(BaseDirectoryHealth.State.UNHEALTHY);
            assertThat(jmx(bases.get(1), "State")).isEqualTo("UNHEALTHY");
            // the sink's failure, or that of the probe the retry asked for
            assertThat((String) jmx(bases.get(1), "LastFailure")).contains(second.toString());
            assertThat(health.getAttemptsPlaced().getTotalCount()).isEqualTo(1);
            Multiset<Slice> expected = HashMultiset.create();
            committed.forEach((task, attempt) -> expected.addAll(pages(task, attempt, 0, 4, 500)));
            assertThat(HashMultiset.create(readAll(manager, sourceHandles(exchange), finalSelector(exchange.getId(), committed, tasks)))).isEqualTo(expected);
            exchange.close();

            // the directory is back: the probe once the recovery time is up passes
            Files.delete(second);
            Files.createDirectories(second);
            awaitNoSpoolFiles();
            long deadline = System.nanoTime() + SECONDS.toNanos(30);
            while (health.state() != BaseDirectoryHealth.State.HEALTHY && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(health.state()).isEqualTo(BaseDirectoryHealth.State.HEALTHY);
            assertThat(jmx(bases.get(1), "State")).isEqualTo("HEALTHY");
            List<String> lines = records.stream().filter(record -> record.getMessage().contains(bases.get(1).toString())).map(record -> record.getLevel() + " " + record.getMessage()).toList();
            assertThat(lines).hasSize(2);
            assertThat(lines.get(0)).startsWith(Level.WARNING + " Base directory " + bases.get(1) + " is unhealthy (a task attempt's write failed)");
            assertThat(lines.get(1)).isEqualTo(Level.INFO + " Base directory " + bases.get(1) + " is HEALTHY again (a probe passed)");
            Exchange later = ExchangeTestKit.createExchange(manager, 1, false);
            assertThat(baseIndex(bases, instantiate(later, later.addSink(0), 0)) + baseIndex(bases, instantiate(later, later.addSink(1), 0))).as("both directories in use").isEqualTo(1);
            later.close();
        }
        finally {
            healthLog.removeHandler(capture);
        }
    }

    private static Object jmx(URI directory, String attribute)
            throws Exception
    {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        return server.getAttribute(new ObjectName("io.spoolex:type=BaseDirectoryHealth,name=filesystem,directory=" + ObjectName.quote(directory.toString())), attribute);
    }

    @Override
    protected void cleanUpStorage()
    {
        try {
            MoreFiles.deleteRecursively(root, ALLOW_INSECURE);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected Map<String, String> storageProperties()
    {
        return Map.of("exchange.base-directories", first.toUri() + "," + second);
    }

    @Override
    protected List<URI> listStoredFiles()
    {
        while (true) {
            try {
                return walkStoredFiles();
            }
            catch (UncheckedIOException e) {
                // a directory vanished during the walk: an exchange's asynchronous delete is running; look again
                if (!(e.getCause() instanceof NoSuchFileException)) {
                    throw e;
                }
            }
        }
    }

    private List<URI> walkStoredFiles()
    {
        List<URI> files = new ArrayList<>();
        for (Path directory : List.of(first, second)) {
            try (Stream<Path> paths = Files.walk(directory)) {
                paths.filter(Files::isRegularFile).forEach(path -> files.add(path.toUri()));
            }
            catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files;
    }

    @Override
    protected byte[] readStoredFile(URI file)
    {
        try {
            return Files.readAllBytes(Path.of(file));
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected void writeStoredFile(URI file, byte[] content)
    {
        try {
            Files.createDirectories(Path.of(file).getParent());
            Files.write(Path.of(file), content);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected void deleteStoredFile(URI file)
    {
        try {
            Files.delete(Path.of(file));
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
