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

import com.google.common.collect.ImmutableList;
import io.spoolex.exchange.SpoolexExchangeManagerFactory;
import io.spoolex.storage.hdfs.HdfsStorageBackend;
import io.trino.spi.Plugin;
import io.trino.spi.exchange.ExchangeManagerFactory;

/**
 * The Trino plugin of {@code plugin/exchange-hdfs/}: registers the {@code hdfs} exchange manager, whose only storage
 * is HDFS through Hadoop's client. It lives in the same jar as {@link SpoolexPlugin} but in an archive of its own,
 * whose services file names only this class and which alone carries the Hadoop jars; so each plugin folder
 * registers one name and the two folders side by side register each name once.
 */
public class SpoolexHdfsPlugin
        implements Plugin
{
    public static final String HDFS_FACTORY = "hdfs";

    @Override
    public Iterable<ExchangeManagerFactory> getExchangeManagerFactories()
    {
        return ImmutableList.of(new SpoolexExchangeManagerFactory(HDFS_FACTORY, ImmutableList.of(new HdfsStorageBackend())));
    }
}
