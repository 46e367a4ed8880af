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
package io.spoolex.storage;

import com.google.inject.Binder;
import io.airlift.configuration.AbstractConfigurationAwareModule;

import static com.google.common.base.Preconditions.checkState;
import static java.util.Objects.requireNonNull;

/**
 * The Guice module of one storage backend (see {@link SpoolStorageBackend}). Besides its bindings it declares the
 * writes its storage takes, from its configuration alone, so that the exchange manager's module can check them
 * against the sink's settings before anything is created: a setting that can never work fails the start with a
 * configuration error, not a query.
 */
public abstract class SpoolStorageModule
        extends AbstractConfigurationAwareModule
{
    private StorageWriteLimits writeLimits;

    @Override
    protected final void setup(Binder binder)
    {
        writeLimits = requireNonNull(setupStorage(binder), "setupStorage returned null");
    }

    /**
     * Binds the backend's configuration, stats and {@link SpoolStorage}; returns the writes that storage takes.
     */
    protected abstract StorageWriteLimits setupStorage(Binder binder);

    /**
     * The limits of the storage this module binds, known once the module has been installed.
     */
    public final StorageWriteLimits writeLimits()
    {
        checkState(writeLimits != null, "the module is not installed yet");
        return writeLimits;
    }
}
