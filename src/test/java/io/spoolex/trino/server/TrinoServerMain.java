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
package io.spoolex.trino.server;

import io.trino.server.Server;

import static java.util.Objects.requireNonNullElse;

/**
 * Starts a real Trino server, as Trino's own launcher does: configuration from {@code etc/} and plugins from
 * {@code plugin/} in the working directory ({@code -Dconfig=etc/config.properties}). Maven Central has no Trino
 * 483 server tarball, whose launcher would do this; trino-main has the server, this is its main method.
 */
public final class TrinoServerMain
{
    private TrinoServerMain() {}

    public static void main(String[] args)
    {
        String version = requireNonNullElse(Server.class.getPackage().getImplementationVersion(), "483");
        new Server().start(version);
    }
}
