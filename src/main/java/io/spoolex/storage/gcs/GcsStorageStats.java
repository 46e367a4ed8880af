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
package io.spoolex.storage.gcs;

import io.airlift.stats.CounterStat;
import org.weakref.jmx.Managed;
import org.weakref.jmx.Nested;

/**
 * GCS JSON-API requests of one exchange manager, exported over JMX as
 * {@code io.spoolex:type=GcsStorageStats,name=<factory>}. Request counters count calls as Spoolex makes them (a call
 * retried counts once there and once more in {@link #getRetries()} for each retry); a resumable upload counts its
 * chunks in {@link #getUploadChunks()} (the client library retries those itself).
 */
public class GcsStorageStats
{
    private final CounterStat singleUploads = new CounterStat();
    private final CounterStat resumableUploads = new CounterStat();
    private final CounterStat uploadChunks = new CounterStat();
    private final CounterStat reads = new CounterStat();
    private final CounterStat metadataReads = new CounterStat();
    private final CounterStat listings = new CounterStat();
    private final CounterStat batchRequests = new CounterStat();
    private final CounterStat singleDeletes = new CounterStat();
    private final CounterStat retries = new CounterStat();
    private final CounterStat throttled = new CounterStat();
    private final CounterStat failedRequests = new CounterStat();
    private final CounterStat uploadedBytes = new CounterStat();
    private final CounterStat downloadedBytes = new CounterStat();
    private final CounterStat deletedObjects = new CounterStat();

    @Managed
    @Nested
    public CounterStat getSingleUploads()
    {
        return singleUploads;
    }

    @Managed
    @Nested
    public CounterStat getResumableUploads()
    {
        return resumableUploads;
    }

    @Managed
    @Nested
    public CounterStat getUploadChunks()
    {
        return uploadChunks;
    }

    @Managed
    @Nested
    public CounterStat getReads()
    {
        return reads;
    }

    @Managed
    @Nested
    public CounterStat getMetadataReads()
    {
        return metadataReads;
    }

    @Managed
    @Nested
    public CounterStat getListings()
    {
        return listings;
    }

    @Managed
    @Nested
    public CounterStat getBatchRequests()
    {
        return batchRequests;
    }

    @Managed
    @Nested
    public CounterStat getSingleDeletes()
    {
        return singleDeletes;
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
}
