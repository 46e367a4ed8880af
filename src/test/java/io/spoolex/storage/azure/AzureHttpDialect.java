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

import io.spoolex.faults.FaultInjectingHttpProxy;
import io.spoolex.faults.HttpFault;
import io.spoolex.faults.HttpStorageDialect;
import io.spoolex.faults.RequestKind;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.IntPredicate;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * The Azure Blob REST API as the fault proxy sees it: operations by method and query ({@link AzureOperation}), their
 * kinds, Azure's error answers (the {@code x-ms-error-code} header and an XML body), and blob batches taken apart so
 * that single sub-requests can be refused while the batch succeeds, as Azure does when it throttles some of them.
 */
public final class AzureHttpDialect
        implements HttpStorageDialect
{
    public static final AzureHttpDialect AZURE = new AzureHttpDialect();

    private AzureHttpDialect() {}

    @Override
    public String operation(String method, String target, Map<String, String> headers)
    {
        int query = target.indexOf('?');
        return AzureOperation.of(method, query < 0 ? null : target.substring(query + 1)).name();
    }

    /**
     * The Azure operation of a request the proxy recorded.
     */
    public static AzureOperation operation(FaultInjectingHttpProxy.Request request)
    {
        return AzureOperation.valueOf(request.operation());
    }

    @Override
    public RequestKind kind(String operation)
    {
        return switch (AzureOperation.valueOf(operation)) {
            case PUT_BLOB, PUT_BLOCK, PUT_BLOCK_LIST -> RequestKind.WRITE;
            case GET_BLOB, GET_BLOB_PROPERTIES -> RequestKind.READ;
            case LIST_BLOBS, LIST_PATHS -> RequestKind.LIST;
            case BLOB_BATCH, DELETE_BLOB, DELETE_PATH -> RequestKind.DELETE;
            case GET_ACCOUNT_INFORMATION, OTHER -> RequestKind.OTHER;
        };
    }

    /**
     * Azure throttles with 503 ServerBusy (the account's or a partition's request rate) and, for some limits, 429;
     * it has no 503 of another code, so "service unavailable" is ServerBusy too, with the message Azure gives when a
     * server cannot take requests.
     */
    @Override
    public ErrorResponse errorResponse(HttpFault.ErrorKind error)
    {
        return switch (error) {
            case SLOW_DOWN -> error(503, "Operations per second is over the account limit.", "ServerBusy", "Operations per second is over the account limit.");
            case TOO_MANY_REQUESTS -> error(429, "Too Many Requests", "TooManyRequests", "The request rate is too high.");
            case INTERNAL_ERROR -> error(500, "Server encountered an internal error. Please try again after some time.", "InternalError", "Server encountered an internal error. Please try again after some time.");
            case SERVICE_UNAVAILABLE -> error(503, "The server is currently unable to receive requests. Please retry your request.", "ServerBusy", "The server is currently unable to receive requests. Please retry your request.");
        };
    }

    @Override
    public ErrorResponse answer(int status, String reason, String errorCode)
    {
        return error(status, reason, errorCode, reason);
    }

    private static ErrorResponse error(int status, String reason, String code, String message)
    {
        return ErrorResponse.xml(
                status,
                reason,
                Map.of("x-ms-error-code", code, "x-ms-request-id", "fault-proxy"),
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code><Message>%s\nRequestId:fault-proxy</Message></Error>".formatted(code, message));
    }

    @Override
    public boolean splitsBatches()
    {
        return true;
    }

    /**
     * A blob batch ({@code POST ?comp=batch}, a {@code multipart/mixed} body of HTTP requests, each signed on its
     * own) sent as single requests, and answered as Azure answers a batch: 202 Accepted with one part per
     * sub-request, matched by its {@code Content-ID}.
     */
    @Override
    public Optional<RawAnswer> answerBatch(FaultInjectingHttpProxy.Request request, byte[] body, Upstream upstream, IntPredicate refused, HttpFault.ErrorKind error)
            throws IOException
    {
        if (operation(request) != AzureOperation.BLOB_BATCH) {
            return Optional.empty();
        }
        String contentType = request.header("content-type");
        int boundaryAt = contentType == null ? -1 : contentType.indexOf("boundary=");
        if (boundaryAt < 0) {
            return Optional.empty();
        }
        String boundary = contentType.substring(boundaryAt + "boundary=".length()).trim();
        String text = new String(body, ISO_8859_1);
        String responseBoundary = "batchresponse_" + UUID.randomUUID();
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        int index = 0;
        for (String part : text.split("--" + boundary)) {
            String trimmed = part.strip();
            if (trimmed.isEmpty() || trimmed.equals("--")) {
                continue;
            }
            int mimeEnd = part.indexOf("\r\n\r\n");
            Map<String, String> mimeHeaders = headers(part.substring(0, mimeEnd));
            String contentId = mimeHeaders.getOrDefault("content-id", Integer.toString(index));
            String http = part.substring(mimeEnd + 4);
            int headEnd = http.indexOf("\r\n\r\n");
            String head = headEnd < 0 ? http.strip() : http.substring(0, headEnd);
            String subBody = headEnd < 0 ? "" : http.substring(headEnd + 4);
            if (subBody.endsWith("\r\n")) {
                subBody = subBody.substring(0, subBody.length() - 2);
            }
            int lineEnd = head.indexOf("\r\n");
            String requestLine = lineEnd < 0 ? head : head.substring(0, lineEnd);
            Map<String, String> subHeaders = lineEnd < 0 ? Map.of() : headers(head.substring(lineEnd + 2));

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
            StringBuilder partText = new StringBuilder()
                    .append("--").append(responseBoundary).append("\r\n")
                    .append("Content-Type: application/http\r\n")
                    .append("Content-ID: ").append(contentId).append("\r\n\r\n")
                    .append("HTTP/1.1 ").append(subAnswer.status()).append(' ').append(subAnswer.reason()).append("\r\n");
            subAnswer.headers().forEach((name, value) -> {
                String lower = name.toLowerCase(Locale.ENGLISH);
                if (!lower.equals("content-length") && !lower.equals("transfer-encoding") && !lower.equals("connection") && !lower.equals("keep-alive") && !lower.equals("date") && !lower.equals("server")) {
                    partText.append(name).append(": ").append(value).append("\r\n");
                }
            });
            if (subAnswer.body().length > 0) {
                partText.append("Content-Length: ").append(subAnswer.body().length).append("\r\n");
            }
            partText.append("\r\n");
            answer.write(partText.toString().getBytes(ISO_8859_1));
            answer.write(subAnswer.body());
            answer.write("\r\n".getBytes(ISO_8859_1));
            index++;
        }
        answer.write(("--" + responseBoundary + "--\r\n").getBytes(UTF_8));
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "multipart/mixed; boundary=" + responseBoundary);
        headers.put("x-ms-request-id", UUID.randomUUID().toString());
        Optional.ofNullable(request.header("x-ms-version")).ifPresent(version -> headers.put("x-ms-version", version));
        return Optional.of(new RawAnswer(202, "Accepted", headers, answer.toByteArray()));
    }

    private static Map<String, String> headers(String lines)
    {
        Map<String, String> headers = new LinkedHashMap<>();
        List<String> all = new ArrayList<>(List.of(lines.split("\r\n")));
        for (String line : all) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                String name = line.substring(0, colon).trim();
                // MIME header names are matched without case; the sub-request's keep their spelling
                headers.put(name.equalsIgnoreCase("content-id") ? "content-id" : name, line.substring(colon + 1).trim());
            }
        }
        return headers;
    }
}
