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

import io.spoolex.faults.FaultPlan.Rule;
import io.spoolex.faults.FaultScenario.Expectation;
import io.spoolex.faults.FaultScenario.Outage;
import io.spoolex.faults.FaultScenario.Phase;
import io.spoolex.faults.FaultScenario.RetryLimits;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static io.spoolex.faults.HttpFault.ErrorKind.INTERNAL_ERROR;
import static io.spoolex.faults.HttpFault.ErrorKind.SERVICE_UNAVAILABLE;
import static io.spoolex.faults.HttpFault.ErrorKind.SLOW_DOWN;
import static io.spoolex.faults.HttpFault.ErrorKind.TOO_MANY_REQUESTS;
import static io.spoolex.faults.RequestKind.DELETE;
import static io.spoolex.faults.RequestKind.LIST;
import static io.spoolex.faults.RequestKind.READ;
import static io.spoolex.faults.RequestKind.WRITE;

/**
 * The fault scenarios every storage backend runs (docs/reliability.md has the results): throttling, server errors,
 * connection resets, empty and truncated answers, latency and outages, in the phases where they hurt most.
 */
public final class FaultScenarios
{
    private static final Set<Phase> ALL_PHASES = EnumSet.allOf(Phase.class);

    public static final FaultScenario NO_FAULTS = scenario("no-faults", "no faults: the baseline every scenario's time is compared with", List.of());
    public static final FaultScenario THROTTLING_10 = scenario("throttling-10", "10% of requests answered 503 SlowDown", List.of(Rule.any(0.10, new HttpFault.Respond(SLOW_DOWN))));
    public static final FaultScenario THROTTLING_30 = scenario("throttling-30", "30% of requests answered 503 SlowDown", List.of(Rule.any(0.30, new HttpFault.Respond(SLOW_DOWN))));
    public static final FaultScenario TOO_MANY_REQUESTS_10 = scenario("429-10", "10% of requests answered 429 Too Many Requests (S3-compatible stores)", List.of(Rule.any(0.10, new HttpFault.Respond(TOO_MANY_REQUESTS))));
    public static final FaultScenario SERVER_ERRORS = scenario("server-errors", "5% of requests answered 500 InternalError, 5% 503 ServiceUnavailable", List.of(
            Rule.any(0.05, new HttpFault.Respond(INTERNAL_ERROR)),
            Rule.any(0.05, new HttpFault.Respond(SERVICE_UNAVAILABLE))));
    public static final FaultScenario RESETS = scenario("resets", "5% of requests reset before the answer, 5% of uploads reset half-way through the body", List.of(
            Rule.of(WRITE, 0.05, new HttpFault.ResetDuringRequest(0.5)),
            Rule.any(0.05, new HttpFault.Reset())));
    // the first write too: 5% of the thirty-odd requests of a small cycle may draw none
    public static final FaultScenario EMPTY_ANSWERS = scenario("empty-answers", "the first write and 5% of all requests answered by closing the connection", List.of(
            Rule.first(WRITE, 1, new HttpFault.CloseWithoutResponse()),
            Rule.any(0.05, new HttpFault.CloseWithoutResponse())));
    public static final FaultScenario TRUNCATED_BODIES = scenario("truncated-bodies", "10% of reads cut off mid-body; 10% of reads and 20% of listings well-framed but short", List.of(
            Rule.of(READ, 0.10, new HttpFault.TruncateResponse(0.5)),
            Rule.of(READ, 0.10, new HttpFault.ShortBody(0.5)),
            Rule.of(LIST, 0.20, new HttpFault.ShortBody(0.6))));
    public static final FaultScenario LATENCY = scenario("latency", "every request 50 ms late, 10% of them 500 ms", List.of(
            Rule.any(0.10, new HttpFault.Delay(Duration.ofMillis(500))),
            Rule.any(1.0, new HttpFault.Delay(Duration.ofMillis(50)))));
    public static final FaultScenario OUTAGE_DURING_WRITES = outage("outage-5s-writes", "storage unreachable (connections reset) for 5 s as sinks start writing", Phase.WRITE, Duration.ofSeconds(5), Optional.empty(), Expectation.RIDES_OUT);
    public static final FaultScenario OUTAGE_DURING_READS = outage("outage-10s-reads", "storage unreachable for 10 s as sources start reading", Phase.READ, Duration.ofSeconds(10), Optional.empty(), Expectation.RIDES_OUT);
    public static final FaultScenario OUTAGE_AT_CLOSE = outage(
            "outage-at-close",
            "storage unreachable for 8 s as the exchange closes, requests retried 3 times for 2 s only: cleanup rounds fail and are tried again",
            Phase.CLOSE,
            Duration.ofSeconds(8),
            Optional.of(new RetryLimits(3, Duration.ofSeconds(2))),
            Expectation.RIDES_OUT);
    public static final FaultScenario LISTINGS_FAIL_AT_CLOSE = new FaultScenario(
            "listings-fail-at-close",
            "at close, 50% of listings cut short (well-framed), the first delete request and 20% of the others reset",
            // the first delete always: a close that deletes by name may make a single delete request (one batch)
            List.of(Rule.of(LIST, 0.5, new HttpFault.ShortBody(0.5)), Rule.first(DELETE, 1, new HttpFault.Reset()), Rule.of(DELETE, 0.2, new HttpFault.Reset())),
            EnumSet.of(Phase.CLOSE),
            Optional.empty(),
            Optional.empty(),
            Expectation.RIDES_OUT);
    public static final FaultScenario OUTAGE_BEYOND_RETRY_TIME = outage(
            "outage-beyond-retry-time",
            "storage unreachable for 6 s as sinks write, requests retried 3 times for 2 s only: the task fails with a retryable error, nothing is left after close",
            Phase.WRITE,
            Duration.ofSeconds(6),
            Optional.of(new RetryLimits(3, Duration.ofSeconds(2))),
            Expectation.FAILS_RETRYABLY);
    public static final FaultScenario CORRUPTED_READS = new FaultScenario(
            "corrupted-reads",
            "20% of GET answers with one byte flipped in the body (well-framed: the length is right, the content is not)",
            List.of(new Rule(request -> request.kind() == READ && request.method().equals("GET"), 0.20, new HttpFault.CorruptBody(1))),
            ALL_PHASES,
            Optional.empty(),
            Optional.empty(),
            Expectation.DETECTS_CORRUPTION);
    public static final FaultScenario BATCH_THROTTLING_AT_CLOSE = new FaultScenario(
            "batch-throttling-at-close",
            "at close, 30% of the sub-requests of every batch delete refused as throttled (503) while the batch itself succeeds",
            List.of(Rule.of(DELETE, 1.0, new HttpFault.FailBatchSubrequests(0.3, SLOW_DOWN))),
            EnumSet.of(Phase.CLOSE),
            Optional.empty(),
            Optional.empty(),
            Expectation.RIDES_OUT);
    public static final FaultScenario MIXED = scenario("mixed", "a bit of everything: 3% SlowDown, 2% 500, 2% resets, 2% empty answers, 5% reads cut off, 10% listings short, 20 ms latency", List.of(
            Rule.any(0.03, new HttpFault.Respond(SLOW_DOWN)),
            Rule.any(0.02, new HttpFault.Respond(INTERNAL_ERROR)),
            Rule.any(0.02, new HttpFault.Reset()),
            Rule.any(0.02, new HttpFault.CloseWithoutResponse()),
            Rule.of(READ, 0.05, new HttpFault.TruncateResponse(0.3)),
            Rule.of(LIST, 0.10, new HttpFault.ShortBody(0.5)),
            Rule.any(1.0, new HttpFault.Delay(Duration.ofMillis(20)))));

