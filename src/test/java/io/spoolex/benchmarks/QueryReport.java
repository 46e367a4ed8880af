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
package io.spoolex.benchmarks;

import io.spoolex.benchmarks.QueryBenchmark.Configuration;
import io.spoolex.benchmarks.QueryBenchmark.Run;
import io.spoolex.benchmarks.QueryBenchmark.Source;
import io.spoolex.benchmarks.QueryBenchmark.TpchQuery;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

import static java.util.Objects.requireNonNull;

/**
 * The results of {@link QueryBenchmark} as a markdown report and a PNG chart: medians per query and configuration,
 * the ratios between configurations per query, and their geometric means.
 */
final class QueryReport
{
    /**
     * A ratio between two configurations: {@code numerator} time divided by {@code denominator} time.
     */
    record Ratio(Configuration numerator, Configuration denominator)
    {
        String label()
        {
            return numerator + "/" + denominator;
        }
    }

    private static final List<Ratio> RATIOS = List.of(
            new Ratio(Configuration.A, Configuration.B),
            new Ratio(Configuration.A, Configuration.C),
            new Ratio(Configuration.B, Configuration.C));

    // targets: Spoolex at most 0.95 of Trino's plugin's time (issue 13), TASK at most 1.2 of NONE's
    private static final double SPOOLEX_VS_TRINO_TARGET = 0.95;
    private static final double TASK_VS_NONE_TARGET = 1.2;

    private final Source source;
    private final List<TpchQuery> queries;
    private final List<Configuration> configurations;
    private final List<Run> runs;
    private final List<Run> repeated;
    private final int repetitions;
    private final int warmups;
    private final Map<String, String> clusterSettings;
    private final Map<String, String> machine;
    private final Instant finished;

    QueryReport(
            Source source,
            List<TpchQuery> queries,
            List<Configuration> configurations,
            List<Run> runs,
            List<Run> repeated,
            int repetitions,
            int warmups,
            Map<String, String> clusterSettings,
            Map<String, String> machine,
            Instant finished)
    {
        this.source = requireNonNull(source, "source is null");
        this.queries = List.copyOf(requireNonNull(queries, "queries is null"));
        this.configurations = List.copyOf(requireNonNull(configurations, "configurations is null"));
        this.runs = List.copyOf(requireNonNull(runs, "runs is null"));
        this.repeated = List.copyOf(requireNonNull(repeated, "repeated is null"));
        this.repetitions = repetitions;
        this.warmups = warmups;
        this.clusterSettings = Map.copyOf(requireNonNull(clusterSettings, "clusterSettings is null"));
        this.machine = requireNonNull(machine, "machine is null");
        this.finished = requireNonNull(finished, "finished is null");
    }

    double median(TpchQuery query, Configuration configuration)
    {
        double[] seconds = runs.stream()
                .filter(run -> run.query().equals(query) && run.configuration() == configuration)
                .mapToDouble(Run::seconds)
                .sorted()
                .toArray();
        if (seconds.length == 0) {
            throw new IllegalArgumentException("no runs of %s in %s".formatted(query.name(), configuration));
        }
        int middle = seconds.length / 2;
        return seconds.length % 2 == 1 ? seconds[middle] : (seconds[middle - 1] + seconds[middle]) / 2;
    }

    private List<Ratio> ratios()
    {
        return RATIOS.stream()
                .filter(ratio -> configurations.contains(ratio.numerator()) && configurations.contains(ratio.denominator()))
                .toList();
    }

    private double ratio(TpchQuery query, Ratio ratio)
    {
        return median(query, ratio.numerator()) / median(query, ratio.denominator());
    }

    /**
     * The geometric mean over the queries of the per-query ratio: each query weighs the same, however long it runs.
     */
    double geometricMean(Ratio ratio)
    {
        return Math.exp(queries.stream().mapToDouble(query -> Math.log(ratio(query, ratio))).average().orElseThrow());
    }

    private double totalOfMedians(Configuration configuration)
    {
        return queries.stream().mapToDouble(query -> median(query, configuration)).sum();
    }

    private Optional<Ratio> find(Configuration numerator, Configuration denominator)
    {
        return ratios().stream().filter(ratio -> ratio.numerator() == numerator && ratio.denominator() == denominator).findFirst();
    }

