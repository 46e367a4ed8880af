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

import io.spoolex.config.BaseDirectories;

import java.util.Set;

/**
 * One storage backend as the exchange manager sees it: the URI schemes of the base directories it stores to, and
 * the Guice module that binds its {@link SpoolStorage}. The module is installed only when the configured base
 * directories have one of those schemes, so a backend's configuration class, statistics and clients exist only then,
 * and another backend's properties stay unused (which fails the start, naming them).
 * <p>
 * A backend module binds {@link SpoolStorage} as a singleton, binds its own {@code @Config} class, exports its JMX
 * beans with {@code ExportBinder.newExporter(binder).export(...).withGeneratedName()}, and may add configuration
 * errors about the base directories with {@code binder.addError}.
 */
public interface SpoolStorageBackend
{
    /**
     * Lower-case URI schemes this backend serves, e.g. {@code s3}. A scheme belongs to one backend of a factory.
     */
    Set<String> schemes();

    /**
     * The module for these base directories, whose scheme is one of {@link #schemes()}.
     */
    SpoolStorageModule module(BaseDirectories baseDirectories);
}
