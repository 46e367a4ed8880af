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

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.airlift.stats.CounterStat;
import org.weakref.jmx.Managed;
import org.weakref.jmx.Nested;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * What this node knows about one base directory: whether the last probe (the startup check, a periodic probe) or
 * task attempt writing there succeeded, the last failure, and until when a failure keeps the directory out of
 * placement. Exported over JMX as {@code io.spoolex:type=BaseDirectoryHealth,name=<factory>,directory="<uri>"}.
 * <p>
 * A directory is left out of placement exactly while it is {@link State#UNHEALTHY}. It leaves that state only when
 * {@code exchange.base-directory-recovery-time} has passed since its last failure: by a probe that passes then, by a
 * task attempt that commits there then (on a worker), or, with probes off, by the recovery time alone (back to
 * {@link State#UNCHECKED}). {@link StorageHealth} makes these transitions and logs them.
 */
public final class BaseDirectoryHealth
{
    public enum State
    {
        /**
         * Not probed (yet, or {@code exchange.startup-check=OFF}), or back in use after its recovery time without a
         * probe ({@code exchange.base-directory-probe-interval=0}).
         */
        UNCHECKED,
        HEALTHY,
        UNHEALTHY,
    }

    private final URI directory;
    private final CounterStat failures = new CounterStat();
    private final CounterStat probes = new CounterStat();
    private final CounterStat attemptsPlaced = new CounterStat();
    @GuardedBy("this")
    private State state = State.UNCHECKED;
    @GuardedBy("this")
    private String lastFailure = "";
    @GuardedBy("this")
    private Instant lastChange = Instant.now();
    @GuardedBy("this")
    private Optional<Instant> unhealthyUntil = Optional.empty();

    public BaseDirectoryHealth(URI directory)
    {
        this.directory = requireNonNull(directory, "directory is null");
    }

    public URI directory()
    {
        return directory;
    }

    public synchronized State state()
    {
        return state;
    }

    /**
     * Whether new task attempts may be placed here.
     */
    public synchronized boolean isUsable()
    {
        return state != State.UNHEALTHY;
    }

    /**
     * Records a failure, keeping the directory out until {@code recoveryTime} from now (a later failure moves that
     * on). Returns whether this made the directory unhealthy (it was not already).
     */
    synchronized boolean markUnhealthy(String failure, Instant now, Duration recoveryTime)
    {
        failures.update(1);
        lastFailure = requireNonNull(failure, "failure is null");
        unhealthyUntil = Optional.of(now.plus(recoveryTime));
        if (state == State.UNHEALTHY) {
            return false;
        }
        state = State.UNHEALTHY;
        lastChange = now;
        return true;
    }

    /**
     * Records a success. An unhealthy directory becomes healthy only once its recovery time is up; returns the
     * state it left, or empty if the state did not change.
     */
    synchronized Optional<State> markHealthy(Instant now)
    {
        return moveTo(State.HEALTHY, now);
    }

    /**
     * Puts a directory whose recovery time is up back in use without a probe.
     */
    synchronized Optional<State> markUnchecked(Instant now)
    {
        return moveTo(State.UNCHECKED, now);
    }

    @GuardedBy("this")
    private Optional<State> moveTo(State next, Instant now)
    {
        if (state == next || (state == State.UNHEALTHY && now.isBefore(unhealthyUntil.orElseThrow()))) {
            return Optional.empty();
        }
        State previous = state;
        state = next;
        lastChange = now;
        unhealthyUntil = Optional.empty();
        return Optional.of(previous);
    }

    /**
     * When an unhealthy directory's recovery time is up.
     */
    synchronized Optional<Instant> unhealthyUntil()
    {
        return unhealthyUntil;
    }

    synchronized Instant lastChange()
    {
        return lastChange;
    }

    synchronized String lastFailure()
    {
        return lastFailure;
    }

    void probed()
    {
        probes.update(1);
    }

    void attemptPlaced()
    {
        attemptsPlaced.update(1);
    }

    @Managed
    public String getDirectory()
    {
        return directory.toString();
    }

    @Managed
    public String getState()
    {
        return state().name();
    }

    @Managed
    public boolean isHealthy()
    {
        return state() != State.UNHEALTHY;
    }

    @Managed
    public String getLastFailure()
    {
        return lastFailure();
    }

    @Managed
    public String getLastChange()
    {
        return lastChange().toString();
    }

    @Managed
    public String getUnhealthyUntil()
    {
        return unhealthyUntil().map(Instant::toString).orElse("");
    }

    /**
     * Failures seen here: of probes, and of task attempts' writes (on the workers that ran them).
     */
    @Managed
    @Nested
    public CounterStat getFailures()
    {
        return failures;
    }

    @Managed
    @Nested
    public CounterStat getProbes()
    {
        return probes;
    }

    /**
     * Task attempts the coordinator placed here (always zero on workers).
     */
    @Managed
    @Nested
    public CounterStat getAttemptsPlaced()
    {
        return attemptsPlaced;
    }

    @Override
    public synchronized String toString()
    {
        return "%s %s%s".formatted(directory, state, lastFailure.isEmpty() ? "" : ": " + lastFailure);
    }
}
