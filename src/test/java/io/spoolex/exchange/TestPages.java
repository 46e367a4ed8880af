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

import io.airlift.slice.Slice;
import io.airlift.slice.Slices;

import java.util.Random;

/**
 * Deterministic page contents for tests: a 16-byte identity (who wrote it and which page it is) followed by bytes
 * that compress about as well as serialized Trino pages (runs, small integers, some noise).
 */
public final class TestPages
{
    private TestPages() {}

    public static Slice page(int taskPartition, int attempt, int outputPartition, int index, int size)
    {
        byte[] bytes = new byte[size];
        Random random = new Random(((long) taskPartition << 40) ^ ((long) attempt << 32) ^ ((long) outputPartition << 16) ^ index ^ size);
        fill(bytes, random);
        Slice slice = Slices.wrappedBuffer(bytes);
        if (size >= 16) {
            slice.setInt(0, taskPartition);
            slice.setInt(4, attempt);
            slice.setInt(8, outputPartition);
            slice.setInt(12, index);
        }
        return slice;
    }

    /**
     * Fills with data of roughly the compressibility of TPC-H pages (LZ4 ratio around 2-3).
     */
    public static void fill(byte[] bytes, Random random)
    {
        int position = 0;
        while (position < bytes.length) {
            int kind = random.nextInt(4);
            int run = Math.min(bytes.length - position, 8 + random.nextInt(120));
            switch (kind) {
                case 0 -> {
                    // small integers, little-endian longs: mostly zero bytes
                    for (int i = 0; i < run; i++) {
                        bytes[position + i] = (i % 8 == 0) ? (byte) random.nextInt(100) : 0;
                    }
                }
                case 1 -> {
                    // a repeated token, like dictionary-ish strings
                    byte value = (byte) ('a' + random.nextInt(26));
                    for (int i = 0; i < run; i++) {
                        bytes[position + i] = (byte) (value + (i % 3));
                    }
                }
                default -> {
                    // noise
                    for (int i = 0; i < run; i++) {
                        bytes[position + i] = (byte) random.nextInt();
                    }
                }
            }
            position += run;
        }
    }
}
