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
package io.spoolex.storage;

import java.io.IOException;
import java.util.Optional;

/**
 * A ranged read whose answer ended before the bytes it asked for, from an object or blob known (by the size it
 * reported) to hold them: the answer was cut on the way, and another attempt can get all of it. Every backend raises
 * this one exception and classifies it as transient, with its message as the status.
 */
public final class ShortAnswerException
        extends IOException
{
    public ShortAnswerException(long received, long asked, long position)
    {
        super("short answer: %s of %s bytes at offset %s".formatted(received, asked, position));
    }

    /**
     * A transient failure with the short answer's message as its status, if one is among {@code failure}'s causes:
     * the one rule every backend's classification applies first.
     */
    public static Optional<RequestFailure> classify(Throwable failure)
    {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof ShortAnswerException shortAnswer) {
                return Optional.of(new RequestFailure(RequestFailure.Kind.TRANSIENT, shortAnswer.getMessage()));
            }
        }
        return Optional.empty();
    }
}
