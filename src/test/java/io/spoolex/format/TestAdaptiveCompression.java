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
package io.spoolex.format;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static io.spoolex.format.AdaptiveCompression.PROBE_BLOCKS;
import static io.spoolex.format.AdaptiveCompression.RETRY_EVERY;
import static org.assertj.core.api.Assertions.assertThat;

public class TestAdaptiveCompression
{
    @Test
    public void testIncompressibleDataStopsTheAttemptsUntilItCompressesAgain()
    {
        AtomicInteger warnings = new AtomicInteger();
        AdaptiveCompression compression = new AdaptiveCompression(warnings::incrementAndGet);
        for (int block = 0; block < PROBE_BLOCKS; block++) {
            assertThat(compression.shouldTry()).isTrue();
            compression.recordAttempt(1000, 1001);
        }
        assertThat(warnings).hasValue(1);
        // skipping now, but one block in RETRY_EVERY is still tried
        int tried = 0;
        for (int block = 0; block < 3 * RETRY_EVERY; block++) {
            if (compression.shouldTry()) {
                tried++;
                compression.recordAttempt(1000, 999);
            }
        }
        assertThat(tried).isEqualTo(3);
        assertThat(compression.notTriedBlocks()).isEqualTo(3L * RETRY_EVERY - 3);
        // a retried block that shrinks well: back to trying every block, and judged afresh
        assertThat(tried(compression, RETRY_EVERY)).isEqualTo(1);
        compression.recordAttempt(1000, 400);
        assertThat(tried(compression, 10)).isEqualTo(10);
        assertThat(warnings).hasValue(1);
        assertThat(compression.compressedBlocks()).isEqualTo(4);
    }

    @Test
    public void testMostlyCompressibleDataIsAlwaysTried()
    {
        AtomicInteger warnings = new AtomicInteger();
        AdaptiveCompression compression = new AdaptiveCompression(warnings::incrementAndGet);
        for (int block = 0; block < 10 * PROBE_BLOCKS; block++) {
            assertThat(compression.shouldTry()).isTrue();
            // two blocks in the probe do not shrink: not enough to stop trying
            compression.recordAttempt(1000, block % 8 == 0 ? 1000 : 500);
        }
        assertThat(warnings).hasValue(0);
        assertThat(compression.notTriedBlocks()).isZero();
    }

    @Test
    public void testTryingEveryBlockNeverSkips()
    {
        AdaptiveCompression compression = AdaptiveCompression.tryingEveryBlock();
        for (int block = 0; block < 4 * PROBE_BLOCKS; block++) {
            assertThat(compression.shouldTry()).isTrue();
            compression.recordAttempt(1000, 1001);
        }
        assertThat(compression.rawBlocks()).isEqualTo(4L * PROBE_BLOCKS);
    }

    /**
     * Calls shouldTry() {@code calls} times without recording; returns how many said yes.
     */
    private static int tried(AdaptiveCompression compression, int calls)
    {
        int tried = 0;
        for (int i = 0; i < calls; i++) {
            if (compression.shouldTry()) {
                tried++;
            }
        }
        return tried;
    }
}