    String markdown()
    {
        StringBuilder text = new StringBuilder();
        text.append("## Query level: TPC-H sf1 (%s connector) on a 3-node cluster\n\n".formatted(source.catalog()));
        text.append("Measured %s UTC. %s measured runs of each query in each configuration after %s warm-up run(s); ".formatted(finished, repetitions, warmups))
                .append("wall time in seconds, median of the runs; ratios of the medians (below 1: the first is faster).\n\n");
        for (Configuration configuration : configurations) {
            text.append("- **%s**: %s\n".formatted(configuration, configuration.description()));
        }
        text.append("\nSettings of both clusters besides Trino 483's defaults: ")
                .append(clusterSettings.isEmpty() ? "none" : clusterSettings.entrySet().stream().sorted(Map.Entry.comparingByKey())
                                                             .map(entry -> "`%s=%s`".formatted(entry.getKey(), entry.getValue())).reduce((left, right) -> left + ", " + right).orElseThrow())
                .append(".\n\n");

        // the table
        List<Ratio> ratios = ratios();
        text.append("| query |");
        configurations.forEach(configuration -> text.append(" %s (s) |".formatted(configuration)));
        ratios.forEach(ratio -> text.append(" %s |".formatted(ratio.label())));
        if (configurations.contains(Configuration.A)) {
            text.append(" spooled by A (page bytes → stored) |");
        }
        text.append("\n|---|");
        text.append("---:|".repeat(configurations.size() + ratios.size()));
        if (configurations.contains(Configuration.A)) {
            text.append("---:|");
        }
        text.append("\n");
        for (TpchQuery query : queries) {
            text.append("| %s |".formatted(query.name()));
            configurations.forEach(configuration -> text.append(" %.2f |".formatted(median(query, configuration))));
            ratios.forEach(ratio -> text.append(" %.2f |".formatted(ratio(query, ratio))));
            if (configurations.contains(Configuration.A)) {
                text.append(" %s |".formatted(spooled(query)));
            }
            text.append("\n");
        }
        text.append("| **total** |");
        configurations.forEach(configuration -> text.append(" **%.2f** |".formatted(totalOfMedians(configuration))));
        ratios.forEach(ratio -> text.append(" %.2f |".formatted(totalOfMedians(ratio.numerator()) / totalOfMedians(ratio.denominator()))));
        if (configurations.contains(Configuration.A)) {
            text.append(" |");
        }
        text.append("\n| **geometric mean** |");
        text.append(" |".repeat(configurations.size()));
        ratios.forEach(ratio -> text.append(" **%.2f** |".formatted(geometricMean(ratio))));
        if (configurations.contains(Configuration.A)) {
            text.append(" |");
        }
        text.append("\n\n");

        // the targets
        List<String> targets = new ArrayList<>();
        find(Configuration.A, Configuration.B).ifPresent(ratio -> targets.add(target(
                "Spoolex ≤ %.2f× Trino's plugin (geometric mean of A/B)".formatted(SPOOLEX_VS_TRINO_TARGET),
                geometricMean(ratio),
                SPOOLEX_VS_TRINO_TARGET)));
        find(Configuration.A, Configuration.C).ifPresent(ratio -> targets.add(target(
                "TASK with Spoolex ≤ %.1f× NONE (geometric mean of A/C)".formatted(TASK_VS_NONE_TARGET),
                geometricMean(ratio),
                TASK_VS_NONE_TARGET)));
        find(Configuration.B, Configuration.C).ifPresent(ratio -> targets.add(target(
                "TASK with Trino's plugin ≤ %.1f× NONE (geometric mean of B/C, for reference)".formatted(TASK_VS_NONE_TARGET),
                geometricMean(ratio),
                TASK_VS_NONE_TARGET)));
        if (!targets.isEmpty()) {
            text.append("Targets:\n\n");
            targets.forEach(line -> text.append("- ").append(line).append("\n"));
            text.append("\n");
        }

        // the spread, so that a reader sees how much a median can be trusted
        text.append("Spread of the runs (min–max seconds):\n\n| query |");
        configurations.forEach(configuration -> text.append(" %s |".formatted(configuration)));
        text.append("\n|---|").append("---|".repeat(configurations.size())).append("\n");
        for (TpchQuery query : queries) {
            text.append("| %s |".formatted(query.name()));
            for (Configuration configuration : configurations) {
                List<Run> ofCell = runs.stream().filter(run -> run.query().equals(query) && run.configuration() == configuration).toList();
                double min = ofCell.stream().mapToDouble(Run::seconds).min().orElseThrow();
                double max = ofCell.stream().mapToDouble(Run::seconds).max().orElseThrow();
                int failedTasks = ofCell.stream().mapToInt(run -> run.failedTasks().size()).sum();
                text.append(" %.2f–%.2f%s |".formatted(min, max, failedTasks == 0 ? "" : " (%s failed task attempts)".formatted(failedTasks)));
            }
            text.append("\n");
        }

        text.append("\nMeasured runs repeated because Trino 483's own race (trinodb/trino#30427) failed a task and FTE's retry delay")
                .append(" (10 s) made the run meaningless: ");
        text.append(configurations.stream()
                .map(configuration -> "%s %s".formatted(configuration, repeated.stream().filter(run -> run.configuration() == configuration).count()))
                .reduce((left, right) -> left + ", " + right)
                .orElse("none"));
        text.append(repeated.isEmpty() ? "" : " (%s)".formatted(repeated.stream()
                                                                .map(run -> "%s %s %.1fs".formatted(run.query().name(), run.configuration(), run.seconds()))
                                                                .reduce((left, right) -> left + ", " + right)
                                                                .orElseThrow()));
        text.append(".\n");
        long bufferWaits = runs.stream().mapToLong(run -> run.spooled().sinkBufferWaits()).sum();
        text.append("\nPages that found their Spoolex sink's buffer pool spent and waited inside the sink for a write (JMX `SinkBufferWaits`), all measured A runs: %d.\n"
                .formatted(bufferWaits));

        text.append("\nMachine:\n\n");
        machine.forEach((name, value) -> text.append("- %s: %s\n".formatted(name, value)));
        return text.toString();
    }

