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
package io.spoolex.storage.azure;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * A stand-in for the parts of Azure Storage that Azurite does not serve: the DFS (ADLS Gen2) endpoint and Get
 * Account Information on a hierarchical-namespace account. It answers as the REST API documents (Path - Delete with
 * continuations, Path - List, the x-ms-is-hns-enabled header) and records every request, so that tests can check
 * what Spoolex sends. It stores nothing: it is for the request level only, never for data.
 */
final class AdlsRecordingServer
        implements AutoCloseable
{
    static final String ACCOUNT = "adlsaccount";
    // any base64 value signs requests; the server does not check signatures
    static final String ACCOUNT_KEY = "c3Bvb2xleC10ZXN0LWtleS1ub3QtYS1yZWFsLW9uZQ==";

    record Request(String method, String path, String query)
    {
        boolean hasParameter(String name, String value)
        {
            return query != null && List.of(query.split("&")).contains(name + "=" + value);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final List<Request> requests = new ArrayList<>();
    // container -> whether its account has a hierarchical namespace; containers not listed do not exist
    private final Map<String, Boolean> hierarchical = new ConcurrentHashMap<>();
    private final Set<String> refuseAccountInformation = ConcurrentHashMap.newKeySet();
    // directories (container/path) whose recursive delete takes two calls, with a continuation between them
    private final Set<String> largeDirectories = ConcurrentHashMap.newKeySet();
    private final Map<String, List<Map<String, String>>> listings = new ConcurrentHashMap<>();

    AdlsRecordingServer()
    {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    String connectionString()
    {
        URI endpoint = URI.create("http://127.0.0.1:%s/%s".formatted(server.getAddress().getPort(), ACCOUNT));
        return "DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;".formatted(ACCOUNT, ACCOUNT_KEY, endpoint);
    }

    void addContainer(String container, boolean hierarchicalNamespace)
    {
        hierarchical.put(container, hierarchicalNamespace);
    }

    /**
     * Get Account Information answers 403, as for a caller whose role or SAS does not cover it.
     */
    void refuseAccountInformation(String container)
    {
        refuseAccountInformation.add(container);
    }

    void largeDirectory(String container, String path)
    {
        largeDirectories.add(container + "/" + path);
    }

    /**
     * Path - List of the container answers these paths (name, contentLength, isDirectory), two per page.
     */
    void listing(String container, List<Map<String, String>> paths)
    {
        listings.put(container, ImmutableList.copyOf(paths));
    }

    List<Request> requests()
    {
        synchronized (requests) {
            return ImmutableList.copyOf(requests);
        }
    }

    void clear()
    {
        synchronized (requests) {
            requests.clear();
        }
    }

    private void handle(HttpExchange exchange)
            throws IOException
    {
        try (exchange) {
            exchange.getRequestBody().readAllBytes();
            String method = exchange.getRequestMethod();
            // decoded: the SDK sends a path's separators as %2F
            String path = exchange.getRequestURI().getPath();
            String query = exchange.getRequestURI().getRawQuery();
            Request request = new Request(method, path, query);
            synchronized (requests) {
                requests.add(request);
            }
            exchange.getResponseHeaders().add("x-ms-request-id", "adls-recording-server");
            exchange.getResponseHeaders().add("x-ms-version", "2025-11-05");
            // /{account}/{container}[/{path}]
            String[] segments = path.substring(1).split("/", 3);
            String container = segments.length > 1 ? segments[1] : "";
            String blobPath = segments.length > 2 ? segments[2] : "";
            Boolean hns = hierarchical.get(container);
            if (hns == null) {
                error(exchange, 404, "ContainerNotFound", method);
                return;
            }
            if (request.hasParameter("restype", "account") && request.hasParameter("comp", "properties")) {
                if (refuseAccountInformation.contains(container)) {
                    error(exchange, 403, "AuthorizationPermissionMismatch", method);
                    return;
                }
                exchange.getResponseHeaders().add("x-ms-sku-name", "Standard_LRS");
                exchange.getResponseHeaders().add("x-ms-account-kind", "StorageV2");
                exchange.getResponseHeaders().add("x-ms-is-hns-enabled", hns.toString());
                empty(exchange, 200);
                return;
            }
            if (request.hasParameter("restype", "container")) {
                // Get Container Properties
                exchange.getResponseHeaders().add("ETag", "\"0x1\"");
                exchange.getResponseHeaders().add("Last-Modified", "Mon, 01 Dec 2025 00:00:00 GMT");
                empty(exchange, 200);
                return;
            }
            if (method.equals("HEAD") && (blobPath.isEmpty() || blobPath.equals("/") || blobPath.equals("%2F"))) {
                // the root directory of a hierarchical namespace, as a blob named "/"
                if (hns) {
                    exchange.getResponseHeaders().add("ETag", "\"0x2\"");
                    exchange.getResponseHeaders().add("Last-Modified", "Mon, 01 Dec 2025 00:00:00 GMT");
                    exchange.getResponseHeaders().add("x-ms-meta-hdi_isfolder", "true");
                    exchange.getResponseHeaders().add("Content-Length", "0");
                    exchange.getResponseHeaders().add("x-ms-blob-type", "BlockBlob");
                    empty(exchange, 200);
                }
                else {
                    error(exchange, 404, "BlobNotFound", method);
                }
                return;
            }
            if (method.equals("DELETE") && query != null && query.contains("recursive=")) {
                if (largeDirectories.contains(container + "/" + blobPath) && !query.contains("continuation=")) {
                    exchange.getResponseHeaders().add("x-ms-continuation", "next-batch-of-paths");
                }
                empty(exchange, 200);
                return;
            }
            if (method.equals("GET") && request.hasParameter("resource", "filesystem")) {
                list(exchange, container, query);
                return;
            }
            error(exchange, 400, "UnsupportedByThisTestServer", method);
        }
    }

    private void list(HttpExchange exchange, String container, String query)
            throws IOException
    {
        List<Map<String, String>> paths = listings.getOrDefault(container, List.of());
        int start = 0;
        for (String parameter : query.split("&")) {
            if (parameter.startsWith("continuation=")) {
                start = Integer.parseInt(parameter.substring("continuation=".length()));
            }
        }
        int end = Math.min(paths.size(), start + 2);
        if (end < paths.size()) {
            exchange.getResponseHeaders().add("x-ms-continuation", String.valueOf(end));
        }
        StringBuilder json = new StringBuilder("{\"paths\":[");
        for (int i = start; i < end; i++) {
            Map<String, String> path = ImmutableMap.<String, String>builder()
                    .putAll(paths.get(i))
                    .put("lastModified", "Mon, 01 Dec 2025 00:00:00 GMT")
                    .put("etag", "0x3")
                    .buildKeepingLast();
            json.append(i == start ? "" : ",").append('{');
            json.append(String.join(",", path.entrySet().stream().map(entry -> "\"%s\":\"%s\"".formatted(entry.getKey(), entry.getValue())).toList()));
            json.append('}');
        }
        json.append("]}");
        byte[] body = json.toString().getBytes(UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
    }

    private static void empty(HttpExchange exchange, int status)
            throws IOException
    {
        exchange.sendResponseHeaders(status, -1);
    }

    private static void error(HttpExchange exchange, int status, String code, String method)
            throws IOException
    {
        exchange.getResponseHeaders().add("x-ms-error-code", code);
        if (method.equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        byte[] body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code><Message>answered by the test server</Message></Error>".formatted(code).getBytes(UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/xml");
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close()
    {
        server.stop(0);
        executor.shutdownNow();
    }
}
