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

import io.airlift.slice.Slice;
import io.airlift.slice.Slices;

import java.util.function.Consumer;

import static io.spoolex.format.SpoolFileFormat.INT_LE;
import static io.spoolex.format.SpoolFileFormat.PAGE_LENGTH_BYTES;
import static io.spoolex.format.SpoolFileFormat.corrupted;
import static java.lang.Math.min;
import static java.util.Objects.requireNonNull;

/**
 * Cuts the raw bytes of a file's blocks, in order, back into the pages the sink was given: each record is a
 * 4-byte little-endian length and that many bytes. A page that lies inside one block is handed on as a view of
 * it. A page that spans blocks gets an array of its own: blocks that hold nothing but its bytes are decoded straight
 * into it (see {@link #destination}), the parts of other blocks are copied in.
 */
public final class PageAssembler
        implements SpoolFileDecoder.BlockSink
{
    private final String fileName;
    private final int maxPageBytes;
    private final Consumer<Slice> output;

    private final byte[] lengthBytes = new byte[PAGE_LENGTH_BYTES];
    private int lengthBytesRead;
    private byte[] page;
    private int pageBytesRead;
    private long pages;

    /**
     * {@code output} receives the pages, in order.
     */
    public PageAssembler(String fileName, int maxPageBytes, Consumer<Slice> output)
    {
        this.fileName = requireNonNull(fileName, "fileName is null");
        this.maxPageBytes = maxPageBytes;
        this.output = requireNonNull(output, "output is null");
    }

    /**
     * The unfilled part of the page being assembled, if the next block's {@code rawLength} bytes all belong to it:
     * decoded there, they need no block buffer and no copy.
     */
    @Override
    public Slice destination(int rawLength)
    {
        if (page == null || page.length - pageBytesRead < rawLength) {
            return null;
        }
        return Slices.wrappedBuffer(page, pageBytesRead, rawLength);
    }

    @Override
    public void accept(Slice block)
    {
        byte[] buffer = block.byteArray();
        int position = block.byteArrayOffset();
        int end = position + block.length();
        while (position < end) {
            if (page != null) {
                int length = min(page.length - pageBytesRead, end - position);
                if (buffer != page || position != pageBytesRead) {
                    System.arraycopy(buffer, position, page, pageBytesRead, length);
                }
                // else: the block was decoded into its place in the page (see destination)
                pageBytesRead += length;
                position += length;
                if (pageBytesRead == page.length) {
                    emit(Slices.wrappedBuffer(page));
                    page = null;
                }
                continue;
            }
            if (lengthBytesRead > 0 || end - position < PAGE_LENGTH_BYTES) {
                int length = min(PAGE_LENGTH_BYTES - lengthBytesRead, end - position);
                System.arraycopy(buffer, position, lengthBytes, lengthBytesRead, length);
                lengthBytesRead += length;
                position += length;
                if (lengthBytesRead == PAGE_LENGTH_BYTES) {
                    lengthBytesRead = 0;
                    startPage((int) INT_LE.get(lengthBytes, 0));
                }
                continue;
            }
            int pageLength = checkedLength((int) INT_LE.get(buffer, position));
            position += PAGE_LENGTH_BYTES;
            if (end - position >= pageLength) {
                emit(Slices.wrappedBuffer(buffer, position, pageLength));
                position += pageLength;
            }
            else {
                startPage(pageLength);
            }
        }
    }

    /**
     * Verifies that the file ended between pages.
     */
    public void finish()
    {
        if (page != null || lengthBytesRead > 0) {
            throw corrupted(fileName, "its data ends inside a page");
        }
    }

    public long pages()
    {
        return pages;
    }

    private void startPage(int length)
    {
        int pageLength = checkedLength(length);
        if (pageLength == 0) {
            emit(Slices.EMPTY_SLICE);
            return;
        }
        page = new byte[pageLength];
        pageBytesRead = 0;
    }

    private int checkedLength(int length)
    {
        if (length < 0 || length > maxPageBytes) {
            throw corrupted(fileName, "a page of %s bytes is outside 0..%s (exchange.max-page-storage-size less its 4-byte length)", length, maxPageBytes);
        }
        return length;
    }

    private void emit(Slice slice)
    {
        pages++;
        output.accept(slice);
    }
}
