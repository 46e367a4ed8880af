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
package io.spoolex.exchange;

import io.airlift.json.JsonCodec;
import io.airlift.json.JsonCodecFactory;
import io.spoolex.exchange.SpoolexSourceHandle.AttemptFiles;
import io.spoolex.exchange.SpoolexSourceHandle.FileRef;
import io.spoolex.format.ExchangeKey;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Handles travel between coordinator and workers as JSON; they must round-trip, and the key must not show in
 * {@code toString()}.
 */
public class TestHandleSerialization
{
    private final JsonCodecFactory codecs = new JsonCodecFactory();

    @Test
    public void testSinkInstanceHandle()
    {
        ExchangeKey key = ExchangeKey.random(new SecureRandom());
        SpoolexSinkInstanceHandle handle = new SpoolexSinkInstanceHandle("exchange-1", 3, 1, URI.create("s3://bucket/spool/abc123.q.e.3/1/"), 50, true, Optional.of(key));
        JsonCodec<SpoolexSinkInstanceHandle> codec = codecs.jsonCodec(SpoolexSinkInstanceHandle.class);
        SpoolexSinkInstanceHandle copy = codec.fromJson(codec.toJson(handle));
        assertThat(copy).isEqualTo(handle);
        assertThat(copy.key()).contains(key);
        assertThat(handle.toString()).doesNotContain(key.toBase64()).contains("redacted");

        SpoolexSinkInstanceHandle plain = new SpoolexSinkInstanceHandle("exchange-1", 3, 1, URI.create("file:///tmp/x/"), 50, false, Optional.empty());
        assertThat(codec.fromJson(codec.toJson(plain))).isEqualTo(plain);
    }

    @Test
    public void testSourceHandle()
    {
        ExchangeKey key = ExchangeKey.random(new SecureRandom());
        SpoolexSourceHandle handle = new SpoolexSourceHandle("exchange-1", 7, Optional.of(key), List.of(
                new AttemptFiles("s3://bucket/spool/abc.q.e.0/0/", 0, 0, List.of(new FileRef(0, 1000, 2500, 0x1234), new FileRef(1, 10, 20, -1))),
                new AttemptFiles("s3://bucket/spool/def.q.e.1/2/", 1, 2, List.of(new FileRef(0, 5, 0, 7)))));
        JsonCodec<SpoolexSourceHandle> codec = codecs.jsonCodec(SpoolexSourceHandle.class);
        SpoolexSourceHandle copy = codec.fromJson(codec.toJson(handle));
        assertThat(copy).isEqualTo(handle);
        assertThat(copy.getPartitionId()).isEqualTo(7);
        assertThat(copy.getDataSizeInBytes()).isEqualTo(2520);
        assertThat(copy.getRetainedSizeInBytes()).isPositive();
        assertThat(handle.toString()).doesNotContain(key.toBase64());
        assertThat(codec.toJson(handle)).doesNotContain("dataBytes\" : 2520");
    }

    @Test
    public void testSinkHandle()
    {
        JsonCodec<SpoolexSinkHandle> codec = codecs.jsonCodec(SpoolexSinkHandle.class);
        assertThat(codec.fromJson(codec.toJson(new SpoolexSinkHandle(12)))).isEqualTo(new SpoolexSinkHandle(12));
    }
}
