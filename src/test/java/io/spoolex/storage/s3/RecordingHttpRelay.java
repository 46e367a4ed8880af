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
package io.spoolex.storage.s3;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * An HTTP/1.1 relay on 127.0.0.1 in front of a real S3 server, so that tests see the requests exactly as they went
 * over the wire (method, target, headers) without any hook in the code under test. Bytes pass through unchanged, so
 * SigV4 signatures stay valid. It can also answer chosen requests itself with 503 SlowDown, as S3 does under load.
 * One request at a time per connection (the SDK does not pipeline); bodies are framed by Content-Length or chunking.
 */
public final class RecordingHttpRelay
        implements AutoCloseable
{
    public record Request(String method, String target, Map<String, String> headers)
    {
        public String header(String name)
        {
            return headers.get(name.toLowerCase(Locale.ENGLISH));
        }

        public boolean hasQueryParameter(String name)
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

        /**
         * The S3 operation this request is, by its method and query (path-style addressing).
         */
        public String operation()
        {
            return switch (method) {
                case "PUT" -> hasQueryParameter("uploadId") ? "UploadPart" : "PutObject";
                case "POST" -> hasQueryParameter("uploads") ? "CreateMultipartUpload"
                        : hasQueryParameter("uploadId") ? "CompleteMultipartUpload"
                          : hasQueryParameter("delete") ? "DeleteObjects" : "POST";
                case "GET" -> hasQueryParameter("uploads") ? "ListMultipartUploads"
                        : hasQueryParameter("list-type") ? "ListObjectsV2" : "GetObject";
                case "DELETE" -> hasQueryParameter("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
                default -> method;
            };
        }
    }

    private final URI upstream;
    private final ServerSocket server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Request> requests = new ArrayList<>();
    private final AtomicInteger throttleBudget = new AtomicInteger();
    private volatile Predicate<Request> throttled = _ -> false;
    private volatile int injectedStatus = 503;
    private volatile String injectedReason = "Slow Down";
    private volatile String injectedErrorCode = "SlowDown";
    private volatile boolean closed;

    public RecordingHttpRelay(URI upstream)
            throws IOException
    {
        this.upstream = upstream;
        this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    public URI endpoint()
    {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    public List<Request> requests()
    {
        synchronized (requests) {
            return ImmutableList.copyOf(requests);
        }
    }

    public void clear()
    {
        synchronized (requests) {
            requests.clear();
        }
    }

    /**
     * Answers the next {@code count} requests that match with 503 SlowDown instead of passing them on.
     */
    public void throttle(Predicate<Request> which, int count)
    {
        answer(which, count, 503, "Slow Down", "SlowDown");
    }

    /**
     * Answers the next {@code count} requests that match with this status and an XML error of this code (the form
     * of S3's and Azure Storage's errors) instead of passing them on.
     */
    public void answer(Predicate<Request> which, int count, int status, String reason, String errorCode)
    {
        injectedStatus = status;
        injectedReason = reason;
        injectedErrorCode = errorCode;
        throttleBudget.set(count);
        throttled = which;
    }

    private void acceptLoop()
    {
        while (!closed) {
            try {
                Socket client = server.accept();
                threads.execute(() -> relay(client));
            }
            catch (IOException e) {
                if (!closed) {
                    System.err.println("relay accept failed: " + e);
                }
                return;
            }
        }
    }

    private void relay(Socket client)
    {
        try (client; Socket origin = new Socket(upstream.getHost(), upstream.getPort())) {
            InputStream fromClient = new BufferedInputStream(client.getInputStream());
            OutputStream toClient = client.getOutputStream();
            OutputStream toOrigin = origin.getOutputStream();
            InputStream fromOrigin = origin.getInputStream();
            threads.execute(() -> {
                byte[] buffer = new byte[64 * 1024];
                try {
                    int read;
                    while ((read = fromOrigin.read(buffer)) >= 0) {
                        synchronized (toClient) {
                            toClient.write(buffer, 0, read);
                            toClient.flush();
                        }
                    }
                }
                catch (IOException _) {
                    // either side went away
                }
                finally {
                    closeQuietly(client);
                }
            });
            while (true) {
                byte[] head = readHead(fromClient);
                if (head == null) {
                    return;
                }
                Request request = parse(head);
                synchronized (requests) {
                    requests.add(request);
                }
                if (throttled.test(request) && throttleBudget.getAndUpdate(budget -> Math.max(0, budget - 1)) > 0) {
                    skipBody(request, fromClient);
                    String errorCode = injectedErrorCode;
                    byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + errorCode + "</Code><Message>Please reduce your request rate.</Message><RequestId>relay</RequestId></Error>").getBytes(UTF_8);
                    String response = "HTTP/1.1 " + injectedStatus + " " + injectedReason + "\r\nContent-Type: application/xml\r\nContent-Length: " + body.length
                            + "\r\nx-amz-request-id: relay\r\nx-ms-request-id: relay\r\nx-ms-error-code: " + errorCode + "\r\n\r\n";
                    synchronized (toClient) {
                        toClient.write(response.getBytes(ISO_8859_1));
                        toClient.write(body);
                        toClient.flush();
                    }
                    continue;
                }
                toOrigin.write(head);
                copyBody(request, fromClient, toOrigin);
                toOrigin.flush();
            }
        }
        catch (IOException _) {
            // connection closed by either side
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

    private static Request parse(byte[] head)
    {
        String[] lines = new String(head, ISO_8859_1).split("\r\n");
        String[] requestLine = lines[0].split(" ");
        ImmutableMap.Builder<String, String> headers = ImmutableMap.builder();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ENGLISH), lines[i].substring(colon + 1).trim());
            }
        }
        return new Request(requestLine[0], requestLine[1], headers.buildKeepingLast());
    }

    private static void copyBody(Request request, InputStream in, OutputStream out)
            throws IOException
    {
        String length = request.header("content-length");
        if (length != null) {
            copy(in, out, Long.parseLong(length));
        }
        else if ("chunked".equalsIgnoreCase(request.header("transfer-encoding"))) {
            while (true) {
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
                copy(in, out, size + 2);
            }
        }
    }

    private static void skipBody(Request request, InputStream in)
            throws IOException
    {
        copyBody(request, in, OutputStream.nullOutputStream());
    }

    private static void copy(InputStream in, OutputStream out, long bytes)
            throws IOException
    {
        byte[] buffer = new byte[64 * 1024];
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

    private static void closeQuietly(Socket socket)
    {
        try {
            socket.close();
        }
        catch (IOException _) {
            // closing anyway
        }
    }

    @Override
    public void close()
            throws IOException
    {
        closed = true;
        server.close();
        threads.shutdownNow();
    }
}
