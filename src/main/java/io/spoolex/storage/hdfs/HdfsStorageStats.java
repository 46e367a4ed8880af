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
package io.spoolex.storage.hdfs;

import io.airlift.stats.CounterStat;
import org.weakref.jmx.Managed;
import org.weakref.jmx.Nested;

/**
 * HDFS work of one exchange manager, exported over JMX as {@code io.spoolex:type=HdfsStorageStats,name=hdfs}.
 * Operations count the calls Spoolex makes through Hadoop's client (which may retry RPCs inside one call);
 * {@link #getUnreachable()} counts the calls that failed because the namenode (or a datanode) could not be reached.
 */
public class HdfsStorageStats
{
    private final CounterStat filesWritten = new CounterStat();
    private final CounterStat writtenBytes = new CounterStat();
    private final CounterStat writesAborted = new CounterStat();
    private final CounterStat filesOpened = new CounterStat();
    private final CounterStat reads = new CounterStat();
    private final CounterStat readBytes = new CounterStat();
    private final CounterStat directoriesDeleted = new CounterStat();
    private final CounterStat listings = new CounterStat();
    private final CounterStat failedOperations = new CounterStat();
    private final CounterStat unreachable = new CounterStat();

    @Managed
    @Nested
    public CounterStat getFilesWritten()
    {
        return filesWritten;
    }

    @Managed
    @Nested
    public CounterStat getWrittenBytes()
    {
        return writtenBytes;
    }

    @Managed
    @Nested
    public CounterStat getWritesAborted()
    {
        return writesAborted;
    }

    @Managed
    @Nested
    public CounterStat getFilesOpened()
    {
        return filesOpened;
    }

    @Managed
    @Nested
    public CounterStat getReads()
    {
        return reads;
    }

    @Managed
    @Nested
    public CounterStat getReadBytes()
    {
        return readBytes;
    }

    @Managed
    @Nested
    public CounterStat getDirectoriesDeleted()
    {
        return directoriesDeleted;
    }

    @Managed
    @Nested
    public CounterStat getListings()
    {
        return listings;
    }

    @Managed
    @Nested
    public CounterStat getFailedOperations()
    {
        return failedOperations;
    }

    @Managed
    @Nested
    public CounterStat getUnreachable()
    {
        return unreachable;
    }
}
