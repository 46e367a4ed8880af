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
import io.spoolex.faults.FaultInjectingHttpProxy.Request;

import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.Predicate;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * Decides, request by request, which fault (if any) the proxy injects. Plans are shared by the proxy's connection
 * threads, so they are thread-safe.
 */
@FunctionalInterface
public interface FaultPlan
{
    Optional<HttpFault> decide(Request request);

    static FaultPlan none()
    {
        return _ -> Optional.empty();
    }

    /**
     * Each request is tested against the rules in order; the first rule that applies and fires (with its
     * probability) decides. Seeded, so that a run's sequence of decisions repeats for the same order of requests.
     */
    static FaultPlan random(long seed, List<Rule> rules)
    {
        List<Rule> copy = ImmutableList.copyOf(rules);
        Random random = new Random(seed);
        // how often each rule fired in this plan, for rules with a limit
        AtomicIntegerArray fired = new AtomicIntegerArray(copy.size());
        return request -> {
            for (int index = 0; index < copy.size(); index++) {
                Rule rule = copy.get(index);
                if (!rule.applies().test(request)) {
                    continue;
                }
                if (rule.limit() < Integer.MAX_VALUE) {
                    int ruleIndex = index;
                    if (fired.getAndUpdate(ruleIndex, count -> Math.min(count + 1, rule.limit())) < rule.limit()) {
                        return Optional.of(rule.fault());
                    }
                    continue;
                }
                double draw;
                synchronized (random) {
                    draw = random.nextDouble();
                }
                if (draw < rule.probability()) {
                    return Optional.of(rule.fault());
                }
            }
            return Optional.empty();
        };
    }

    /**
     * The next {@code count} requests that match get the fault; the rest pass.
     */
    static FaultPlan firstN(Predicate<Request> which, int count, HttpFault fault)
    {
        requireNonNull(which, "which is null");
        requireNonNull(fault, "fault is null");
        AtomicInteger budget = new AtomicInteger(count);
        return request -> which.test(request) && budget.getAndUpdate(left -> Math.max(0, left - 1)) > 0
                ? Optional.of(fault)
                : Optional.empty();
    }

    /**
     * @param applies which requests the rule is about (e.g. every listing)
     * @param probability the share of those requests that get the fault
     * @param limit with a limit, the first {@code limit} requests the rule applies to get the fault (whatever the
     *         probability) and the rest never, in each plan: a fault every run draws, however few such requests the
     *         backend makes
     */
    record Rule(Predicate<Request> applies, double probability, HttpFault fault, int limit)
    {
        public Rule
        {
            requireNonNull(applies, "applies is null");
            requireNonNull(fault, "fault is null");
            checkArgument(probability >= 0 && probability <= 1, "probability must be in [0, 1]");
            checkArgument(limit > 0, "limit must be positive");
        }

        public Rule(Predicate<Request> applies, double probability, HttpFault fault)
        {
            this(applies, probability, fault, Integer.MAX_VALUE);
        }

        /**
         * The first {@code count} requests of this kind get the fault.
         */
        public static Rule first(RequestKind kind, int count, HttpFault fault)
        {
            return new Rule(request -> request.kind() == kind, 1.0, fault, count);
        }

        public static Rule of(RequestKind kind, double probability, HttpFault fault)
        {
            return new Rule(request -> request.kind() == kind, probability, fault);
        }

        public static Rule any(double probability, HttpFault fault)
        {
            return new Rule(_ -> true, probability, fault);
        }
    }
}
