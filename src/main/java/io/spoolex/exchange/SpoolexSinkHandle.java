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
import io.trino.spi.exchange.ExchangeSinkHandle;

import static com.google.common.base.Preconditions.checkArgument;

/**
 * A task partition of an exchange, as registered by {@code Exchange.addSink}.
 */
public record SpoolexSinkHandle(@JsonProperty("taskPartitionId") int taskPartitionId)
        implements ExchangeSinkHandle
{
    @JsonCreator
    public SpoolexSinkHandle
    {
        checkArgument(taskPartitionId >= 0, "taskPartitionId is negative: %s", taskPartitionId);
    }
}
