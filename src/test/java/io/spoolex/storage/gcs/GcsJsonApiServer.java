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
package io.spoolex.storage.gcs;

import com.google.common.collect.ImmutableList;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import static com.google.common.collect.ImmutableList.toImmutableList;
import static java.util.Objects.requireNonNull;

/**
 * A small stand-in for the GCS JSON API on 127.0.0.1 that records every request (and every sub-request of a batch)
 * and keeps objects in memory: single-request (multipart) and resumable uploads, metadata and media reads (ranged),
 * prefix listings, deletes and batch deletes. It checks what the client sends, which Google's in-memory fake cannot
 * show (it has no HTTP and no batches); it is not GCS, and only what the tests look at is modelled. Answers can be
 * scripted: {@link #failNext} makes the next matching requests (or batch sub-requests) fail with a status.
 */
@SuppressWarnings("StringConcatToTextBlock") // error-prone 2.50 crashes in this check on this file
public final class GcsJsonApiServer
        implements AutoCloseable
{
    /**
     * The access token {@code /token} hands out.
     */
    public static final String ACCESS_TOKEN = "spoolex-test-access-token";

    private static final Pattern OBJECT_PATH = Pattern.compile("/storage/v1/b/([^/]+)/o/(.+)");
    private static final Pattern LIST_PATH = Pattern.compile("/storage/v1/b/([^/]+)/o");
    private static final Pattern UPLOAD_PATH = Pattern.compile("/upload/storage/v1/b/([^/]+)/o");
    private static final Pattern JSON_NAME = Pattern.compile("\"name\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\*|(\\d+)-(\\d+))/(\\*|\\d+)");
    private static final Pattern SUB_REQUEST = Pattern.compile("(GET|DELETE|POST|PUT|PATCH) (\\S+) HTTP/1\\.1");

    /**
     * One request as it arrived (a batch's sub-requests are recorded on their own too, with the batch's number).
     */
    public record Request(String method, String path, String query, Optional<String> contentRange, long bodyBytes, int batch, Optional<String> authorization)
    {
        /**
         * A sub-request of batch request number {@link #batch()} (from 1).
         */
        public boolean inBatch()
        {
            return batch > 0;
        }

        public String describe()
        {
            return method + " " + path + (query == null ? "" : "?" + query);
        }
    }

    private record Failure(String method, String pathPart, int status) {}

    private final HttpServer server;
    private final List<Request> requests = new ArrayList<>();
    private final Map<String, byte[]> objects = new ConcurrentHashMap<>();
    private final Map<String, Upload> uploads = new ConcurrentHashMap<>();
    private final Deque<Failure> failures = new ConcurrentLinkedDeque<>();
    private final AtomicInteger uploadIds = new AtomicInteger();
    private final AtomicInteger batches = new AtomicInteger();
    private final AtomicInteger cancelledUploads = new AtomicInteger();

    private static final class Upload
    {
        final String key;
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        // the object's metadata once the last chunk made it: the session still answers with it
        Answer completed;

        Upload(String key)
        {
            this.key = key;
        }
    }

    public GcsJsonApiServer()
    {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/", this::handle);
        server.start();
    }

    /**
     * What a client's {@code setHost} takes.
     */
    public String host()
    {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public synchronized List<Request> requests()
    {
        return ImmutableList.copyOf(requests);
    }

    public synchronized void clear()
    {
        requests.clear();
    }

    public Map<String, byte[]> objects()
    {
        return objects;
    }

    public void putObject(String bucket, String name, byte[] content)
    {
        objects.put(bucket + "/" + name, content);
    }

    /**
     * The next {@code count} requests (or batch sub-requests) of {@code method} whose path contains {@code pathPart}
     * are answered {@code status}.
     */
    public void failNext(String method, String pathPart, int status, int count)
    {
        for (int i = 0; i < count; i++) {
            failures.add(new Failure(method, pathPart, status));
        }
    }

    private Optional<Integer> scriptedFailure(String method, String path)
    {
        for (Failure failure : failures) {
            if (failure.method().equals(method) && path.contains(failure.pathPart()) && failures.remove(failure)) {
                return Optional.of(failure.status());
            }
        }
        return Optional.empty();
    }

    private synchronized void record(Request request)
    {
        requests.add(request);
    }

    private void handle(HttpExchange exchange)
            throws IOException
    {
        try (exchange) {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            if ("gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
                try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(body))) {
                    body = in.readAllBytes();
                }
            }
            URI uri = exchange.getRequestURI();
            String method = exchange.getRequestMethod();
            String path = uri.getRawPath();
            String query = uri.getRawQuery();
            Optional<String> contentRange = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Content-Range"));
            if (path.startsWith("/download/")) {
                // media downloads: the object's path under /download
                path = path.substring("/download".length());
            }
            Optional<String> range = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Range"));
            record(new Request(method, path, query, contentRange.or(() -> range), body.length, 0, Optional.ofNullable(exchange.getRequestHeaders().getFirst("Authorization"))));
            if (path.equals("/token")) {
                // a service-account key's token endpoint (its token_uri pointed here)
                exchange.getResponseHeaders().add("Content-Type", "application/json; charset=UTF-8");
                respond(exchange, 200, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":3600}".formatted(ACCESS_TOKEN).getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (path.startsWith("/batch/")) {
                batch(exchange, body);
                return;
            }
            Optional<Integer> failure = scriptedFailure(method, path);
            if (failure.isPresent()) {
                respond(exchange, failure.orElseThrow(), error(failure.orElseThrow()));
                return;
            }
            Answer answer = answer(method, path, query, contentRange, Optional.ofNullable(exchange.getRequestHeaders().getFirst("Host")), body);
            Matcher ranged = Pattern.compile("bytes=(\\d+)-(\\d*)").matcher(range.orElse(""));
            if (answer.status() == 200 && "media".equals(params(query).get("alt")) && ranged.matches()) {
                byte[] content = answer.body();
                int start = Integer.parseInt(ranged.group(1));
                int end = ranged.group(2).isEmpty() ? content.length - 1 : Math.min(Integer.parseInt(ranged.group(2)), content.length - 1);
                exchange.getResponseHeaders().add("Content-Range", "bytes %s-%s/%s".formatted(start, end, content.length));
                exchange.getResponseHeaders().add("Content-Type", "application/octet-stream");
                respond(exchange, 206, Arrays.copyOfRange(content, start, end + 1));
                return;
            }
            answer.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
            respond(exchange, answer.status(), answer.body());
        }
    }

    private record Answer(int status, Map<String, String> headers, byte[] body) {}

    private Answer answer(String method, String rawPath, String query, Optional<String> contentRange, Optional<String> hostHeader, byte[] body)
    {
        Map<String, String> params = params(query);
        Matcher upload = UPLOAD_PATH.matcher(rawPath);
        if (upload.matches()) {
            String bucket = decode(upload.group(1));
            if (method.equals("POST") && "resumable".equals(params.get("uploadType"))) {
                String name = params.containsKey("name") ? params.get("name") : jsonName(body);
                String id = "upload-" + uploadIds.incrementAndGet();
                uploads.put(id, new Upload(bucket + "/" + name));
                // the session URI is on the host the client called (GCS answers with its own), so a proxy in between
                // sees the chunks too
                return new Answer(200, Map.of("Location", "http://" + hostHeader.orElse(host().substring("http://".length())) + rawPath + "?uploadType=resumable&upload_id=" + id), new byte[0]);
            }
            if (method.equals("POST") && "multipart".equals(params.get("uploadType"))) {
                String text = new String(body, StandardCharsets.ISO_8859_1);
                String name = jsonName(body);
                // the media part: after the second part's blank line, up to the closing boundary
                String boundary = text.substring(0, text.indexOf("\r\n"));
                int second = text.indexOf(boundary, boundary.length());
                int start = text.indexOf("\r\n\r\n", second) + 4;
                int end = text.lastIndexOf("\r\n" + boundary);
                byte[] content = Arrays.copyOfRange(body, start, end);
                objects.put(bucket + "/" + name, content);
                return json(200, objectJson(bucket, name, content.length));
            }
            if (method.equals("PUT") && params.containsKey("upload_id")) {
                return uploadChunk(params.get("upload_id"), contentRange, body);
            }
            if (method.equals("DELETE") && params.containsKey("upload_id")) {
                // cancelling a session (https://cloud.google.com/storage/docs/performing-resumable-uploads#cancel-upload):
                // 499 once cancelled, and the session is gone; a session already completed is not cancelled
                Upload session = uploads.get(params.get("upload_id"));
                if (session == null) {
                    return json(404, error(404));
                }
                synchronized (session) {
                    if (session.completed != null) {
                        return json(400, error(400));
                    }
                    uploads.remove(params.get("upload_id"));
                }
                cancelledUploads.incrementAndGet();
                return json(499, error(499));
            }
        }
        Matcher object = OBJECT_PATH.matcher(rawPath);
        if (object.matches()) {
            String bucket = decode(object.group(1));
            String name = decode(object.group(2));
            byte[] content = objects.get(bucket + "/" + name);
            if (method.equals("DELETE")) {
                return objects.remove(bucket + "/" + name) == null ? json(404, error(404)) : new Answer(204, Map.of(), new byte[0]);
            }
            if (content == null) {
                return json(404, error(404));
            }
            if ("media".equals(params.get("alt"))) {
                return new Answer(200, Map.of("Content-Type", "application/octet-stream"), content);
            }
            return json(200, objectJson(bucket, name, content.length));
        }
        Matcher list = LIST_PATH.matcher(rawPath);
        if (list.matches() && method.equals("GET")) {
            String bucket = decode(list.group(1));
            String prefix = params.getOrDefault("prefix", "");
            List<String> items = new ArrayList<>();
            objects.forEach((key, content) -> {
                if (key.startsWith(bucket + "/" + prefix)) {
                    items.add(objectJson(bucket, key.substring(bucket.length() + 1), content.length));
                }
            });
            return json(200, "{\"kind\":\"storage#objects\",\"items\":[" + String.join(",", items) + "]}");
        }
        return json(400, error(400));
    }

    /**
     * One {@code PUT} of a resumable session, as GCS takes it
     * (https://cloud.google.com/storage/docs/performing-resumable-uploads): {@code Content-Range: bytes A-B/*} adds a
     * chunk and answers 308 with the {@code Range} persisted; {@code bytes A-B/SIZE} is the last chunk and makes the
     * object (200 with its metadata); {@code bytes *}{@code /SIZE} or {@code *}{@code /*} without a body asks where the
     * session stands: 308 with the {@code Range} persisted (none if nothing), or 200 with the object once it is made
     * (also for a last chunk sent again after its answer was lost). A chunk starting before the persisted end (sent
     * again after a lost answer) adds only what is new; one starting after it leaves a gap and is refused.
     */
    private Answer uploadChunk(String uploadId, Optional<String> contentRange, byte[] body)
    {
        Upload session = uploads.get(uploadId);
        if (session == null) {
            return json(404, error(404));
        }
        Matcher range = CONTENT_RANGE.matcher(contentRange.orElse(""));
        if (!range.matches()) {
            return json(400, error(400));
        }
        synchronized (session) {
            if (session.completed != null) {
                return session.completed;
            }
            long persisted = session.bytes.size();
            if (range.group(2) != null) {
                long start = Long.parseLong(range.group(2));
                long end = Long.parseLong(range.group(3));
                if (start > persisted || end - start + 1 != body.length) {
                    return json(400, error(400));
                }
                int skip = (int) (persisted - start);
                if (skip < body.length) {
                    session.bytes.write(body, skip, body.length - skip);
                }
            }
            else if (body.length > 0) {
                return json(400, error(400));
            }
            int size = session.bytes.size();
            if (range.group(4).equals("*") || Long.parseLong(range.group(4)) != size) {
                if (!range.group(4).equals("*") && Long.parseLong(range.group(4)) < size) {
                    return json(400, error(400));
                }
                return new Answer(308, size == 0 ? Map.of() : Map.of("Range", "bytes=0-" + (size - 1)), new byte[0]);
            }
            byte[] content = session.bytes.toByteArray();
            objects.put(session.key, content);
            String bucketOf = session.key.substring(0, session.key.indexOf('/'));
            session.completed = json(200, objectJson(bucketOf, session.key.substring(bucketOf.length() + 1), content.length));
            session.bytes.reset();
            return session.completed;
        }
    }

    /**
     * Resumable upload sessions started and neither completed nor cancelled, as {@code bucket/name}: GCS keeps one
     * (with its bytes) for a week after it started (https://cloud.google.com/storage/docs/resumable-uploads) unless
     * the client cancels it.
     */
    public List<String> unfinishedUploads()
    {
        return uploads.values().stream()
                .filter(upload -> {
                    synchronized (upload) {
                        return upload.completed == null;
                    }
                })
                .map(upload -> upload.key)
                .collect(toImmutableList());
    }

    /**
     * How many sessions were cancelled with a {@code DELETE} of their URI.
     */
    public int cancelledUploads()
    {
        return cancelledUploads.get();
    }

    /**
     * A batch: each part one HTTP request; the answer one part per request, in order.
     */
    private void batch(HttpExchange exchange, byte[] body)
            throws IOException
    {
        int number = batches.incrementAndGet();
        String text = new String(body, StandardCharsets.UTF_8);
        String contentType = exchange.getRequestHeaders().getFirst("Content-Type");
        String requestBoundary = contentType.substring(contentType.indexOf("boundary=") + "boundary=".length()).replace("\"", "");
        String boundary = "batch_spoolex_test";
        StringBuilder answer = new StringBuilder();
        int index = 0;
        for (String part : text.split("--" + Pattern.quote(requestBoundary))) {
            Matcher sub = SUB_REQUEST.matcher(part);
            if (!sub.find()) {
                continue;
            }
            index++;
            String method = sub.group(1);
            URI uri = URI.create(sub.group(2));
            String path = uri.getRawPath();
            // the sub-request's headers: the lines after its request line, up to a blank one
            Optional<String> authorization = part.substring(sub.end()).lines()
                    .skip(1)
                    .takeWhile(line -> !line.isBlank())
                    .filter(line -> line.toLowerCase(Locale.ROOT).startsWith("authorization:"))
                    .map(line -> line.substring("authorization:".length()).trim())
                    .findFirst();
            record(new Request(method, path, uri.getRawQuery(), Optional.empty(), 0, number, authorization));
            Optional<Integer> failure = scriptedFailure(method, path);
            Answer result = failure.map(status -> json(status, error(status))).orElseGet(() -> answer(method, path, uri.getRawQuery(), Optional.empty(), Optional.empty(), new byte[0]));
            answer.append("--").append(boundary).append("\r\n")
                    .append("Content-Type: application/http\r\n")
                    .append("Content-ID: <response-").append(index).append(">\r\n\r\n")
                    .append("HTTP/1.1 ").append(result.status()).append(' ').append(reason(result.status())).append("\r\n");
            if (result.body().length > 0) {
                answer.append("Content-Type: application/json; charset=UTF-8\r\n")
                        .append("Content-Length: ").append(result.body().length).append("\r\n\r\n")
                        .append(new String(result.body(), StandardCharsets.UTF_8)).append("\r\n");
            }
            else {
                answer.append("Content-Length: 0\r\n\r\n\r\n");
            }
        }
        answer.append("--").append(boundary).append("--\r\n");
        exchange.getResponseHeaders().add("Content-Type", "multipart/mixed; boundary=" + boundary);
        respond(exchange, 200, answer.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String reason(int status)
    {
        return switch (status) {
            case 200 -> "OK";
            case 204 -> "No Content";
            case 308 -> "Resume Incomplete";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 429 -> "Too Many Requests";
            case 499 -> "Client Closed Request";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }

    private static Answer json(int status, String json)
    {
        return json(status, json.getBytes(StandardCharsets.UTF_8));
    }

    private static Answer json(int status, byte[] json)
    {
        return new Answer(status, Map.of("Content-Type", "application/json; charset=UTF-8"), json);
    }

    private static byte[] error(int status)
    {
        return "{\"error\":{\"code\":%s,\"message\":\"%s\",\"errors\":[{\"reason\":\"%s\",\"message\":\"%s\"}]}}"
                .formatted(status, reason(status), status == 404 ? "notFound" : status == 429 ? "rateLimitExceeded" : "backendError", reason(status))
                .getBytes(StandardCharsets.UTF_8);
    }

    private static String objectJson(String bucket, String name, long size)
    {
        return "{\"kind\":\"storage#object\",\"bucket\":\"%s\",\"name\":\"%s\",\"size\":\"%s\",\"generation\":\"1\"}".formatted(bucket, name, size);
    }

    private static String jsonName(byte[] body)
    {
        Matcher matcher = JSON_NAME.matcher(new String(body, StandardCharsets.UTF_8));
        if (!matcher.find()) {
            throw new IllegalArgumentException("no object name in the request");
        }
        return matcher.group(1).replace("\\/", "/");
    }

    private static Map<String, String> params(String query)
    {
        Map<String, String> params = new ConcurrentHashMap<>();
        if (query != null) {
            for (String pair : query.split("&")) {
                int equals = pair.indexOf('=');
                if (equals > 0) {
                    params.put(decode(pair.substring(0, equals)), decode(pair.substring(equals + 1)));
                }
            }
        }
        return params;
    }

    private static String decode(String value)
    {
        return URLDecoder.decode(value, StandardCharsets.UTF_8);
    }

    private static void respond(HttpExchange exchange, int status, byte[] body)
            throws IOException
    {
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            exchange.getResponseBody().write(body);
        }
    }

    @Override
    public void close()
    {
        server.stop(0);
        requireNonNull(server.getExecutor(), "executor");
        ((ExecutorService) server.getExecutor()).shutdownNow();
    }
}
