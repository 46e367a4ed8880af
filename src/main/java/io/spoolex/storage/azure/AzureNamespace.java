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

import com.azure.core.exception.HttpResponseException;
import com.azure.storage.blob.models.StorageAccountInfo;
import com.google.common.util.concurrent.ListenableFuture;
import io.airlift.log.Logger;
import io.spoolex.storage.SpoolStorage.StorageOperation;
import io.trino.spi.TrinoException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.spoolex.config.BaseDirectories.PROPERTY;
import static io.trino.spi.StandardErrorCode.CONFIGURATION_INVALID;

/**
 * Whether the accounts of the base directories have a hierarchical namespace (ADLS Gen2), which changes how
 * directories are deleted and listed: real directories there, name prefixes on a flat account.
 */
enum AzureNamespace
{
    FLAT,
    HIERARCHICAL;

    private static final Logger log = Logger.get(AzureNamespace.class);

    /**
     * Answers of Get Account Information that mean "not for this caller" rather than a failure: a role or SAS that
     * does not cover it, or a store that does not implement it.
     */
    private static final Set<Integer> ACCOUNT_INFORMATION_REFUSED = Set.of(400, 403, 405, 409, 501);
    private static final Duration DETECTION_TIMEOUT = Duration.ofMinutes(5);

    /**
     * Asks each base directory's account, and refuses a mix of both kinds naming the directories.
     */
    static AzureNamespace detect(AzureClients clients, List<AzureLocation> directories)
    {
        List<AzureLocation> flat = new ArrayList<>();
        List<AzureLocation> hierarchical = new ArrayList<>();
        for (AzureLocation directory : directories) {
            (of(clients, directory) == HIERARCHICAL ? hierarchical : flat).add(directory);
        }
        if (!flat.isEmpty() && !hierarchical.isEmpty()) {
            throw new TrinoException(CONFIGURATION_INVALID, "Invalid configuration: %s mixes directories on accounts with a hierarchical namespace (ADLS Gen2: %s) and without (%s): all must be of one kind"
                    .formatted(PROPERTY, hierarchical, flat));
        }
        return hierarchical.isEmpty() ? FLAT : HIERARCHICAL;
    }

    private static AzureNamespace of(AzureClients clients, AzureLocation directory)
    {
        checkContainerExists(clients, directory);
        try {
            // Get Account Information on the container: x-ms-is-hns-enabled
            StorageAccountInfo info = await(clients.calls().call("get the account information of", directory, () -> clients.container(directory.container()).getAccountInfo()));
            return info != null && info.isHierarchicalNamespaceEnabled() ? HIERARCHICAL : FLAT;
        }
        catch (RuntimeException e) {
            Throwable cause = AzureFailures.unwrap(e instanceof DetectionFailure ? e.getCause() : e);
            int status = AzureFailures.statusCode(cause);
            if (status == 404 && cause instanceof HttpResponseException response && "ContainerNotFound".equals(AzureFailures.errorCode(response))) {
                throw new TrinoException(CONFIGURATION_INVALID, "Invalid configuration: %s: container %s of %s does not exist".formatted(PROPERTY, directory.container(), directory), cause);
            }
            if (!ACCOUNT_INFORMATION_REFUSED.contains(status)) {
                throw failure(directory, e);
            }
            log.debug("Get Account Information for %s answered %s; probing the container's root directory instead", directory, status);
        }
        try {
            // the root directory of a hierarchical namespace answers as a blob named "/"; a flat container has none
            Boolean exists = await(clients.calls().call("probe the root directory of", directory, () -> clients.container(directory.container()).getBlobAsyncClient("/").exists()));
            return Boolean.TRUE.equals(exists) ? HIERARCHICAL : FLAT;
        }
        catch (RuntimeException e) {
            throw failure(directory, e);
        }
    }

    /**
     * A missing container fails the start rather than every task that writes to it. (A caller that may not read the
     * container's properties is not refused for that: its writes tell.)
     */
    private static void checkContainerExists(AzureClients clients, AzureLocation directory)
    {
        Boolean exists;
        try {
            exists = await(clients.calls().call("check the container of", directory, () -> clients.container(directory.container()).exists()));
        }
        catch (RuntimeException e) {
            Throwable cause = AzureFailures.unwrap(e instanceof DetectionFailure ? e.getCause() : e);
            if (AzureFailures.statusCode(cause) == 403) {
                log.debug("Not allowed to read the properties of container %s; not checking that it exists", directory.container());
                return;
            }
            throw failure(directory, e);
        }
        if (!Boolean.TRUE.equals(exists)) {
            throw new TrinoException(CONFIGURATION_INVALID, "Invalid configuration: %s: container %s of %s does not exist".formatted(PROPERTY, directory.container(), directory));
        }
    }

    /**
     * Waits for a call (retried as every call is); a failure is thrown as the SDK's, whose status the callers read,
     * with the error of the retries suppressed in it.
     */
    private static <T> T await(ListenableFuture<T> call)
    {
        try {
            return call.get(DETECTION_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
        catch (ExecutionException e) {
            Throwable failure = e.getCause();
            if (failure instanceof TrinoException trinoException && trinoException.getCause() instanceof RuntimeException cause) {
                throw new DetectionFailure(trinoException, cause);
            }
            throw new DetectionFailure(failure instanceof TrinoException trinoException ? trinoException : null, failure);
        }
        catch (TimeoutException e) {
            call.cancel(true);
            throw new DetectionFailure(null, e);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            call.cancel(true);
            throw new DetectionFailure(null, e);
        }
    }

    /**
     * A failed call of the detection: the SDK's failure, and the error naming the attempts if it was retried.
     */
    private static final class DetectionFailure
            extends RuntimeException
    {
        private final TrinoException error;

        DetectionFailure(TrinoException error, Throwable cause)
        {
            super(cause);
            this.error = error;
        }
    }

    private static TrinoException failure(AzureLocation directory, Throwable failure)
    {
        Throwable cause = failure instanceof DetectionFailure detection ? detection.getCause() : failure;
        TrinoException translated = failure instanceof DetectionFailure detection && detection.error != null
                ? detection.error
                : AzureFailures.translate("find out the namespace kind (flat or hierarchical) of", directory, cause);
        // with the startup check's hint: this question is answered before the check can run
        return new TrinoException(CONFIGURATION_INVALID, "Invalid configuration: %s: %s (%s)".formatted(
                PROPERTY,
                translated.getMessage(),
                AzureFailures.diagnose(StorageOperation.LIST, directory, cause)), cause);
    }
}
