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
package io.spoolex;

import io.trino.spi.ErrorCode;
import io.trino.spi.ErrorCodeSupplier;
import io.trino.spi.ErrorType;

import static io.trino.spi.ErrorType.EXTERNAL;
import static io.trino.spi.ErrorType.USER_ERROR;

/**
 * Error codes Spoolex reports to the engine. The first matches Trino's filesystem exchange manager exactly;
 * the rest are EXTERNAL, which fault-tolerant execution retries (a USER_ERROR would fail the query at once).
 */
public enum SpoolexErrorCode
        implements ErrorCodeSupplier
{
    MAX_OUTPUT_PARTITION_COUNT_EXCEEDED(0, USER_ERROR),
    SPOOL_FILE_CORRUPTED(1, EXTERNAL),
    SPOOL_FILE_NOT_FOUND(2, EXTERNAL),
    SPOOL_STORAGE_ERROR(3, EXTERNAL),
    SPOOL_COMMIT_MISSING(4, EXTERNAL),
    /**/;

    private final ErrorCode errorCode;

    SpoolexErrorCode(int code, ErrorType type)
    {
        errorCode = new ErrorCode(code + 0x0510_0000, name(), type);
    }

    @Override
    public ErrorCode toErrorCode()
    {
        return errorCode;
    }
}
