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
package io.spoolex.storage.azure;

import io.airlift.stats.CounterStat;
import org.weakref.jmx.Managed;
import org.weakref.jmx.Nested;

/**
 * Azure Storage requests by operation, attempts and their outcomes, and bytes moved, exported as
 * {@code io.spoolex:type=AzureStorageStats,name=<factory>}.
 */
public class AzureStorageStats
{
    private final CounterStat putBlob = new CounterStat();
    private final CounterStat putBlock = new CounterStat();
    private final CounterStat putBlockList = new CounterStat();
    private final CounterStat getBlob = new CounterStat();
    private final CounterStat getBlobProperties = new CounterStat();
    private final CounterStat listBlobs = new CounterStat();
    private final CounterStat blobBatch = new CounterStat();
    private final CounterStat deleteBlob = new CounterStat();
    private final CounterStat getAccountInformation = new CounterStat();
    private final CounterStat deletePath = new CounterStat();
    private final CounterStat listPaths = new CounterStat();
    private final CounterStat otherRequests = new CounterStat();

    private final CounterStat attempts = new CounterStat();
    private final CounterStat retries = new CounterStat();
    private final CounterStat throttled = new CounterStat();
    private final CounterStat serverErrors = new CounterStat();
    private final CounterStat failedRequests = new CounterStat();
    private final CounterStat uploadedBytes = new CounterStat();
    private final CounterStat downloadedBytes = new CounterStat();
    private final CounterStat deletedBlobs = new CounterStat();
    private final CounterStat deletedDirectories = new CounterStat();
    private final CounterStat connectionWaits = new CounterStat();
    private final CounterStat connectionAcquireFailures = new CounterStat();

    /**
     * Counts one request (not its retries) by its operation.
     */
    void recordRequest(AzureOperation operation)
    {
        CounterStat counter = switch (operation) {
            case PUT_BLOB -> putBlob;
            case PUT_BLOCK -> putBlock;
            case PUT_BLOCK_LIST -> putBlockList;
            case GET_BLOB -> getBlob;
            case GET_BLOB_PROPERTIES -> getBlobProperties;
            case LIST_BLOBS -> listBlobs;
            case BLOB_BATCH -> blobBatch;
            case DELETE_BLOB -> deleteBlob;
            case GET_ACCOUNT_INFORMATION -> getAccountInformation;
            case DELETE_PATH -> deletePath;
            case LIST_PATHS -> listPaths;
            case OTHER -> otherRequests;
        };
        counter.update(1);
    }

    @Managed
    @Nested
    public CounterStat getPutBlob()
    {
        return putBlob;
    }

    @Managed
    @Nested
    public CounterStat getPutBlock()
    {
        return putBlock;
    }

    @Managed
    @Nested
    public CounterStat getPutBlockList()
    {
        return putBlockList;
    }

    @Managed
    @Nested
    public CounterStat getGetBlob()
    {
        return getBlob;
    }

    @Managed
    @Nested
    public CounterStat getGetBlobProperties()
    {
        return getBlobProperties;
    }

    @Managed
    @Nested
    public CounterStat getListBlobs()
    {
        return listBlobs;
    }

    @Managed
    @Nested
    public CounterStat getBlobBatch()
    {
        return blobBatch;
    }

    @Managed
    @Nested
    public CounterStat getDeleteBlob()
    {
        return deleteBlob;
    }

    @Managed
    @Nested
    public CounterStat getGetAccountInformation()
    {
        return getAccountInformation;
    }

    @Managed
    @Nested
    public CounterStat getDeletePath()
    {
        return deletePath;
    }

    @Managed
    @Nested
    public CounterStat getListPaths()
    {
        return listPaths;
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
    public CounterStat getDeletedBlobs()
    {
        return deletedBlobs;
    }

    @Managed
    @Nested
    public CounterStat getDeletedDirectories()
    {
        return deletedDirectories;
    }

    @Managed
    @Nested
    public CounterStat getConnectionWaits()
    {
        return connectionWaits;
    }

    @Managed
    @Nested
    public CounterStat getConnectionAcquireFailures()
    {
        return connectionAcquireFailures;
    }
}
