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
package io.spoolex.exchange;

import com.google.inject.Injector;
import io.airlift.bootstrap.Bootstrap;
import io.trino.spi.exchange.ExchangeManager;
import io.trino.spi.exchange.ExchangeManagerContext;
import io.trino.spi.exchange.ExchangeManagerFactory;

import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * {@code exchange-manager.name=filesystem} or {@code hdfs}: builds an exchange manager from
 * {@code etc/exchange-manager.properties}. Unknown or invalid properties fail here, naming the property.
 */
public class SpoolexExchangeManagerFactory
        implements ExchangeManagerFactory
{
    private final String name;

    public SpoolexExchangeManagerFactory(String name)
    {
        this.name = requireNonNull(name, "name is null");
    }

    @Override
    public String getName()
    {
        return name;
    }

    @Override
    public ExchangeManager create(Map<String, String> config, ExchangeManagerContext context)
    {
        requireNonNull(config, "config is null");
        Bootstrap app = new Bootstrap("io.spoolex.bootstrap." + name, new SpoolexModule(name));
        Injector injector = app
                .doNotInitializeLogging()
                .disableSystemProperties()
                .setRequiredConfigurationProperties(config)
                .initialize();
        return injector.getInstance(SpoolexExchangeManager.class);
    }
}