    private static String target(String description, double value, double limit)
    {
        return "%s: %.2f, %s".formatted(description, value, value <= limit ? "**met**" : "**missed**");
    }

    private String spooled(TpchQuery query)
    {
        // the counters are the same in every run of a query; report the median run's
        OptionalDouble pageBytes = runs.stream()
                .filter(run -> run.query().equals(query) && run.configuration() == Configuration.A)
                .mapToDouble(run -> run.spooled().sinkPageBytes())
                .sorted()
                .skip(repetitions / 2)
                .findFirst();
        OptionalDouble storageBytes = runs.stream()
                .filter(run -> run.query().equals(query) && run.configuration() == Configuration.A)
                .mapToDouble(run -> run.spooled().sinkStorageBytes())
                .sorted()
                .skip(repetitions / 2)
                .findFirst();
        if (pageBytes.isEmpty() || storageBytes.isEmpty() || pageBytes.getAsDouble() == 0) {
            return "";
        }
        return "%s → %s (%.0f%%)".formatted(
                QueryBenchmark.bytes((long) pageBytes.getAsDouble()),
                QueryBenchmark.bytes((long) storageBytes.getAsDouble()),
                100 * storageBytes.getAsDouble() / pageBytes.getAsDouble());
    }

    void writeChart(Path file)
    {
        List<Ratio> ratios = ratios();
        if (ratios.isEmpty()) {
            return;
        }
        List<BarChart.Group> groups = new ArrayList<>();
        for (TpchQuery query : queries) {
            groups.add(new BarChart.Group(query.name(), ratios.stream().map(ratio -> new BarChart.Bar(seriesName(ratio), ratio(query, ratio))).toList()));
        }
        groups.add(new BarChart.Group("geometric mean", ratios.stream().map(ratio -> new BarChart.Bar(seriesName(ratio), geometricMean(ratio))).toList()));
        BarChart.write(
                file,
                "TPC-H sf1 (%s connector), 3-node cluster: wall time ratios (median of %s runs)".formatted(source.catalog(), repetitions),
                "ratio of wall times (lower: the first is faster); targets A/B ≤ 0.95, TASK/NONE ≤ 1.2",
                groups,
                List.of(SPOOLEX_VS_TRINO_TARGET, 1.0, TASK_VS_NONE_TARGET));
    }

    private static String seriesName(Ratio ratio)
    {
        return "%s: %s / %s".formatted(ratio.label(), ratio.numerator().description(), ratio.denominator().description());
    }
}
