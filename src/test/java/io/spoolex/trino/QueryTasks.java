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
package io.spoolex.trino;

import io.trino.execution.QueryInfo;
import io.trino.execution.StageInfo;
import io.trino.execution.StagesInfo;
import io.trino.execution.TaskInfo;
import io.trino.execution.TaskState;
import io.trino.spi.QueryId;
import io.trino.testing.DistributedQueryRunner;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static com.google.common.collect.ImmutableList.toImmutableList;
import static java.util.stream.Collectors.groupingBy;
import static java.util.stream.Collectors.joining;

/**
 * The task attempts of a finished query, from the coordinator's full query info: which task of which stage ran how
 * many times, where, and how each attempt ended.
 */
public record QueryTasks(List<Attempt> attempts)
{
    /**
     * One task attempt; {@code failure} is the type and message of its first failure, or empty.
     */
    public record Attempt(int stageId, int partition, int attempt, TaskState state, String nodeId, String failure)
    {
        @Override
        public String toString()
        {
            return "%s.%s.%s %s on %s".formatted(stageId, partition, attempt, state, nodeId);
        }
    }

    public static QueryTasks of(DistributedQueryRunner queryRunner, QueryId queryId)
    {
        QueryInfo info = queryRunner.getCoordinator().getQueryManager().getFullQueryInfo(queryId);
        List<StageInfo> stages = StagesInfo.getAllStages(info.getStages());
        List<Attempt> attempts = stages.stream()
                .flatMap(stage -> stage.tasks().stream())
                .map(TaskInfo::taskStatus)
                .map(status -> new Attempt(
                        status.taskId().stageId().id(),
                        status.taskId().partitionId(),
                        status.taskId().attemptId(),
                        status.state(),
                        status.nodeId(),
                        status.failures().isEmpty() ? "" : status.failures().getFirst().type() + ": " + status.failures().getFirst().message()))
                .sorted(Comparator.comparingInt(Attempt::stageId).thenComparingInt(Attempt::partition).thenComparingInt(Attempt::attempt))
                .collect(toImmutableList());
        return new QueryTasks(attempts);
    }

    public List<Attempt> ofStage(int stageId)
    {
        return attempts.stream().filter(attempt -> attempt.stageId() == stageId).collect(toImmutableList());
    }

    public List<Attempt> failed()
    {
        return attempts.stream().filter(attempt -> attempt.state() == TaskState.FAILED).collect(toImmutableList());
    }

    /**
     * Whether an earlier attempt of the same task (stage and partition) failed.
     */
    public boolean replacesFailedAttempt(Attempt later)
    {
        return attempts.stream().anyMatch(attempt -> attempt.stageId() == later.stageId()
                && attempt.partition() == later.partition()
                && attempt.attempt() < later.attempt()
                && attempt.state() == TaskState.FAILED);
    }

    /**
     * Whether some later attempt of the same task (stage and partition) finished.
     */
    public boolean retriedSuccessfully(Attempt failed)
    {
        return attempts.stream().anyMatch(attempt -> attempt.stageId() == failed.stageId()
                && attempt.partition() == failed.partition()
                && attempt.attempt() > failed.attempt()
                && attempt.state() == TaskState.FINISHED);
    }

    /**
     * One line per stage: how many tasks, attempts, failed attempts.
     */
    public String summary()
    {
        Map<Integer, List<Attempt>> byStage = new TreeMap<>(attempts.stream().collect(groupingBy(Attempt::stageId)));
        return byStage.entrySet().stream()
                .map(entry -> "stage %s: %s tasks, %s attempts, %s failed".formatted(
                        entry.getKey(),
                        entry.getValue().stream().map(Attempt::partition).distinct().count(),
                        entry.getValue().size(),
                        entry.getValue().stream().filter(attempt -> attempt.state() == TaskState.FAILED).count()))
                .collect(joining("; "));
    }
}