    private FaultScenarios() {}

    /**
     * Every scenario (the full matrix).
     */
    public static List<FaultScenario> all()
    {
        return List.of(
                NO_FAULTS,
                THROTTLING_10,
                THROTTLING_30,
                TOO_MANY_REQUESTS_10,
                SERVER_ERRORS,
                RESETS,
                EMPTY_ANSWERS,
                TRUNCATED_BODIES,
                LATENCY,
                OUTAGE_DURING_WRITES,
                OUTAGE_DURING_READS,
                OUTAGE_AT_CLOSE,
                LISTINGS_FAIL_AT_CLOSE,
                OUTAGE_BEYOND_RETRY_TIME,
                CORRUPTED_READS,
                BATCH_THROTTLING_AT_CLOSE,
                MIXED);
    }

    /**
     * A representative few for the default test run: every kind of fault at least once (MIXED), throttling, a short
     * outage while writing, faults during cleanup and an outage at close that only cleanup's own rounds ride out, and
     * an outage no retry rides out, and corrupted reads.
     */
    public static List<FaultScenario> fast()
    {
        return List.of(MIXED, THROTTLING_10, OUTAGE_DURING_WRITES, LISTINGS_FAIL_AT_CLOSE, OUTAGE_AT_CLOSE, OUTAGE_BEYOND_RETRY_TIME, CORRUPTED_READS);
    }

    public static FaultScenario byName(String name)
    {
        return all().stream()
                .filter(scenario -> scenario.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no fault scenario " + name + "; known: " + all()));
    }

    private static FaultScenario scenario(String name, String description, List<Rule> rules)
    {
        return new FaultScenario(name, description, rules, ALL_PHASES, Optional.empty(), Optional.empty(), Expectation.RIDES_OUT);
    }

    private static FaultScenario outage(String name, String description, Phase phase, Duration duration, Optional<RetryLimits> storageRetries, Expectation expectation)
    {
        return new FaultScenario(name, description, List.of(), ALL_PHASES, Optional.of(new Outage(phase, duration)), storageRetries, expectation);
    }
}
