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
package io.spoolex.faults;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import io.spoolex.faults.FaultInjector.Capability;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * One way for storage to misbehave while an exchange runs, independent of the storage: faults by request kind,
 * during chosen phases of the exchange, and optionally an outage, with what the exchange manager must make of it.
 *
 * @param rules per-request faults, active during {@code rulePhases}
 * @param outage storage unreachable for a while, starting with a phase
 * @param storageRetries how much the backend retries a failing request in this scenario, where not its defaults
 *         (S3: {@code exchange.s3.max-error-retries} and {@code exchange.s3.retry-time}); exchange managers without such
 *         settings run with their own
 */
public record FaultScenario(
        String name,
        String description,
        List<FaultPlan.Rule> rules,
        Set<Phase> rulePhases,
        Optional<Outage> outage,
        Optional<RetryLimits> storageRetries,
        Expectation expectation)
{
    /**
     * The phases of one exchange, in order.
     */
    public enum Phase
    {
        /**
         * Sinks write their files and manifests (one attempt aborts part-way).
         */
        WRITE,
        /**
         * The coordinator reads the manifests into source handles.
         */
        COMMIT,
        /**
         * Sources read every file back.
         */
        READ,
        /**
         * The exchange closes and its data is deleted.
         */
        CLOSE,
    }

    public enum Expectation
    {
        /**
         * Every row arrives exactly once; the faults cost time only.
         */
        RIDES_OUT,
        /**
         * The exchange fails with a retryable error naming the file, the storage's answer and the attempts (a task
         * fault-tolerant execution runs again); nothing is left after close.
         */
        FAILS_RETRYABLY,
        /**
         * Corrupted data is never taken for rows: every row arrives (a damaged manifest is read again), or the read
         * fails with a retryable {@code SPOOL_FILE_CORRUPTED} naming the file, and fault-tolerant execution runs the
         * reading task again; nothing is left after close.
         */
        DETECTS_CORRUPTION,
    }

    public record Outage(Phase phase, Duration duration)
    {
        public Outage
        {
            requireNonNull(phase, "phase is null");
            requireNonNull(duration, "duration is null");
        }
    }

    /**
     * A failing request gets {@code attempts} attempts, and is retried for {@code time} after its first failure.
     */
    public record RetryLimits(int attempts, Duration time)
    {
        public RetryLimits
        {
            requireNonNull(time, "time is null");
        }
    }

    public FaultScenario
    {
        requireNonNull(name, "name is null");
        requireNonNull(description, "description is null");
        rules = ImmutableList.copyOf(rules);
        rulePhases = ImmutableSet.copyOf(rulePhases);
        requireNonNull(outage, "outage is null");
        requireNonNull(storageRetries, "storageRetries is null");
        requireNonNull(expectation, "expectation is null");
    }

    /**
     * What an injector must offer to run this scenario.
     */
    public Set<Capability> requiredCapabilities()
    {
        Set<Capability> required = EnumSet.noneOf(Capability.class);
        rules.forEach(rule -> required.add(FaultInjector.requiredCapability(rule.fault())));
        outage.ifPresent(_ -> required.add(Capability.OUTAGES));
        return required;
    }

    @Override
    public String toString()
    {
        return name;
    }
}
