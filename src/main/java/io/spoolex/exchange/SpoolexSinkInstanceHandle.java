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

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.spoolex.format.ExchangeKey;
import io.trino.spi.exchange.ExchangeSinkInstanceHandle;

import java.net.URI;
import java.util.Optional;

import static com.google.common.base.Preconditions.checkArgument;
import static java.util.Objects.requireNonNull;

/**
 * Everything a worker needs to write one task attempt: where, for which exchange, and under which key.
 * The key's {@code toString()} is redacted, so the record's is safe to log.
 */
public record SpoolexSinkInstanceHandle(
        @JsonProperty("exchangeId") String exchangeId,
        @JsonProperty("taskPartitionId") int taskPartitionId,
        @JsonProperty("attemptId") int attemptId,
        @JsonProperty("attemptDirectory") URI attemptDirectory,
        @JsonProperty("outputPartitionCount") int outputPartitionCount,
        @JsonProperty("preserveOrderWithinPartition") boolean preserveOrderWithinPartition,
        @JsonProperty("key") Optional<ExchangeKey> key)
        implements ExchangeSinkInstanceHandle
{
    @JsonCreator
    public SpoolexSinkInstanceHandle
    {
        requireNonNull(exchangeId, "exchangeId is null");
        requireNonNull(attemptDirectory, "attemptDirectory is null");
        requireNonNull(key, "key is null");
        checkArgument(outputPartitionCount > 0, "outputPartitionCount must be positive");
    }
}
