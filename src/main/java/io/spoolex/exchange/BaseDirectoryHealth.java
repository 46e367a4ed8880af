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

import io.airlift.stats.CounterStat;
import org.weakref.jmx.Managed;
import org.weakref.jmx.Nested;

import java.net.URI;
import java.time.Instant;

import static java.util.Objects.requireNonNull;

/**
 * What this node knows about one base directory: whether the startup check could write, read, list and delete
 * there, and the last failure. Exported over JMX as {@code io.spoolex:type=BaseDirectoryHealth,name=<factory>,
 * directory="<uri>"}.
 */
public final class BaseDirectoryHealth
{
    public enum State
    {
        /**
         * Not probed (yet, or {@code exchange.startup-check=OFF}).
         */
        UNCHECKED,
        HEALTHY,
        UNHEALTHY,
    }

    private final URI directory;
    private final CounterStat failures = new CounterStat();
    private volatile State state = State.UNCHECKED;
    private volatile String lastFailure = "";
    private volatile Instant lastChange = Instant.now();

    public BaseDirectoryHealth(URI directory)
    {
        this.directory = requireNonNull(directory, "directory is null");
    }

    public URI directory()
    {
        return directory;
    }

    public State state()
    {
        return state;
    }

    void markHealthy()
    {
        state = State.HEALTHY;
        lastChange = Instant.now();
    }

    void markUnhealthy(String failure)
    {
        failures.update(1);
        lastFailure = requireNonNull(failure, "failure is null");
        state = State.UNHEALTHY;
        lastChange = Instant.now();
    }

    @Managed
    public String getDirectory()
    {
        return directory.toString();
    }

    @Managed
    public String getState()
    {
        return state.name();
    }

    @Managed
    public boolean isHealthy()
    {
        return state != State.UNHEALTHY;
    }

    @Managed
    public String getLastFailure()
    {
        return lastFailure;
    }

    @Managed
    public String getLastChange()
    {
        return lastChange.toString();
    }

    @Managed
    @Nested
    public CounterStat getFailures()
    {
        return failures;
    }

    @Override
    public String toString()
    {
        return "%s %s%s".formatted(directory, state, lastFailure.isEmpty() ? "" : ": " + lastFailure);
    }
}
