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

import io.spoolex.faults.HttpFault;
import io.spoolex.faults.HttpStorageDialect;
import io.spoolex.faults.RequestKind;

import java.util.Map;

import static io.spoolex.faults.FaultInjectingHttpProxy.Request.hasQueryParameter;

/**
 * The S3 API as the fault proxy sees it (path-style addressing): operations by method and query, their kinds, and
 * S3's XML error documents.
 */
public final class S3HttpDialect
        implements HttpStorageDialect
{
    public static final S3HttpDialect S3 = new S3HttpDialect();

    private S3HttpDialect() {}

    @Override
    public String operation(String method, String target, Map<String, String> headers)
    {
        return switch (method) {
            case "PUT" -> hasQueryParameter(target, "uploadId") ? "UploadPart" : isBucket(target) ? "CreateBucket" : "PutObject";
            case "POST" -> hasQueryParameter(target, "uploads") ? "CreateMultipartUpload"
                    : hasQueryParameter(target, "uploadId") ? "CompleteMultipartUpload"
                      : hasQueryParameter(target, "delete") ? "DeleteObjects" : "POST";
            case "GET" -> hasQueryParameter(target, "uploads") ? "ListMultipartUploads"
                    : hasQueryParameter(target, "list-type") ? "ListObjectsV2"
                      : target.equals("/") ? "ListBuckets" : "GetObject";
            case "DELETE" -> hasQueryParameter(target, "uploadId") ? "AbortMultipartUpload" : "DeleteObject";
            case "HEAD" -> "HeadObject";
            default -> method;
        };
    }

    /**
     * A path-style target naming only a bucket: {@code /bucket} or {@code /bucket?...}.
     */
    private static boolean isBucket(String target)
    {
        int query = target.indexOf('?');
        String path = query < 0 ? target : target.substring(0, query);
        return path.lastIndexOf('/') == 0;
    }

    @Override
    public RequestKind kind(String operation)
    {
        return switch (operation) {
            case "PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload" -> RequestKind.WRITE;
            case "GetObject", "HeadObject" -> RequestKind.READ;
            case "ListObjectsV2", "ListMultipartUploads" -> RequestKind.LIST;
            case "DeleteObjects", "DeleteObject", "AbortMultipartUpload" -> RequestKind.DELETE;
            default -> RequestKind.OTHER;
        };
    }

    @Override
    public ErrorResponse errorResponse(HttpFault.ErrorKind error)
    {
        return switch (error) {
            case SLOW_DOWN -> error(503, "Slow Down", "SlowDown", "Please reduce your request rate.");
            case TOO_MANY_REQUESTS -> error(429, "Too Many Requests", "SlowDown", "Please reduce your request rate.");
            case INTERNAL_ERROR -> error(500, "Internal Server Error", "InternalError", "We encountered an internal error. Please try again.");
            case SERVICE_UNAVAILABLE -> error(503, "Service Unavailable", "ServiceUnavailable", "Service is unable to handle request.");
        };
    }

    @Override
    public ErrorResponse answer(int status, String reason, String errorCode)
    {
        return error(status, reason, errorCode, reason);
    }

    private static ErrorResponse error(int status, String reason, String code, String message)
    {
        return ErrorResponse.xml(status, reason, Map.of("x-amz-request-id", "fault-proxy"), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message><RequestId>fault-proxy</RequestId></Error>".formatted(code, message));
    }
}
