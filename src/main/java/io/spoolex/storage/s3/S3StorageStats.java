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

import io.airlift.stats.CounterStat;
import org.weakref.jmx.Managed;
import org.weakref.jmx.Nested;

/**
 * S3 requests of one exchange manager, exported over JMX as {@code io.spoolex:type=S3StorageStats,name=<factory>}.
 * Request counters count API calls as Spoolex makes them (a call retried three times counts once there, and three
 * times in {@link #getAttempts()}, twice in {@link #getRetries()}); {@link #getThrottled()} counts 503 SlowDown and
 * 429 answers, each of which is retried with backoff while the retry policy allows.
 */
public class S3StorageStats
{
    private final CounterStat putObject = new CounterStat();
    private final CounterStat createMultipartUpload = new CounterStat();
    private final CounterStat uploadPart = new CounterStat();
    private final CounterStat completeMultipartUpload = new CounterStat();
    private final CounterStat abortMultipartUpload = new CounterStat();
    private final CounterStat getObject = new CounterStat();
    private final CounterStat listObjects = new CounterStat();
    private final CounterStat listMultipartUploads = new CounterStat();
    private final CounterStat deleteObjects = new CounterStat();
    private final CounterStat deleteObject = new CounterStat();
    private final CounterStat otherRequests = new CounterStat();

    private final CounterStat attempts = new CounterStat();
    private final CounterStat retries = new CounterStat();
    private final CounterStat throttled = new CounterStat();
    private final CounterStat serverErrors = new CounterStat();
    private final CounterStat failedRequests = new CounterStat();

    private final CounterStat uploadedBytes = new CounterStat();
    private final CounterStat downloadedBytes = new CounterStat();
    private final CounterStat deletedObjects = new CounterStat();
    private final CounterStat abortedUploadsFoundByCleanup = new CounterStat();

    @Managed
    @Nested
    public CounterStat getPutObject()
    {
        return putObject;
    }

    @Managed
    @Nested
    public CounterStat getCreateMultipartUpload()
    {
        return createMultipartUpload;
    }

    @Managed
    @Nested
    public CounterStat getUploadPart()
    {
        return uploadPart;
    }

    @Managed
    @Nested
    public CounterStat getCompleteMultipartUpload()
    {
        return completeMultipartUpload;
    }

    @Managed
    @Nested
    public CounterStat getAbortMultipartUpload()
    {
        return abortMultipartUpload;
    }

    @Managed
    @Nested
    public CounterStat getGetObject()
    {
        return getObject;
    }

    @Managed
    @Nested
    public CounterStat getListObjects()
    {
        return listObjects;
    }

    @Managed
    @Nested
    public CounterStat getListMultipartUploads()
    {
        return listMultipartUploads;
    }

    @Managed
    @Nested
    public CounterStat getDeleteObjects()
    {
        return deleteObjects;
    }

    @Managed
    @Nested
    public CounterStat getDeleteObject()
    {
        return deleteObject;
    }

    @Managed
    @Nested
    public CounterStat getOtherRequests()
    {
        return otherRequests;
    }

    @Managed
    @Nested
    public CounterStat getAttempts()
    {
        return attempts;
    }

    @Managed
    @Nested
    public CounterStat getRetries()
    {
        return retries;
    }

    @Managed
    @Nested
    public CounterStat getThrottled()
    {
        return throttled;
    }

    @Managed
    @Nested
    public CounterStat getServerErrors()
    {
        return serverErrors;
    }

    @Managed
    @Nested
    public CounterStat getFailedRequests()
    {
        return failedRequests;
    }

    @Managed
    @Nested
    public CounterStat getUploadedBytes()
    {
        return uploadedBytes;
    }

    @Managed
    @Nested
    public CounterStat getDownloadedBytes()
    {
        return downloadedBytes;
    }

    @Managed
    @Nested
    public CounterStat getDeletedObjects()
    {
        return deletedObjects;
    }

    @Managed
    @Nested
    public CounterStat getAbortedUploadsFoundByCleanup()
    {
        return abortedUploadsFoundByCleanup;
    }
}
