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
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSortedMap;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.util.Objects.requireNonNull;

/**
 * An HTTP/1.1 proxy on 127.0.0.1 in front of a real storage server (S3Proxy, Azurite, ...) that records every request
 * as it went over the wire and injects faults into chosen ones: error answers (throttling, server errors), connection
 * resets before an answer or in the middle of an upload, empty answers, bodies cut off mid-way or well-framed but
 * short, latency, and outages during which every connection is reset. Requests it lets through pass byte for byte
 * (signatures stay valid), except that it answers {@code Expect: 100-continue} itself.
 * <p>
 * One request at a time per connection, as HTTP clients without pipelining send them; each client connection has
 * its own connection to the server. A {@link FaultPlan} decides per request; {@link #startOutage} works on every
 * request until the outage ends.
 */
public final class FaultInjectingHttpProxy
        implements FaultInjector, AutoCloseable
{
    /**
     * A request as received, with the operation and kind the storage's dialect gives it.
     */
    public record Request(String method, String target, Map<String, String> headers, String operation, RequestKind kind, long receivedNanos)
    {
        public Request
        {
            requireNonNull(method, "method is null");
            requireNonNull(target, "target is null");
            headers = ImmutableMap.copyOf(headers);
            requireNonNull(operation, "operation is null");
            requireNonNull(kind, "kind is null");
        }

        public String header(String name)
        {
            return headers.get(name.toLowerCase(Locale.ENGLISH));
        }

        public boolean hasQueryParameter(String name)
        {
            return hasQueryParameter(target, name);
        }

        public static boolean hasQueryParameter(String target, String name)
        {
            int query = target.indexOf('?');
            if (query < 0) {
                return false;
            }
            for (String parameter : target.substring(query + 1).split("&")) {
                if (parameter.equals(name) || parameter.startsWith(name + "=")) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final int BUFFER_BYTES = 64 * 1024;
    private static final boolean DEBUG = Boolean.getBoolean("spoolex.fault-proxy.debug");

    private final URI upstream;
    private final HttpStorageDialect dialect;
    private final ServerSocket server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Request> requests = new ArrayList<>();
    private final Set<Socket> openSockets = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicLong> injected = new ConcurrentHashMap<>();
    private volatile FaultPlan plan = FaultPlan.none();
    private volatile long outageEndNanos;
    private volatile boolean outage;
    private volatile boolean closed;

    public FaultInjectingHttpProxy(URI upstream, HttpStorageDialect dialect)
            throws IOException
    {
        this.upstream = requireNonNull(upstream, "upstream is null");
        this.dialect = requireNonNull(dialect, "dialect is null");
        this.server = new ServerSocket(0, 500, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    public URI endpoint()
    {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    /**
     * Every request received since the last {@link #clear()}, faulted or not.
     */
    public List<Request> requests()
    {
        synchronized (requests) {
            return ImmutableList.copyOf(requests);
        }
    }

    /**
     * Forgets the recorded requests and the counts of injected faults.
     */
    public void clear()
    {
        synchronized (requests) {
            requests.clear();
        }
        injected.clear();
    }

    public void setPlan(FaultPlan plan)
    {
        this.plan = requireNonNull(plan, "plan is null");
    }

    @Override
    public Set<Capability> capabilities()
    {
        Set<Capability> capabilities = EnumSet.allOf(Capability.class);
        if (!dialect.splitsBatches()) {
            capabilities.remove(Capability.BATCH_SUBREQUEST_ERRORS);
        }
        return capabilities;
    }

    @Override
    public void injectFaults(List<FaultPlan.Rule> rules, long seed)
    {
        setPlan(FaultPlan.random(seed, rules));
    }

    @Override
    public void stopFaults()
    {
        setPlan(FaultPlan.none());
    }

    @Override
    public long requestCount()
    {
        synchronized (requests) {
            return requests.size();
        }
    }

    @Override
    public void resetCounts()
    {
        clear();
    }

    /**
     * Answers the next {@code count} requests that match with 503 SlowDown instead of passing them on.
     */
    public void throttle(Predicate<Request> which, int count)
    {
        setPlan(FaultPlan.firstN(which, count, HttpFault.slowDown()));
    }

    /**
     * Answers the next {@code count} requests that match with this status and error code, in the storage's format,
     * instead of passing them on.
     */
    public void answer(Predicate<Request> which, int count, int status, String reason, String errorCode)
    {
        setPlan(FaultPlan.firstN(which, count, new HttpFault.Answer(status, reason, errorCode)));
    }

    /**
     * From now on, for this long, resets every connection: those open now, those opened during the outage as soon
     * as they are accepted, and so every request.
     */
    @Override
    public void startOutage(Duration duration)
    {
        outageEndNanos = System.nanoTime() + duration.toNanos();
        outage = true;
        count("outage");
        for (Socket socket : openSockets) {
            reset(socket);
        }
    }

    @Override
    public void endOutage()
    {
        outage = false;
    }

    public boolean inOutage()
    {
        if (outage && System.nanoTime() - outageEndNanos >= 0) {
            outage = false;
        }
        return outage;
    }

    /**
     * How many times each fault was injected since the last {@link #clear()}, by fault name
     * ({@code Respond(SLOW_DOWN)}, {@code Reset}, {@code outage-reset}, ...).
     */
    @Override
    public Map<String, Long> injectedFaults()
    {
        ImmutableSortedMap.Builder<String, Long> counts = ImmutableSortedMap.naturalOrder();
        injected.forEach((name, count) -> counts.put(name, count.get()));
        return counts.build();
    }

    @Override
    public long injectedFaultCount()
    {
        return injected.entrySet().stream()
                .filter(entry -> !entry.getKey().equals("outage"))
                .mapToLong(entry -> entry.getValue().get())
                .sum();
    }

    private void count(String fault)
    {
        injected.computeIfAbsent(fault, _ -> new AtomicLong()).incrementAndGet();
    }

    private static String name(HttpFault fault)
    {
        return switch (fault) {
            case HttpFault.Respond respond -> "Respond(" + respond.error() + ")";
            case HttpFault.Answer answer -> "Answer(" + answer.status() + " " + answer.errorCode() + ")";
            case HttpFault.FailBatchSubrequests _ -> "FailBatchSubrequests";
            case HttpFault.CorruptBody _ -> "CorruptBody";
            case HttpFault.Reset _ -> "Reset";
            case HttpFault.ResetDuringRequest _ -> "ResetDuringRequest";
            case HttpFault.CloseWithoutResponse _ -> "CloseWithoutResponse";
            case HttpFault.TruncateResponse _ -> "TruncateResponse";
            case HttpFault.ShortBody _ -> "ShortBody";
            case HttpFault.Delay _ -> "Delay";
        };
    }

    private void acceptLoop()
    {
        while (!closed) {
            try {
                Socket client = server.accept();
                if (inOutage()) {
                    count("outage-reset");
                    reset(client);
                    continue;
                }
                openSockets.add(client);
                threads.execute(() -> serve(client));
            }
            catch (IOException e) {
                if (!closed) {
                    System.err.println("fault proxy: accept failed: " + e);
                }
                return;
            }
        }
    }

    private void serve(Socket client)
    {
        Socket origin = null;
        try {
            client.setTcpNoDelay(true);
            InputStream fromClient = new BufferedInputStream(client.getInputStream(), BUFFER_BYTES);
            OutputStream toClient = new BufferedOutputStream(client.getOutputStream(), BUFFER_BYTES);
            InputStream fromOrigin = null;
            OutputStream toOrigin = null;
            while (true) {
                byte[] head = readHead(fromClient);
                if (head == null) {
                    return;
                }
                if (inOutage()) {
                    count("outage-reset");
                    reset(client);
                    return;
                }
                HttpHead requestHead = HttpHead.parse(head);
                byte[] bufferedBody = null;
                Request request = toRequest(requestHead);
                synchronized (requests) {
                    requests.add(request);
                }
                Optional<HttpFault> decided = plan.decide(request);
                // a batch fault counts only where it finds a batch (below)
                decided.filter(fault -> !(fault instanceof HttpFault.FailBatchSubrequests)).ifPresent(fault -> count(name(fault)));
                boolean expectContinue = "100-continue".equalsIgnoreCase(requestHead.get("expect"));
                HttpFault fault = decided.orElse(null);
                switch (fault) {
                    case HttpFault.Respond respond -> {
                        continueIfExpected(expectContinue, toClient);
                        copyBody(requestHead, fromClient, OutputStream.nullOutputStream(), Long.MAX_VALUE);
                        writeError(toClient, dialect.errorResponse(respond.error()));
                        continue;
                    }
                    case HttpFault.Answer answer -> {
                        continueIfExpected(expectContinue, toClient);
                        copyBody(requestHead, fromClient, OutputStream.nullOutputStream(), Long.MAX_VALUE);
                        writeError(toClient, dialect.answer(answer.status(), answer.reason(), answer.errorCode()));
                        continue;
                    }
                    case HttpFault.FailBatchSubrequests batchFault -> {
                        continueIfExpected(expectContinue, toClient);
                        ByteArrayOutputStream body = new ByteArrayOutputStream();
                        copyBody(requestHead, fromClient, body, Long.MAX_VALUE);
                        byte[] bodyBytes = body.toByteArray();
                        Random draws = new Random(request.receivedNanos());
                        AtomicLong refusedHere = new AtomicLong();
                        Optional<HttpStorageDialect.RawAnswer> answered = dialect.answerBatch(
                                request,
                                bodyBytes,
                                this::sendUpstream,
                                _ -> {
                                    boolean refused = draws.nextDouble() < batchFault.fraction();
                                    if (refused) {
                                        refusedHere.incrementAndGet();
                                    }
                                    return refused;
                                },
                                batchFault.error());
                        if (answered.isPresent()) {
                            // a batch none of whose sub-requests drew the fault was not faulted
                            if (refusedHere.get() > 0) {
                                count(name(batchFault));
                                injected.computeIfAbsent("FailBatchSubrequests.refused", _ -> new AtomicLong()).addAndGet(refusedHere.get());
                            }
                            writeAnswer(toClient, answered.orElseThrow());
                            continue;
                        }
                        // not a batch: passed on with the body read here
                        requestHead.remove("transfer-encoding");
                        requestHead.set("Content-Length", Integer.toString(bodyBytes.length));
                        bufferedBody = bodyBytes;
                    }
                    case HttpFault.Reset _ -> {
                        continueIfExpected(expectContinue, toClient);
                        copyBody(requestHead, fromClient, OutputStream.nullOutputStream(), Long.MAX_VALUE);
                        reset(client);
                        return;
                    }
                    case HttpFault.ResetDuringRequest reset -> {
                        continueIfExpected(expectContinue, toClient);
                        long bodyBytes = requestBodyBytes(requestHead);
                        copyBody(requestHead, fromClient, OutputStream.nullOutputStream(), (long) (bodyBytes * reset.bodyFraction()));
                        reset(client);
                        return;
                    }
                    case HttpFault.CloseWithoutResponse _ -> {
                        continueIfExpected(expectContinue, toClient);
                        copyBody(requestHead, fromClient, OutputStream.nullOutputStream(), Long.MAX_VALUE);
                        client.close();
                        return;
                    }
                    case HttpFault.Delay delay -> sleep(delay.delay());
                    case HttpFault.TruncateResponse _, HttpFault.ShortBody _, HttpFault.CorruptBody _ -> {
                        // applied to the answer below
                    }
                    case null -> {
                        // passed on as it is
                    }
                }

                if (origin == null || origin.isClosed()) {
                    origin = new Socket(upstream.getHost(), upstream.getPort());
                    origin.setTcpNoDelay(true);
                    openSockets.add(origin);
                    fromOrigin = new BufferedInputStream(origin.getInputStream(), BUFFER_BYTES);
                    toOrigin = new BufferedOutputStream(origin.getOutputStream(), BUFFER_BYTES);
                }
                continueIfExpected(expectContinue, toClient);
                // the proxy has answered the expectation; the server gets the body at once
                requestHead.remove("expect");
                toOrigin.write(requestHead.bytes());
                if (bufferedBody != null) {
                    toOrigin.write(bufferedBody);
                }
                else {
                    copyBody(requestHead, fromClient, toOrigin, Long.MAX_VALUE);
                }
                toOrigin.flush();

                HttpHead responseHead = readResponseHead(fromOrigin);
                if (responseHead == null) {
                    // the server closed the connection without an answer: so does the proxy
                    if (DEBUG) {
                        System.err.println("fault proxy: server closed without answering " + request.method() + " " + request.target());
                    }
                    client.close();
                    return;
                }
                boolean bodyless = request.method().equals("HEAD") || responseHead.status() == 204 || responseHead.status() == 304;
                boolean closeAfter = "close".equalsIgnoreCase(responseHead.get("connection"));
                switch (fault) {
                    case HttpFault.TruncateResponse truncate -> {
                        byte[] body = bodyless ? new byte[0] : readWholeBody(responseHead, fromOrigin);
                        if (body.length == 0) {
                            // nothing to cut short: the answer goes missing instead
                            client.close();
                            return;
                        }
                        responseHead.remove("transfer-encoding");
                        responseHead.set("Content-Length", Integer.toString(body.length));
                        toClient.write(responseHead.bytes());
                        toClient.write(body, 0, Math.min(body.length - 1, (int) (body.length * truncate.bodyFraction())));
                        toClient.flush();
                        client.close();
                        return;
                    }
                    case HttpFault.ShortBody shortBody -> {
                        byte[] body = bodyless ? new byte[0] : readWholeBody(responseHead, fromOrigin);
                        int length = Math.min(Math.max(0, body.length - 1), (int) (body.length * shortBody.bodyFraction()));
                        responseHead.remove("transfer-encoding");
                        responseHead.set("Content-Length", Integer.toString(length));
                        toClient.write(responseHead.bytes());
                        toClient.write(body, 0, length);
                        toClient.flush();
                    }
                    case HttpFault.CorruptBody corrupt -> {
                        byte[] body = bodyless ? new byte[0] : readWholeBody(responseHead, fromOrigin);
                        // the same bytes of the same answer every time: a corruption that a second read would cure
                        // only if the second read is not corrupted too
                        Random positions = new Random(body.length);
                        for (int i = 0; i < corrupt.flippedBytes() && body.length > 0; i++) {
                            body[positions.nextInt(body.length)] ^= 0x5A;
                        }
                        responseHead.remove("transfer-encoding");
                        responseHead.set("Content-Length", Integer.toString(body.length));
                        toClient.write(responseHead.bytes());
                        toClient.write(body);
                        toClient.flush();
                    }
                    case null, default -> {
                        toClient.write(responseHead.bytes());
                        if (!bodyless) {
                            copyResponseBody(responseHead, fromOrigin, toClient);
                        }
                        toClient.flush();
                    }
                }
                if (closeAfter) {
                    client.close();
                    return;
                }
            }
        }
        catch (IOException e) {
            // either side went away, or the proxy reset the connection
            if (DEBUG) {
                System.err.println("fault proxy: connection ended: " + e);
            }
        }
        finally {
            openSockets.remove(client);
            closeQuietly(client);
            if (origin != null) {
                openSockets.remove(origin);
                closeQuietly(origin);
            }
        }
    }

    private Request toRequest(HttpHead head)
    {
        String[] requestLine = head.startLine().split(" ");
        String method = requestLine[0];
        String target = requestLine.length > 1 ? requestLine[1] : "/";
        Map<String, String> headers = head.headerMap();
        String operation = dialect.operation(method, target, headers);
        return new Request(method, target, headers, operation, dialect.kind(operation), System.nanoTime());
    }

    private static void continueIfExpected(boolean expectContinue, OutputStream toClient)
            throws IOException
    {
        if (expectContinue) {
            toClient.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(ISO_8859_1));
            toClient.flush();
        }
    }

    private static void writeError(OutputStream out, HttpStorageDialect.ErrorResponse error)
            throws IOException
    {
        StringBuilder head = new StringBuilder("HTTP/1.1 %s %s\r\nContent-Type: %s\r\nContent-Length: %s\r\n"
                .formatted(error.status(), error.reason(), error.contentType(), error.body().length));
        error.headers().forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        out.write(head.append("\r\n").toString().getBytes(ISO_8859_1));
        out.write(error.body());
        out.flush();
    }

    private static void writeAnswer(OutputStream out, HttpStorageDialect.RawAnswer answer)
            throws IOException
    {
        StringBuilder head = new StringBuilder("HTTP/1.1 %s %s\r\n".formatted(answer.status(), answer.reason()));
        answer.headers().forEach((name, value) -> {
            if (!name.equalsIgnoreCase("content-length") && !name.equalsIgnoreCase("transfer-encoding") && !name.equalsIgnoreCase("connection")) {
                head.append(name).append(": ").append(value).append("\r\n");
            }
        });
        head.append("Content-Length: ").append(answer.body().length).append("\r\n\r\n");
        out.write(head.toString().getBytes(ISO_8859_1));
        out.write(answer.body());
        out.flush();
    }

    /**
     * One request to the server on a connection of its own (a sub-request of a batch the proxy takes apart).
     */
    private HttpStorageDialect.RawAnswer sendUpstream(String requestLine, Map<String, String> headers, byte[] body)
            throws IOException
    {
        try (Socket origin = new Socket(upstream.getHost(), upstream.getPort())) {
            StringBuilder head = new StringBuilder(requestLine).append("\r\n");
            boolean hasHost = false;
            for (Map.Entry<String, String> header : headers.entrySet()) {
                if (header.getKey().equalsIgnoreCase("content-length") || header.getKey().equalsIgnoreCase("connection")) {
                    continue;
                }
                hasHost |= header.getKey().equalsIgnoreCase("host");
                head.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
            }
            if (!hasHost) {
                head.append("Host: ").append(upstream.getHost()).append(':').append(upstream.getPort()).append("\r\n");
            }
            head.append("Content-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
            OutputStream toOrigin = new BufferedOutputStream(origin.getOutputStream(), BUFFER_BYTES);
            toOrigin.write(head.toString().getBytes(ISO_8859_1));
            toOrigin.write(body);
            toOrigin.flush();
            InputStream fromOrigin = new BufferedInputStream(origin.getInputStream(), BUFFER_BYTES);
            HttpHead responseHead = readResponseHead(fromOrigin);
            if (responseHead == null) {
                throw new IOException("the server closed the connection without answering " + requestLine);
            }
            boolean bodyless = requestLine.startsWith("HEAD ") || responseHead.status() == 204 || responseHead.status() == 304;
            byte[] responseBody = bodyless ? new byte[0] : readWholeBody(responseHead, fromOrigin);
            String[] statusLine = responseHead.startLine().split(" ", 3);
            return new HttpStorageDialect.RawAnswer(responseHead.status(), statusLine.length > 2 ? statusLine[2] : "", responseHead.orderedHeaders(), responseBody);
        }
    }

    private static HttpHead readResponseHead(InputStream in)
            throws IOException
    {
        while (true) {
            byte[] head = readHead(in);
            if (head == null) {
                return null;
            }
            HttpHead parsed = HttpHead.parse(head);
            // an interim answer (the proxy strips Expect, so none is expected) is not the answer
            if (parsed.status() >= 200 || parsed.status() < 100) {
                return parsed;
            }
        }
    }

    private static byte[] readHead(InputStream in)
            throws IOException
    {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            matched = switch (matched) {
                case 0, 2 -> b == '\r' ? matched + 1 : 0;
                case 1, 3 -> b == '\n' ? matched + 1 : (b == '\r' ? 1 : 0);
                default -> 0;
            };
        }
        return head.toByteArray();
    }

    private static long requestBodyBytes(HttpHead head)
    {
        String length = head.get("content-length");
        return length == null ? 0 : Long.parseLong(length);
    }

    /**
     * Copies a request body framed by Content-Length or chunking, at most {@code limit} bytes of it.
     */
    private static void copyBody(HttpHead head, InputStream in, OutputStream out, long limit)
            throws IOException
    {
        String length = head.get("content-length");
        if (length != null) {
            copy(in, out, Math.min(limit, Long.parseLong(length)));
        }
        else if ("chunked".equalsIgnoreCase(head.get("transfer-encoding"))) {
            copyChunked(in, out, limit);
        }
    }

    private static void copyResponseBody(HttpHead head, InputStream in, OutputStream out)
            throws IOException
    {
        String length = head.get("content-length");
        if ("chunked".equalsIgnoreCase(head.get("transfer-encoding"))) {
            copyChunked(in, out, Long.MAX_VALUE);
        }
        else if (length != null) {
            copy(in, out, Long.parseLong(length));
        }
        else {
            // delimited by the end of the connection
            in.transferTo(out);
        }
    }

    private static byte[] readWholeBody(HttpHead head, InputStream in)
            throws IOException
    {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if ("chunked".equalsIgnoreCase(head.get("transfer-encoding"))) {
            while (true) {
                String sizeLine = readLine(in);
                long size = Long.parseLong(sizeLine.split(";")[0].trim(), 16);
                if (size == 0) {
                    String line;
                    do {
                        line = readLine(in);
                    }
                    while (!line.isEmpty());
                    return body.toByteArray();
                }
                copy(in, body, size);
                readLine(in);
            }
        }
        String length = head.get("content-length");
        if (length != null) {
            copy(in, body, Long.parseLong(length));
        }
        else {
            in.transferTo(body);
        }
        return body.toByteArray();
    }

    /**
     * Copies a chunked body with its framing, or, with a limit, that many of its bytes (framing included).
     */
    private static void copyChunked(InputStream in, OutputStream out, long limit)
            throws IOException
    {
        long copied = 0;
        while (copied < limit) {
            String sizeLine = readLine(in);
            out.write((sizeLine + "\r\n").getBytes(ISO_8859_1));
            long size = Long.parseLong(sizeLine.split(";")[0].trim(), 16);
            if (size == 0) {
                // trailers, then an empty line
                String line;
                do {
                    line = readLine(in);
                    out.write((line + "\r\n").getBytes(ISO_8859_1));
                }
                while (!line.isEmpty());
                return;
            }
            long bytes = Math.min(size + 2, limit - copied);
            copy(in, out, bytes);
            copied += bytes;
        }
    }

    private static void copy(InputStream in, OutputStream out, long bytes)
            throws IOException
    {
        byte[] buffer = new byte[BUFFER_BYTES];
        while (bytes > 0) {
            int read = in.read(buffer, 0, (int) Math.min(buffer.length, bytes));
            if (read < 0) {
                throw new IOException("body ended early");
            }
            out.write(buffer, 0, read);
            bytes -= read;
        }
    }

    private static String readLine(InputStream in)
            throws IOException
    {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int previous = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("stream ended in a chunk header");
            }
            if (previous == '\r' && b == '\n') {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, bytes.length - 1, ISO_8859_1);
            }
            line.write(b);
            previous = b;
        }
    }

    private static void reset(Socket socket)
    {
        try {
            // linger 0: close sends RST instead of FIN
            socket.setSoLinger(true, 0);
        }
        catch (SocketException _) {
            // already closed
        }
        closeQuietly(socket);
    }

    private static void closeQuietly(Socket socket)
    {
        try {
            socket.close();
        }
        catch (IOException _) {
            // closing anyway
        }
    }

    private static void sleep(Duration duration)
    {
        try {
            Thread.sleep(duration);
        }
        catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close()
            throws IOException
    {
        closed = true;
        server.close();
        openSockets.forEach(FaultInjectingHttpProxy::closeQuietly);
        threads.shutdownNow();
    }

    /**
     * A request or response head: the start line and the header lines in their order and spelling, which is how
     * they are passed on.
     */
    private static final class HttpHead
    {
        private final String startLine;
        private final List<String[]> headers;

        private HttpHead(String startLine, List<String[]> headers)
        {
            this.startLine = startLine;
            this.headers = headers;
        }

        static HttpHead parse(byte[] head)
        {
            String[] lines = new String(head, ISO_8859_1).split("\r\n");
            List<String[]> headers = new ArrayList<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    headers.add(new String[] {lines[i].substring(0, colon), lines[i].substring(colon + 1).trim()});
                }
            }
            return new HttpHead(lines[0], headers);
        }

        String startLine()
        {
            return startLine;
        }

        int status()
        {
            String[] parts = startLine.split(" ");
            try {
                return parts.length > 1 ? Integer.parseInt(parts[1]) : -1;
            }
            catch (NumberFormatException e) {
                return -1;
            }
        }

        String get(String name)
        {
            String value = null;
            for (String[] header : headers) {
                if (header[0].equalsIgnoreCase(name)) {
                    value = header[1];
                }
            }
            return value;
        }

        /**
         * The headers as spelt, in their order (a repeated header's last value).
         */
        Map<String, String> orderedHeaders()
        {
            Map<String, String> map = new LinkedHashMap<>();
            for (String[] header : headers) {
                map.put(header[0], header[1]);
            }
            return map;
        }

        Map<String, String> headerMap()
        {
            ImmutableMap.Builder<String, String> map = ImmutableMap.builder();
            for (String[] header : headers) {
                map.put(header[0].toLowerCase(Locale.ENGLISH), header[1]);
            }
            return map.buildKeepingLast();
        }

        void remove(String name)
        {
            headers.removeIf(header -> header[0].equalsIgnoreCase(name));
        }

        void set(String name, String value)
        {
            remove(name);
            headers.add(new String[] {name, value});
        }

        byte[] bytes()
        {
            StringBuilder text = new StringBuilder(startLine).append("\r\n");
            for (String[] header : headers) {
                text.append(header[0]).append(": ").append(header[1]).append("\r\n");
            }
            return text.append("\r\n").toString().getBytes(ISO_8859_1);
        }
    }
}
