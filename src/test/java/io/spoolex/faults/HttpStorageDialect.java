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

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * What the fault proxy needs to know about one storage's HTTP API: which operation a request is, what kind of
 * request that is, and how the storage words an error answer. S3 has one ({@code S3HttpDialect}); another HTTP
 * storage (Azure Blob, say) adds its own and runs the same fault scenarios.
 */
public interface HttpStorageDialect
{
    /**
     * The storage operation of a request (e.g. {@code UploadPart}), from its method, target and headers.
     */
    String operation(String method, String target, Map<String, String> headers);

    RequestKind kind(String operation);

    /**
     * The answer the storage would give for this error.
     */
    ErrorResponse errorResponse(HttpFault.ErrorKind error);

    record ErrorResponse(int status, String reason, String contentType, byte[] body)
    {
        public ErrorResponse
        {
            requireNonNull(reason, "reason is null");
            requireNonNull(contentType, "contentType is null");
            requireNonNull(body, "body is null");
        }

        public static ErrorResponse xml(int status, String reason, String xml)
        {
            return new ErrorResponse(status, reason, "application/xml", xml.getBytes(StandardCharsets.UTF_8));
        }
    }
}
