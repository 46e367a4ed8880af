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

import com.google.common.collect.ImmutableList;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.inject.Inject;
import io.spoolex.config.BaseDirectories;
import io.spoolex.config.ExchangeConfig;
import io.spoolex.config.StartupCheckMode;
import io.spoolex.storage.SpoolStorage;
import io.trino.spi.TrinoException;
import jakarta.annotation.PostConstruct;
import org.weakref.jmx.MBeanExporter;

import javax.management.ObjectName;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static com.google.common.collect.ImmutableList.toImmutableList;
import static io.spoolex.SpoolexErrorCode.SPOOL_STORAGE_ERROR;
import static java.util.Objects.requireNonNull;

/**
 * The health of this node's base directories: one {@link BaseDirectoryHealth} each, exported over JMX, and the
 * startup check that fills them in ({@code exchange.startup-check}).
 */
public class StorageHealth
{
    /**
     * How long a FAIL-mode start waits for the check; storage requests retry within it.
     */
    static final long STARTUP_CHECK_TIMEOUT_SECONDS = 120;

    private final List<BaseDirectoryHealth> directories;
    private final StartupCheckMode mode;
    private final StartupCheck check;
    private final MBeanExporter exporter;
    private volatile ListenableFuture<List<String>> checked = Futures.immediateFuture(ImmutableList.of());

    @Inject
    public StorageHealth(BaseDirectories baseDirectories, ExchangeConfig config, SpoolStorage storage, MBeanExporter exporter)
    {
        this.directories = baseDirectories.uris().stream().map(BaseDirectoryHealth::new).collect(toImmutableList());
        this.mode = config.getStartupCheck();
        this.check = new StartupCheck(requireNonNull(storage, "storage is null"), directories);
        this.exporter = requireNonNull(exporter, "exporter is null");
    }

    public List<BaseDirectoryHealth> directories()
    {
        return directories;
    }

    @PostConstruct
    public void start()
    {
        for (BaseDirectoryHealth directory : directories) {
            exporter.exportWithGeneratedName(directory, BaseDirectoryHealth.class, Map.of("directory", ObjectName.quote(directory.directory().toString())));
        }
        if (mode != StartupCheckMode.OFF) {
            // the check's requests run on the storage's own threads: nothing here waits for them
            checked = check.run();
        }
    }

    /**
     * Under {@code exchange.startup-check=FAIL}, waits for the check and fails if a directory did not pass;
     * otherwise returns at once.
     */
    void failStartIfUnhealthy()
    {
        if (mode != StartupCheckMode.FAIL) {
            return;
        }
        List<String> failures;
        try {
            failures = checked.get(STARTUP_CHECK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        catch (TimeoutException e) {
            throw new TrinoException(SPOOL_STORAGE_ERROR, "The startup check of the base directories did not finish within %s s (exchange.startup-check=FAIL): %s".formatted(STARTUP_CHECK_TIMEOUT_SECONDS, directories));
        }
        catch (ExecutionException e) {
            throw new TrinoException(SPOOL_STORAGE_ERROR, "The startup check of the base directories failed (exchange.startup-check=FAIL)", e.getCause());
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeException(e);
        }
        if (!failures.isEmpty()) {
            throw new TrinoException(SPOOL_STORAGE_ERROR, "Spool storage is not usable (exchange.startup-check=FAIL; WARN would start anyway): " + String.join(" | ", failures));
        }
    }
}
