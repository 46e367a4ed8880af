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

import com.google.errorprone.annotations.concurrent.GuardedBy;

import static java.util.Objects.requireNonNull;

/**
 * Whether a sink's next block is worth an LZ4 attempt, learnt from its blocks so far. Pages that arrive already
 * compressed or encrypted (the engine's own exchange codec left on: {@code exchange.compression-codec},
 * {@code external-exchange-encryption-enabled}) do not shrink; trying anyway costs CPU for nothing. Once most of the
 * first blocks did not shrink, the sink stores blocks raw without trying, and tries one block in {@value #RETRY_EVERY}
 * to notice when the data changes. Shared by the partitions of one sink, which encode in parallel.
 */
public final class AdaptiveCompression
{
    /**
     * Blocks tried before the data is judged.
     */
    static final int PROBE_BLOCKS = 16;
    /**
     * While skipping, one block in this many is still tried.
     */
    static final int RETRY_EVERY = 64;

    private final Runnable onIncompressible;
    private final boolean adaptive;

    @GuardedBy("this")
    private int probed;
    @GuardedBy("this")
    private int probedUnshrunk;
    @GuardedBy("this")
    private boolean skipping;
    @GuardedBy("this")
    private long skippedSinceRetry;
    @GuardedBy("this")
    private long compressed;
    @GuardedBy("this")
    private long storedRaw;
    @GuardedBy("this")
    private long notTried;

    /**
     * @param onIncompressible called once, when this sink decides its pages do not compress
     */
    public AdaptiveCompression(Runnable onIncompressible)
    {
        this(onIncompressible, true);
    }

    private AdaptiveCompression(Runnable onIncompressible, boolean adaptive)
    {
        this.onIncompressible = requireNonNull(onIncompressible, "onIncompressible is null");
        this.adaptive = adaptive;
    }

    /**
     * Tries every block, whatever the data (codec tests and benchmarks, which measure the attempts themselves).
     */
    public static AdaptiveCompression tryingEveryBlock()
    {
        return new AdaptiveCompression(() -> {}, false);
    }

    /**
     * Whether to try compressing the next block; a block not tried is stored raw.
     */
    synchronized boolean shouldTry()
    {
        if (!skipping) {
            return true;
        }
        if (++skippedSinceRetry >= RETRY_EVERY) {
            skippedSinceRetry = 0;
            return true;
        }
        notTried++;
        return false;
    }

    /**
     * The outcome of an attempt: the block's raw length and its LZ4 length.
     */
    void recordAttempt(int rawLength, int compressedLength)
    {
        boolean warn = false;
        synchronized (this) {
            // a block that kept 97% or more of its size gains nothing worth reading it back through LZ4 for
            boolean shrunk = (long) compressedLength * 100 < (long) rawLength * 97;
            if (compressedLength < rawLength) {
                compressed++;
            }
            else {
                storedRaw++;
            }
            if (skipping) {
                if (shrunk) {
                    // the data changed: compress again, and judge afresh
                    skipping = false;
                    probed = 0;
                    probedUnshrunk = 0;
                }
                return;
            }
            if (adaptive && probed < PROBE_BLOCKS) {
                probed++;
                if (!shrunk) {
                    probedUnshrunk++;
                }
                if (probed == PROBE_BLOCKS && probedUnshrunk >= PROBE_BLOCKS - 1) {
                    skipping = true;
                    warn = true;
                }
            }
        }
        if (warn) {
            onIncompressible.run();
        }
    }

    /**
     * Blocks stored LZ4-compressed.
     */
    public synchronized long compressedBlocks()
    {
        return compressed;
    }

    /**
     * Blocks stored raw after an attempt that did not shrink them.
     */
    public synchronized long rawBlocks()
    {
        return storedRaw;
    }

    /**
     * Blocks stored raw without an attempt, the data having shown it does not compress.
     */
    public synchronized long notTriedBlocks()
    {
        return notTried;
    }
}
