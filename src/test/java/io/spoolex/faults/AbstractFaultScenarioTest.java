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

import io.spoolex.exchange.ExchangeTestKit;
import io.spoolex.faults.ExchangeCycle.Outcome;
import io.spoolex.faults.ExchangeCycle.Result;
import io.spoolex.faults.FaultScenario.Expectation;
import io.trino.spi.TrinoException;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeManagerFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fault scenarios on one storage backend: each runs one exchange ({@link ExchangeCycle}) through Spoolex with
 * the scenario's faults injected between Spoolex and a real storage server, and checks what every scenario must
 * give: no wrong rows, no hang, nothing left in storage after close, and the outcome the scenario expects (every
 * row, or a retryable error naming the file, the storage's answer and the attempts). A backend joins by subclassing
 * with its server, its injector and a way to list what is stored; scenarios its injector cannot produce are skipped.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class AbstractFaultScenarioTest
{
    /**
     * Seeds tried for a scenario whose rules injected no fault.
     */
    private static final int FAULT_SEEDS = 3;

    /**
     * A retryable error of a request given up on: {@code Failed to write s3://b/k: 503 SlowDown, 4 attempts over 2.1s (...)}.
     */
    private static final String GIVEN_UP_MESSAGE = "Failed to [a-z ]+ \\S+://\\S+: .+, \\d+ attempts over [0-9.]+s \\(.*";

    protected abstract FaultInjector injector();

    protected abstract ExchangeCycle.StorageInspector inspector();

    /**
     * Properties that point Spoolex at the storage through the injector.
     */
    protected abstract Map<String, String> storageProperties();

    /**
     * The backend's properties for a scenario's retry limits.
     */
    protected abstract Map<String, String> retryProperties(FaultScenario.RetryLimits limits);

    protected List<FaultScenario> scenarios()
    {
        return FaultScenarios.fast();
    }

    /**
     * Scenarios this backend does not run, by name, each with the reason (reported as the skip's message): a
     * scenario whose faults the backend's storage cannot be made to produce would otherwise pass without testing
     * anything.
     */
    protected Map<String, String> excludedScenarios()
    {
        return Map.of();
    }

    protected ExchangeCycle.Workload workload()
    {
        return ExchangeCycle.Workload.small();
    }

    /**
     * The exchange manager factory under test: the plugin's {@code filesystem} factory, unless the backend's storage
     * client must be pointed at its server in a way no property does (GCS: the JSON API's host).
     */
    protected ExchangeManagerFactory exchangeManagerFactory()
    {
        return ExchangeTestKit.filesystemFactory();
    }

    @ParameterizedTest
    @MethodSource("scenarios")
    public void testScenario(FaultScenario scenario)
    {
        String excluded = excludedScenarios().get(scenario.name());
        assumeTrue(excluded == null, () -> "%s is excluded on this backend: %s".formatted(scenario, excluded));
        assumeTrue(injector().capabilities().containsAll(scenario.requiredCapabilities()), "the injector cannot produce the faults of " + scenario);
        Map<String, String> properties = new HashMap<>(storageProperties());
        // the startup check's probe would run into the scenario's faults in the background, its requests and any
        // probe object it could not delete mixed with the cycle's (TestStartupCheck covers the check)
        properties.put("exchange.startup-check", "OFF");
        // the same for the later probes of the base directories (a retry asks for one)
        properties.put("exchange.base-directory-probe-interval", "0s");
        scenario.storageRetries().ifPresent(limits -> properties.putAll(retryProperties(limits)));
        ExchangeManager manager = exchangeManagerFactory().create(properties, new ExchangeManagerContext() {});
        Result result;
        try {
            ExchangeCycle cycle = new ExchangeCycle(workload(), injector(), inspector(), Duration.ofSeconds(90), Duration.ofSeconds(60));
            result = cycle.run(manager, scenario, scenario.name().hashCode());
            // a phase of few requests (a close sends three or four) draws no fault now and then whatever the code
            // does (one time in five at 50% of listings and 20% of deletes): then the next seeds, so that the
            // scenario's faults are exercised; each seed's draws are fixed, so the outcome does not vary between runs
            for (int seed = 1; seed < FAULT_SEEDS && !scenario.rules().isEmpty() && result.faultCount() == 0; seed++) {
                result = cycle.run(manager, scenario, scenario.name().hashCode() + seed);
            }
        }
        finally {
            manager.shutdown();
        }
        System.out.printf(
                Locale.ROOT,
                "%s: %s in %.1f s + %.1f s cleanup, %s requests, faults %s%s%n",
                scenario.name(),
                result.outcome(),
                result.seconds(),
                result.cleanupSeconds(),
                result.requests(),
                result.faults(),
                result.failure().map(failure -> "; " + failure).orElse(""));

        assertThat(result.outcome()).as("%s: %s", scenario, result.failure()).isNotIn(Outcome.WRONG_ROWS, Outcome.HUNG);
        assertThat(result.leftovers()).as("stored after close").isEmpty();
        if (!scenario.rules().isEmpty()) {
            assertThat(result.faultCount()).as("faults injected").isPositive();
        }
        if (scenario.expectation() == Expectation.RIDES_OUT) {
            assertThat(result.outcome()).as("%s: %s", scenario, result.failure()).isEqualTo(Outcome.OK);
        }
        else if (scenario.expectation() == Expectation.DETECTS_CORRUPTION) {
            assertThat(result.outcome()).as("%s: %s", scenario, result.failure()).isIn(Outcome.OK, Outcome.FAILED_RETRYABLY);
            result.failure().ifPresent(failure -> assertThat(failure)
                    .isInstanceOfSatisfying(TrinoException.class, error -> assertThat(error.getErrorCode().getName()).isEqualTo("SPOOL_FILE_CORRUPTED"))
                    .hasMessageMatching("Spool file \\S+://\\S+ is corrupt: .*"));
        }
        else {
            assertThat(result.outcome()).as("%s", scenario).isEqualTo(Outcome.FAILED_RETRYABLY);
            assertThat(result.failure()).get()
                    .isInstanceOfSatisfying(TrinoException.class, failure -> assertThat(failure.getErrorCode().getName()).isEqualTo("SPOOL_STORAGE_ERROR"))
                    .satisfies(failure -> assertThat(failure.getMessage()).matches(GIVEN_UP_MESSAGE));
        }
    }
}
