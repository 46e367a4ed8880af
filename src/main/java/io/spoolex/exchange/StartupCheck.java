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

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.SettableFuture;
import io.airlift.log.Logger;
import io.airlift.slice.Slice;
import io.airlift.slice.Slices;
import io.spoolex.storage.SpoolStorage;
import io.spoolex.storage.SpoolStorage.StorageOperation;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

import static com.google.common.collect.ImmutableList.toImmutableList;
import static com.google.common.util.concurrent.MoreExecutors.directExecutor;
import static java.util.Locale.ENGLISH;
import static java.util.Objects.requireNonNull;

/**
 * The probe of a base directory: writes a small object under a prefix of its own, reads it back, lists and deletes the
 * prefix, so that missing permissions, a missing bucket or wrong credentials show when the server starts
 * ({@code exchange.startup-check}) instead of at the first fault-tolerant query, and, later, so that the coordinator
 * sees a directory fail before task attempts are placed there ({@link StorageHealth}). Nothing it writes stays: the
 * delete runs whatever happened before it, and a probe left by a node that died mid-check is named like nothing else
 * ({@value #PROBE_PREFIX}...) and holds one tiny object.
 */
final class StartupCheck
{
    static final String PROBE_PREFIX = "spoolex-startup-probe-";
    private static final Logger log = Logger.get(StartupCheck.class);
    private static final Slice CONTENT = Slices.utf8Slice("Spoolex startup check: this object is deleted at once\n");

    /**
     * Where the results of the startup check go, besides its log lines.
     */
    interface Results
    {
        void passed(BaseDirectoryHealth directory);

        void failed(BaseDirectoryHealth directory, String failure);
    }

    private final SpoolStorage storage;

    StartupCheck(SpoolStorage storage)
    {
        this.storage = requireNonNull(storage, "storage is null");
    }

    /**
     * The startup check: probes every directory at once, logs each outcome and hands it to {@code results};
     * completes (never fails) with the failures, one line per directory.
     */
    ListenableFuture<List<String>> run(List<BaseDirectoryHealth> directories, Results results)
    {
        List<ListenableFuture<String>> probes = new ArrayList<>();
        for (BaseDirectoryHealth directory : directories) {
            long start = System.nanoTime();
            probes.add(Futures.transform(probe(directory.directory()), failure -> {
                long millis = (System.nanoTime() - start) / 1_000_000;
                if (failure.isEmpty()) {
                    // logged first: whoever sees the state change finds the line logged
                    log.info("Base directory %s passed the startup check (write, read, list and delete in %s ms)", directory.directory(), millis);
                    results.passed(directory);
                    return "";
                }
                log.error("Base directory %s failed the startup check: %s. Task attempts avoid it while it fails, and spooling there fails until this is fixed", directory.directory(), failure);
                results.failed(directory, failure);
                return "%s: %s".formatted(directory.directory(), failure);
            }, directExecutor()));
        }
        return Futures.transform(Futures.allAsList(probes), outcomes -> outcomes.stream().filter(outcome -> !outcome.isEmpty()).collect(toImmutableList()), directExecutor());
    }

    /**
     * Probes one directory; completes (never fails) with "" if every step passed, else with the failed steps and the
     * storage's diagnosis of each. Logs nothing and changes no health.
     */
    ListenableFuture<String> probe(URI directory)
    {
        URI probeDirectory = directory.resolve(PROBE_PREFIX + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + "/");
        URI object = probeDirectory.resolve("probe");
        List<String> failures = new ArrayList<>();
        ListenableFuture<Void> written = step(failures, StorageOperation.WRITE, object, () -> storage.putFile(object, List.of(CONTENT)));
        ListenableFuture<Void> read = Futures.transformAsync(written, _ -> noFailures(failures)
                ? step(failures, StorageOperation.READ, object, () -> Futures.transform(storage.getFile(object), content -> {
            if (!content.equals(CONTENT)) {
                throw new IllegalStateException("read back %s bytes that differ from the %s written".formatted(content.length(), CONTENT.length()));
            }
            return null;
        }, directExecutor()))
                : Futures.immediateVoidFuture(), directExecutor());
        ListenableFuture<Void> listed = Futures.transformAsync(read, _ -> noFailures(failures)
                ? step(failures, StorageOperation.LIST, probeDirectory, () -> Futures.transform(storage.listFiles(probeDirectory), files -> {
            if (files.isEmpty()) {
                throw new IllegalStateException("the object just written is not listed");
            }
            return null;
        }, directExecutor()))
                : Futures.immediateVoidFuture(), directExecutor());
        // the delete runs whatever failed before: a write may have landed even if its response was lost
        ListenableFuture<Void> deleted = Futures.transformAsync(listed, _ -> step(failures, StorageOperation.DELETE, probeDirectory, () -> storage.deleteRecursively(List.of(probeDirectory))), directExecutor());
        return Futures.transform(deleted, _ -> {
            synchronized (failures) {
                return String.join("; ", failures);
            }
        }, directExecutor());
    }

    private static boolean noFailures(List<String> failures)
    {
        synchronized (failures) {
            return failures.isEmpty();
        }
    }

    /**
     * Runs one step; its failure is recorded, with the storage's diagnosis, and the returned future succeeds.
     */
    private ListenableFuture<Void> step(List<String> failures, StorageOperation operation, URI location, Supplier<ListenableFuture<Void>> action)
    {
        SettableFuture<Void> done = SettableFuture.create();
        ListenableFuture<Void> future;
        try {
            future = action.get();
        }
        catch (RuntimeException e) {
            future = Futures.immediateFailedFuture(e);
        }
        Futures.addCallback(future, new FutureCallback<>()
        {
            @Override
            public void onSuccess(Void result)
            {
                done.set(null);
            }

            @Override
            public void onFailure(Throwable failure)
            {
                synchronized (failures) {
                    failures.add("%s %s failed: %s".formatted(operation.name().toLowerCase(ENGLISH), location, storage.diagnose(operation, location, failure)));
                }
                done.set(null);
            }
        }, directExecutor());
        return done;
    }
}
