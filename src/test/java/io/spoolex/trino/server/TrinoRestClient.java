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
package io.spoolex.trino.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.collect.ImmutableList;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.util.Objects.requireNonNull;

/**
 * Talks to a Trino coordinator over its documented REST protocol ({@code POST /v1/statement}, then follow
 * {@code nextUri}), as every Trino client does; and reads query details from {@code GET /v1/query/{id}}.
 */
public class TrinoRestClient
{
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final URI coordinator;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public TrinoRestClient(URI coordinator)
    {
        this.coordinator = requireNonNull(coordinator, "coordinator is null");
    }

    /**
     * A query's rows, each row the JSON text of its values, which keeps decimals exact.
     */
    public record QueryResult(String queryId, List<String> columns, List<String> rows) {}

    /**
     * A started query; {@link #finish()} follows it to the end.
     */
    public final class RunningQuery
    {
        private final String queryId;
        private JsonNode page;

        private RunningQuery(JsonNode firstPage)
        {
            this.page = firstPage;
            this.queryId = firstPage.path("id").asText();
        }

        public String queryId()
        {
            return queryId;
        }

        public QueryResult finish()
                throws IOException, InterruptedException
        {
            List<String> columns = new ArrayList<>();
            List<String> rows = new ArrayList<>();
            while (true) {
                failIfError(page);
                if (columns.isEmpty() && page.has("columns")) {
                    page.get("columns").forEach(column -> columns.add(column.path("name").asText()));
                }
                if (page.has("data")) {
                    page.get("data").forEach(row -> rows.add(row.toString()));
                }
                if (!page.hasNonNull("nextUri")) {
                    return new QueryResult(queryId, ImmutableList.copyOf(columns), ImmutableList.copyOf(rows));
                }
                page = send(HttpRequest.newBuilder(URI.create(page.get("nextUri").asText())).GET());
            }
        }
    }

    public RunningQuery start(String sql, Map<String, String> sessionProperties)
            throws IOException, InterruptedException
    {
        HttpRequest.Builder request = HttpRequest.newBuilder(coordinator.resolve("/v1/statement"))
                .POST(HttpRequest.BodyPublishers.ofString(sql, UTF_8));
        sessionProperties.forEach((name, value) -> request.header("X-Trino-Session", name + "=" + value));
        return new RunningQuery(send(request));
    }

    public QueryResult execute(String sql)
            throws IOException, InterruptedException
    {
        return start(sql, Map.of()).finish();
    }

    /**
     * The coordinator's full information about a query: state, stages, plan fragments, tasks.
     */
    public JsonNode queryInfo(String queryId)
            throws IOException, InterruptedException
    {
        return send(HttpRequest.newBuilder(coordinator.resolve("/v1/query/" + queryId)).GET());
    }

    private JsonNode send(HttpRequest.Builder request)
            throws IOException, InterruptedException
    {
        HttpResponse<String> response = http.send(
                request.header("X-Trino-User", "spoolex-test").timeout(Duration.ofMinutes(2)).build(),
                HttpResponse.BodyHandlers.ofString(UTF_8));
        if (response.statusCode() != 200) {
            throw new IOException("HTTP %s from %s: %s".formatted(response.statusCode(), response.uri(), response.body()));
        }
        return MAPPER.readTree(response.body());
    }

    private static void failIfError(JsonNode page)
    {
        if (page.hasNonNull("error")) {
            JsonNode error = page.get("error");
            throw new IllegalStateException("query %s failed: %s %s".formatted(page.path("id").asText(), error.path("errorName").asText(), error.path("message").asText()));
        }
    }
}
