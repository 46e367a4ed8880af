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

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Puts faults between an exchange manager and its storage server, whatever the storage: the fault scenarios
 * ({@link FaultScenarios}) speak to this, never to one storage's API. An HTTP storage's injector is the
 * {@link FaultInjectingHttpProxy} with that storage's {@link HttpStorageDialect}; a storage with another protocol
 * (HDFS) would bring an injector of its own, offering the capabilities its protocol allows, and the scenarios that
 * need others are skipped for it.
 */
public interface FaultInjector
{
    enum Capability
    {
        /**
         * Error answers of the storage's own kinds: throttling, server errors.
         */
        ERROR_ANSWERS,
        /**
         * Connections reset before an answer, or in the middle of a request body.
         */
        RESETS,
        /**
         * Connections closed without an answer.
         */
        EMPTY_ANSWERS,
        /**
         * Answers whose body ends early (connection closed mid-body).
         */
        TRUNCATED_ANSWERS,
        /**
         * Well-framed answers with a short body (a listing cut off mid-document).
         */
        SHORT_ANSWERS,
        LATENCY,
        OUTAGES,
        /**
         * Well-framed answers with flipped bytes in the body.
         */
        CORRUPTED_ANSWERS,
        /**
         * Batch requests some of whose sub-requests are refused while the batch itself succeeds.
         */
        BATCH_SUBREQUEST_ERRORS,
    }

    Set<Capability> capabilities();

    /**
     * From now on, faults by these rules (the first that applies and fires decides), with a seeded random draw.
     */
    void injectFaults(List<FaultPlan.Rule> rules, long seed);

    void stopFaults();

    /**
     * The storage is unreachable from now on, for this long (or until {@link #endOutage()}).
     */
    void startOutage(Duration duration);

    void endOutage();

    /**
     * Faults injected since the last {@link #resetCounts()}, by fault.
     */
    Map<String, Long> injectedFaults();

    /**
     * Faults injected into single requests (not counting the outage itself) since the last {@link #resetCounts()}.
     */
    long injectedFaultCount();

    /**
     * Requests that reached the injector since the last {@link #resetCounts()}.
     */
    long requestCount();

    void resetCounts();

    static Capability requiredCapability(HttpFault fault)
    {
        return switch (fault) {
            case HttpFault.Respond _, HttpFault.Answer _ -> Capability.ERROR_ANSWERS;
            case HttpFault.FailBatchSubrequests _ -> Capability.BATCH_SUBREQUEST_ERRORS;
            case HttpFault.CorruptBody _ -> Capability.CORRUPTED_ANSWERS;
            case HttpFault.Reset _, HttpFault.ResetDuringRequest _ -> Capability.RESETS;
            case HttpFault.CloseWithoutResponse _ -> Capability.EMPTY_ANSWERS;
            case HttpFault.TruncateResponse _ -> Capability.TRUNCATED_ANSWERS;
            case HttpFault.ShortBody _ -> Capability.SHORT_ANSWERS;
            case HttpFault.Delay _ -> Capability.LATENCY;
        };
    }
}
