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
package io.spoolex.plugin;

import io.spoolex.plugin.PluginArchive.BuiltArchive;
import io.spoolex.plugin.PluginArchive.LoadedPlugin;
import io.spoolex.storage.hdfs.HdfsMiniCluster;
import io.trino.plugin.exchange.filesystem.AbstractTestExchangeManager;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerFactory;
import org.junit.jupiter.api.AfterAll;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Trino 483's own exchange-manager suite against the built exchange-hdfs archive, loaded as a Trino server loads
 * it, with factory {@code hdfs} on a real HDFS (a MiniDFSCluster in this JVM, on the test class path's own Hadoop;
 * the plugin uses the Hadoop jars of its archive, in its class loader), two base directories and the settings of
 * Trino's own exchange-manager tests.
 */
public class TrinoExchangeSuiteOnHdfsIT
        extends AbstractTestExchangeManager
{
    private ExchangeManager manager;

    @Override
    protected ExchangeManager createExchangeManager()
    {
        HdfsMiniCluster cluster = HdfsMiniCluster.shared();
        LoadedPlugin plugin = PluginArchive.unpackBuiltArchive(BuiltArchive.EXCHANGE_HDFS).load();
        // the archive registers hdfs and nothing else, so that it sits beside exchange-filesystem/ on a server
        assertThat(plugin.exchangeManagerFactories()).extracting(ExchangeManagerFactory::getName).containsExactly("hdfs");
        manager = plugin.createExchangeManager("hdfs", Map.of(
                "exchange.base-directories", cluster.uri() + "/trino-suite/one," + cluster.uri() + "/trino-suite/two",
                "hdfs.config.resources", cluster.coreSite().toString(),
                "exchange.sink-max-file-size", "16MB",
                "exchange.source-handle-target-data-size", "1MB"));
        return manager;
    }

    @AfterAll
    public void shutDownManager()
    {
        if (manager != null) {
            manager.shutdown();
        }
    }
}
