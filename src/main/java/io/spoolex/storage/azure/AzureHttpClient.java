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

import com.azure.core.http.HttpClient;
import com.azure.core.http.HttpHeader;
import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpHeaders;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.core.util.Context;
import com.azure.core.util.CoreUtils;
import com.azure.core.util.FluxUtil;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import reactor.adapter.JdkFlowAdapter;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

import java.net.ProxySelector;
import java.net.URISyntaxException;
import java.net.http.HttpClient.Redirect;
import java.net.http.HttpClient.Version;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.airlift.concurrent.Threads.daemonThreadsNamed;
import static java.util.Objects.requireNonNull;

/**
 * The Azure SDK's HTTP client, on the JDK's own {@code java.net.http} client (HTTP/1.1): no Netty, so no native
 * libraries in the plugin and nothing that depends on the class loader it is loaded by. Connections are limited by
 * {@link ConnectionSlots}, as Trino's Netty pool limits them.
 * <p>
 * (Azure's own adapter, azure-core-http-jdk-httpclient, logs a warning for every request that carries a
 * Content-Length header, which the JDK client refuses to take from the caller and sets itself; this client leaves
 * such headers to the JDK silently.)
 */
final class AzureHttpClient
        implements HttpClient, AutoCloseable
{
    // headers the JDK client sets itself and refuses from callers
    private static final Set<String> JDK_MANAGED_HEADERS = Set.of("connection", "content-length", "expect", "host", "upgrade");
    // the Azure SDK's markers of a request whose answer it reads whole (or not at all) rather than streams
    private static final String EAGERLY_READ_RESPONSE = "azure-eagerly-read-response";
    private static final String IGNORE_RESPONSE_BODY = "azure-ignore-response-body";

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /**
     * Until the answer's headers arrive, plus a second per MiB of request body (uploads of a slow link take longer).
     */
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(60);
    /**
     * Longest pause within an answer's body.
     */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    private final ExecutorService executor;
    private final java.net.http.HttpClient client;
    private final ConnectionSlots slots;
    private volatile boolean closed;

    AzureHttpClient(ConnectionSlots slots)
    {
        this.slots = requireNonNull(slots, "slots is null");
        this.executor = Executors.newCachedThreadPool(daemonThreadsNamed("spoolex-azure-http-%s"));
        java.net.http.HttpClient.Builder builder = java.net.http.HttpClient.newBuilder()
                .version(Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .followRedirects(Redirect.NEVER)
                .executor(executor);
        // the JVM's proxy settings (https.proxyHost, ...), as for every other HTTP client of the JVM
        ProxySelector proxySelector = ProxySelector.getDefault();
        if (proxySelector != null) {
            builder.proxy(proxySelector);
        }
        this.client = builder.build();
    }

    @Override
    public Mono<HttpResponse> send(HttpRequest request)
    {
        return send(request, Context.NONE);
    }

    @Override
    public Mono<HttpResponse> send(HttpRequest request, Context context)
    {
        boolean readWhole = isSet(context, EAGERLY_READ_RESPONSE) || isSet(context, IGNORE_RESPONSE_BODY);
        return Mono.<HttpResponse>create(sink -> {
            Exchange exchange = new Exchange(request, readWhole, sink);
            sink.onCancel(exchange::cancel);
            exchange.start();
        }).doOnDiscard(HttpResponse.class, HttpResponse::close);
    }

    private static boolean isSet(Context context, String key)
    {
        return context != null && context.getData(key).map(Boolean.TRUE::equals).orElse(false);
    }

    @Override
    public void close()
    {
        closed = true;
        client.shutdownNow();
        executor.shutdownNow();
    }

    /**
     * One request: waits for a connection slot, sends, and hands the slot back once the answer has been read.
     */
    private final class Exchange
            implements ConnectionSlots.Waiter
    {
        private final HttpRequest request;
        private final boolean readWhole;
        private final MonoSink<HttpResponse> sink;
        private final AtomicBoolean released = new AtomicBoolean();

        @GuardedBy("this")
        private boolean cancelled;
        @GuardedBy("this")
        private CompletableFuture<?> sent;
        @GuardedBy("this")
        private Runnable withdraw;

        Exchange(HttpRequest request, boolean readWhole, MonoSink<HttpResponse> sink)
        {
            this.request = request;
            this.readWhole = readWhole;
            this.sink = sink;
        }

        void start()
        {
            if (closed) {
                sink.error(new IllegalStateException("Azure storage is closed"));
                return;
            }
            Runnable withdrawWait = slots.acquire(this);
            synchronized (this) {
                withdraw = withdrawWait;
            }
        }

        @Override
        public void granted()
        {
            synchronized (this) {
                if (cancelled) {
                    release();
                    return;
                }
            }
            java.net.http.HttpRequest jdkRequest;
            try {
                if (closed) {
                    throw new IllegalStateException("Azure storage is closed");
                }
                jdkRequest = toJdkRequest(request);
            }
            catch (RuntimeException | URISyntaxException e) {
                release();
                fail(e);
                return;
            }
            CompletableFuture<?> future;
            if (readWhole) {
                future = client.sendAsync(jdkRequest, BodyHandlers.ofByteArray()).whenComplete((response, failure) -> {
                    release();
                    if (failure != null) {
                        fail(failure);
                    }
                    else {
                        succeed(new BufferedResponse(request, response.statusCode(), toHeaders(response.headers()), response.body()));
                    }
                });
            }
            else {
                future = client.sendAsync(jdkRequest, BodyHandlers.ofPublisher()).whenComplete((response, failure) -> {
                    if (failure != null) {
                        release();
                        fail(failure);
                    }
                    else {
                        succeed(new StreamingResponse(request, response, this::release));
                    }
                });
            }
            boolean cancelNow;
            synchronized (this) {
                sent = future;
                cancelNow = cancelled;
            }
            if (cancelNow) {
                future.cancel(true);
            }
        }

        @Override
        public void refused(Exception reason)
        {
            fail(reason);
        }

        void cancel()
        {
            Runnable withdrawWait;
            CompletableFuture<?> future;
            synchronized (this) {
                cancelled = true;
                withdrawWait = withdraw;
                future = sent;
            }
            if (withdrawWait != null) {
                withdrawWait.run();
            }
            if (future != null) {
                // aborts the exchange; its completion hands the slot back
                future.cancel(true);
            }
        }

        private void release()
        {
            if (released.compareAndSet(false, true)) {
                slots.release();
            }
        }

        private void succeed(HttpResponse response)
        {
            synchronized (this) {
                if (cancelled) {
                    response.close();
                    return;
                }
            }
            sink.success(response);
        }

        private void fail(Throwable failure)
        {
            synchronized (this) {
                if (cancelled) {
                    return;
                }
            }
            Throwable cause = failure;
            while ((cause instanceof CompletionException) && cause.getCause() != null) {
                cause = cause.getCause();
            }
            sink.error(cause instanceof CancellationException ? new IllegalStateException("request cancelled", cause) : cause);
        }
    }

    private static java.net.http.HttpRequest toJdkRequest(HttpRequest request)
            throws URISyntaxException
    {
        long bodyBytes = -1;
        String contentLength = request.getHeaders().getValue(HttpHeaderName.CONTENT_LENGTH);
        if (contentLength != null) {
            bodyBytes = Long.parseLong(contentLength.trim());
        }
        java.net.http.HttpRequest.Builder builder = java.net.http.HttpRequest.newBuilder(request.getUrl().toURI())
                .timeout(RESPONSE_TIMEOUT.plusSeconds(Math.max(0, bodyBytes) >> 20));
        for (HttpHeader header : request.getHeaders()) {
            if (JDK_MANAGED_HEADERS.contains(header.getName().toLowerCase(Locale.ENGLISH))) {
                continue;
            }
            for (String value : header.getValuesList()) {
                builder.header(header.getName(), value);
            }
        }
        BodyPublisher body;
        if (request.getBodyAsBinaryData() == null || bodyBytes == 0) {
            body = BodyPublishers.noBody();
        }
        else {
            // streams the SDK's buffers as they are (for uploads: views of the sink's write buffers), never one copy
            Flow.Publisher<ByteBuffer> publisher = JdkFlowAdapter.publisherToFlowPublisher(request.getBody());
            body = bodyBytes > 0
                    ? BodyPublishers.fromPublisher(publisher, bodyBytes)
                    : BodyPublishers.fromPublisher(publisher);
        }
        return builder.method(request.getHttpMethod().name(), body).build();
    }

    private static HttpHeaders toHeaders(java.net.http.HttpHeaders jdkHeaders)
    {
        HttpHeaders headers = new HttpHeaders();
        jdkHeaders.map().forEach((name, values) -> {
            if (!name.startsWith(":")) {
                headers.set(HttpHeaderName.fromString(name), values);
            }
        });
        return headers;
    }

    private abstract static class Response
            extends HttpResponse
    {
        private final int statusCode;
        private final HttpHeaders headers;

        Response(HttpRequest request, int statusCode, HttpHeaders headers)
        {
            super(request);
            this.statusCode = statusCode;
            this.headers = headers;
        }

        @Override
        public final int getStatusCode()
        {
            return statusCode;
        }

        @Override
        @Deprecated
        public final String getHeaderValue(String name)
        {
            return headers.getValue(HttpHeaderName.fromString(name));
        }

        @Override
        public final String getHeaderValue(HttpHeaderName name)
        {
            return headers.getValue(name);
        }

        @Override
        public final HttpHeaders getHeaders()
        {
            return headers;
        }

        @Override
        public final Mono<String> getBodyAsString()
        {
            return getBodyAsByteArray().map(bytes -> CoreUtils.bomAwareToString(bytes, headers.getValue(HttpHeaderName.CONTENT_TYPE)));
        }

        @Override
        public final Mono<String> getBodyAsString(Charset charset)
        {
            return getBodyAsByteArray().map(bytes -> new String(bytes, charset));
        }
    }

    /**
     * An answer the JDK client read whole (the SDK asked for it, for answers it deserializes or ignores).
     */
    private static final class BufferedResponse
            extends Response
    {
        private final byte[] body;

        BufferedResponse(HttpRequest request, int statusCode, HttpHeaders headers, byte[] body)
        {
            super(request, statusCode, headers);
            this.body = body == null ? new byte[0] : body;
        }

        @Override
        public Flux<ByteBuffer> getBody()
        {
            return body.length == 0 ? Flux.empty() : Flux.just(ByteBuffer.wrap(body).asReadOnlyBuffer());
        }

        @Override
        public Mono<byte[]> getBodyAsByteArray()
        {
            return body.length == 0 ? Mono.empty() : Mono.just(body);
        }
    }

    /**
     * An answer whose body streams (downloads); the connection slot goes back when the body ends, fails, is cancelled
     * or the answer is closed unread.
     */
    private static final class StreamingResponse
            extends Response
    {
        private final Flux<ByteBuffer> body;
        // the JDK's body publisher takes one subscriber: the first gets the body, any later one (the SDK's retry
        // policy drains an answer it already closed) nothing
        private final AtomicBoolean taken = new AtomicBoolean();

        StreamingResponse(HttpRequest request, java.net.http.HttpResponse<Flow.Publisher<List<ByteBuffer>>> response, Runnable release)
        {
            super(request, response.statusCode(), toHeaders(response.headers()));
            this.body = JdkFlowAdapter.flowPublisherToFlux(response.body())
                    .timeout(READ_TIMEOUT)
                    .onErrorMap(TimeoutException.class, e -> {
                        HttpTimeoutException timeout = new HttpTimeoutException("no bytes of the answer arrived for %s s".formatted(READ_TIMEOUT.toSeconds()));
                        timeout.addSuppressed(e);
                        return timeout;
                    })
                    .concatMapIterable(buffers -> buffers)
                    .doFinally(_ -> release.run());
        }

        @Override
        public Flux<ByteBuffer> getBody()
        {
            return Flux.defer(() -> taken.compareAndSet(false, true) ? body : Flux.empty());
        }

        @Override
        public Mono<byte[]> getBodyAsByteArray()
        {
            return FluxUtil.collectBytesInByteBufferStream(getBody()).filter(bytes -> bytes.length > 0);
        }

        @Override
        public void close()
        {
            if (taken.compareAndSet(false, true)) {
                // nobody will read the body: cancel it, which closes the connection and hands the slot back
                body.subscribe(_ -> {}, _ -> {}).dispose();
            }
        }
    }
}
