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

import io.spoolex.faults.FaultInjectingHttpProxy;
import io.spoolex.faults.HttpFault;
import io.spoolex.faults.HttpStorageDialect;
import io.spoolex.faults.RequestKind;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.IntPredicate;
import java.util.regex.Pattern;

import static io.spoolex.faults.FaultInjectingHttpProxy.Request.hasQueryParameter;
import static java.nio.charset.StandardCharsets.ISO_8859_1;

/**
 * The GCS JSON API as the fault proxy sees it: operations by method, path and query ({@link GcsOperation}), their
 * kinds, GCS's JSON error answers, and batch requests taken apart so that single deletes of a batch can be refused
 * while the batch itself succeeds.
 * <p>
 * Taking a batch apart is faithful on GCS (https://cloud.google.com/storage/docs/batch): each part is an ordinary
 * JSON-API request that GCS serves on its own ("the server may perform your calls in any order"), each part gets its
 * own status in the answer, and the outer request's headers (its {@code Authorization}, an OAuth token, not a
 * signature over the body) apply to every part that does not set them itself. So a part sent alone is the request
 * GCS would have served, and a part refused with 429 or 503 is an answer GCS gives.
 */
public final class GcsHttpDialect
        implements HttpStorageDialect
{
    public static final GcsHttpDialect GCS = new GcsHttpDialect();

    /**
     * The JSON-API requests Spoolex's native mode sends, and the token request of a service-account key.
     */
    public enum GcsOperation
    {
        /**
         * {@code POST /upload/storage/v1/b/B/o?uploadType=multipart}: a whole object in one request.
         */
        MULTIPART_UPLOAD(RequestKind.WRITE),
        /**
         * {@code POST /upload/storage/v1/b/B/o?uploadType=resumable}: starts a resumable upload session.
         */
        START_RESUMABLE_UPLOAD(RequestKind.WRITE),
        /**
         * {@code PUT} of the session URI with {@code Content-Range: bytes A-B/*} (or {@code /SIZE}, the last one).
         */
        UPLOAD_CHUNK(RequestKind.WRITE),
        /**
         * {@code PUT} of the session URI with {@code Content-Range: bytes *}{@code /...} and no body: where the session
         * stands (the library asks before it resumes).
         */
        QUERY_UPLOAD(RequestKind.WRITE),
        /**
         * {@code DELETE} of the session URI: cancels an unfinished upload.
         */
        CANCEL_UPLOAD(RequestKind.DELETE),
        /**
         * {@code GET .../o/NAME?alt=media} (also under {@code /download}), ranged.
         */
        GET_MEDIA(RequestKind.READ),
        /**
         * {@code GET .../o/NAME}: the object's metadata (size, generation).
         */
        GET_METADATA(RequestKind.READ),
        /**
         * {@code GET /storage/v1/b/B/o?prefix=...}.
         */
        LIST_OBJECTS(RequestKind.LIST),
        /**
         * {@code DELETE /storage/v1/b/B/o/NAME}.
         */
        DELETE_OBJECT(RequestKind.DELETE),
        /**
         * {@code POST /batch/storage/v1}: Spoolex batches deletes only.
         */
        BATCH(RequestKind.DELETE),
        OTHER(RequestKind.OTHER);

        private final RequestKind kind;

        GcsOperation(RequestKind kind)
        {
            this.kind = kind;
        }

        public RequestKind kind()
        {
            return kind;
        }
    }

    private GcsHttpDialect() {}

    @Override
    public String operation(String method, String target, Map<String, String> headers)
    {
        return of(method, target, headers.get("content-range")).name();
    }

    static GcsOperation of(String method, String target, String contentRange)
    {
        int query = target.indexOf('?');
        String path = query < 0 ? target : target.substring(0, query);
        if (path.startsWith("/batch/")) {
            return method.equals("POST") ? GcsOperation.BATCH : GcsOperation.OTHER;
        }
        if (path.startsWith("/upload/storage/v1/b/")) {
            if (hasQueryParameter(target, "upload_id")) {
                return switch (method) {
                    case "PUT" -> contentRange != null && contentRange.startsWith("bytes */") ? GcsOperation.QUERY_UPLOAD : GcsOperation.UPLOAD_CHUNK;
                    case "DELETE" -> GcsOperation.CANCEL_UPLOAD;
                    default -> GcsOperation.OTHER;
                };
            }
            if (method.equals("POST")) {
                return target.contains("uploadType=resumable") ? GcsOperation.START_RESUMABLE_UPLOAD : GcsOperation.MULTIPART_UPLOAD;
            }
            return GcsOperation.OTHER;
        }
        if (path.startsWith("/download/")) {
            path = path.substring("/download".length());
        }
        if (path.startsWith("/storage/v1/b/")) {
            boolean object = path.indexOf("/o/") > 0;
            if (!object && path.endsWith("/o") && method.equals("GET")) {
                return GcsOperation.LIST_OBJECTS;
            }
            if (object) {
                return switch (method) {
                    case "GET" -> hasQueryParameter(target, "alt") && target.contains("alt=media") ? GcsOperation.GET_MEDIA : GcsOperation.GET_METADATA;
                    case "DELETE" -> GcsOperation.DELETE_OBJECT;
                    default -> GcsOperation.OTHER;
                };
            }
        }
        return GcsOperation.OTHER;
    }

    /**
     * The GCS operation of a request the proxy recorded.
     */
    public static GcsOperation operation(FaultInjectingHttpProxy.Request request)
    {
        return GcsOperation.valueOf(request.operation());
    }

    @Override
    public RequestKind kind(String operation)
    {
        return GcsOperation.valueOf(operation).kind();
    }

    /**
     * GCS's JSON error documents (https://cloud.google.com/storage/docs/json_api/v1/status-codes): an {@code error}
     * object with the status, a message and {@code errors[].reason}. GCS throttles a request rate above what a bucket
     * has scaled to with 429 and, while it scales, 503 (https://cloud.google.com/storage/docs/request-rate), and
     * answers a failure on its side with 500 or 503 {@code backendError}; each asks for a retry with exponential
     * backoff (https://cloud.google.com/storage/docs/retry-strategy). GCS has no error code like S3's SlowDown: a
     * throttling 503 reads as any other 503.
     */
    @Override
    public ErrorResponse errorResponse(HttpFault.ErrorKind error)
    {
        return switch (error) {
            case SLOW_DOWN, SERVICE_UNAVAILABLE -> error(503, "Service Unavailable", "global", "backendError", "We encountered an internal error. Please try again.");
            case TOO_MANY_REQUESTS -> error(429, "Too Many Requests", "usageLimits", "rateLimitExceeded", "The rate of requests exceeds the rate limit. Please reduce the request rate.");
            case INTERNAL_ERROR -> error(500, "Internal Server Error", "global", "backendError", "We encountered an internal error. Please try again.");
        };
    }

    @Override
    public ErrorResponse answer(int status, String reason, String errorCode)
    {
        return error(status, reason, "global", errorCode, reason);
    }

    static ErrorResponse error(int status, String reason, String domain, String errorReason, String message)
    {
        String json = "{\"error\":{\"code\":%s,\"message\":\"%s\",\"errors\":[{\"message\":\"%s\",\"domain\":\"%s\",\"reason\":\"%s\"}]}}"
                .formatted(status, message, message, domain, errorReason);
        return new ErrorResponse(status, reason, "application/json; charset=UTF-8", Map.of(), json.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public boolean splitsBatches()
    {
        return true;
    }

    /**
     * A batch ({@code POST /batch/storage/v1}, a {@code multipart/mixed} body of {@code application/http} parts) sent
     * as single requests with the outer request's headers where a part has none of its own, and answered as GCS
     * answers a batch: 200 with one {@code application/http} part per request, in order, each with the request's
     * {@code Content-ID} prefixed {@code response-}.
     */
    @Override
    public Optional<RawAnswer> answerBatch(FaultInjectingHttpProxy.Request request, byte[] body, Upstream upstream, IntPredicate refused, HttpFault.ErrorKind error)
            throws IOException
    {
        if (operation(request) != GcsOperation.BATCH) {
            return Optional.empty();
        }
        String contentType = request.header("content-type");
        int boundaryAt = contentType == null ? -1 : contentType.indexOf("boundary=");
        if (boundaryAt < 0) {
            return Optional.empty();
        }
        String boundary = contentType.substring(boundaryAt + "boundary=".length()).trim();
        if (boundary.startsWith("\"") && boundary.endsWith("\"")) {
            boundary = boundary.substring(1, boundary.length() - 1);
        }
        String text = new String(body, ISO_8859_1);
        String responseBoundary = "batch_" + UUID.randomUUID();
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        int index = 0;
        for (String part : text.split("--" + Pattern.quote(boundary))) {
            int mimeEnd = part.indexOf("\r\n\r\n");
            if (part.strip().isEmpty() || part.strip().equals("--") || mimeEnd < 0) {
                continue;
            }
            Map<String, String> mimeHeaders = headers(part.substring(0, mimeEnd));
            String contentId = mimeHeaders.entrySet().stream()
                    .filter(header -> header.getKey().equalsIgnoreCase("content-id"))
                    .map(Map.Entry::getValue)
                    .findFirst()
                    .orElse("<" + index + ">");
            String http = part.substring(mimeEnd + 4);
            int headEnd = http.indexOf("\r\n\r\n");
            String head = headEnd < 0 ? http.strip() : http.substring(0, headEnd);
            String subBody = headEnd < 0 ? "" : http.substring(headEnd + 4);
            if (subBody.endsWith("\r\n")) {
                subBody = subBody.substring(0, subBody.length() - 2);
            }
            int lineEnd = head.indexOf("\r\n");
            String requestLine = originForm(lineEnd < 0 ? head : head.substring(0, lineEnd));
            Map<String, String> subHeaders = new LinkedHashMap<>(lineEnd < 0 ? Map.of() : headers(head.substring(lineEnd + 2)));
            // the outer request's credentials apply to a part that carries none
            if (request.header("authorization") != null && subHeaders.keySet().stream().noneMatch(name -> name.equalsIgnoreCase("authorization"))) {
                subHeaders.put("Authorization", request.header("authorization"));
            }

            RawAnswer subAnswer;
            if (refused.test(index)) {
                ErrorResponse refusal = errorResponse(error);
                Map<String, String> refusalHeaders = new LinkedHashMap<>(refusal.headers());
                refusalHeaders.put("Content-Type", refusal.contentType());
                subAnswer = new RawAnswer(refusal.status(), refusal.reason(), refusalHeaders, refusal.body());
            }
            else {
                subAnswer = upstream.send(requestLine, subHeaders, subBody.getBytes(ISO_8859_1));
            }
            String responseId = contentId.startsWith("<") ? "<response-" + contentId.substring(1) : "response-" + contentId;
            StringBuilder partText = new StringBuilder()
                    .append("--").append(responseBoundary).append("\r\n")
                    .append("Content-Type: application/http\r\n")
                    .append("Content-ID: ").append(responseId).append("\r\n\r\n")
                    .append("HTTP/1.1 ").append(subAnswer.status()).append(' ').append(subAnswer.reason()).append("\r\n");
            subAnswer.headers().forEach((name, value) -> {
                String lower = name.toLowerCase(Locale.ENGLISH);
                if (!lower.equals("content-length") && !lower.equals("transfer-encoding") && !lower.equals("connection") && !lower.equals("date")) {
                    partText.append(name).append(": ").append(value).append("\r\n");
                }
            });
            partText.append("Content-Length: ").append(subAnswer.body().length).append("\r\n\r\n");
            answer.write(partText.toString().getBytes(ISO_8859_1));
            answer.write(subAnswer.body());
            answer.write("\r\n".getBytes(ISO_8859_1));
            index++;
        }
        answer.write(("--" + responseBoundary + "--\r\n").getBytes(ISO_8859_1));
        return Optional.of(new RawAnswer(200, "OK", Map.of("Content-Type", "multipart/mixed; boundary=" + responseBoundary), answer.toByteArray()));
    }

    /**
     * A part's request line with its target as a path (a client may write the absolute URL).
     */
    private static String originForm(String requestLine)
    {
        String[] parts = requestLine.split(" ");
        if (parts.length == 3 && (parts[1].startsWith("http://") || parts[1].startsWith("https://"))) {
            URI uri = URI.create(parts[1]);
            return "%s %s%s %s".formatted(parts[0], uri.getRawPath(), uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery(), parts[2]);
        }
        return requestLine;
    }

    private static Map<String, String> headers(String lines)
    {
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line : lines.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                headers.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return headers;
    }
}
