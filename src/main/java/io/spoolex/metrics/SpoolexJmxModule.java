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
package io.spoolex.metrics;

import com.google.inject.Binder;
import com.google.inject.Inject;
import com.google.inject.Module;
import jakarta.annotation.PreDestroy;
import org.weakref.jmx.MBeanExporter;
import org.weakref.jmx.ObjectNameGenerator;
import org.weakref.jmx.guice.MBeanModule;

import javax.management.MBeanServer;

import java.lang.management.ManagementFactory;
import java.util.TreeMap;

import static com.google.inject.multibindings.OptionalBinder.newOptionalBinder;
import static java.util.Objects.requireNonNull;

/**
 * JMX for one exchange manager: beans exported with {@code newExporter(binder).export(X.class).withGeneratedName()}
 * (here and in the storage backends' modules) appear as {@code io.spoolex:type=<class name>,name=<factory name>}
 * (with further key properties where the export names some),
 * e.g. {@code io.spoolex:type=SpoolexStats,name=filesystem}, and go away when the exchange manager shuts down.
 */
public final class SpoolexJmxModule
        implements Module
{
    private final String factoryName;
    private final RebindSafeMBeanServer mbeanServer = new RebindSafeMBeanServer(ManagementFactory.getPlatformMBeanServer());

    public SpoolexJmxModule(String factoryName)
    {
        this.factoryName = requireNonNull(factoryName, "factoryName is null");
    }

    /**
     * Takes out every bean this module's exchange manager registered: for an exchange manager that failed to start.
     */
    public void unregisterAll()
    {
        mbeanServer.unregisterAll();
    }

    @Override
    public void configure(Binder binder)
    {
        binder.install(new MBeanModule());
        binder.bind(MBeanServer.class).toInstance(mbeanServer.view());
        newOptionalBinder(binder, ObjectNameGenerator.class).setBinding().toInstance((type, properties) -> {
            StringBuilder name = new StringBuilder("io.spoolex:type=%s,name=%s".formatted(type.getSimpleName(), factoryName));
            // further key properties, e.g. the directory of a BaseDirectoryHealth bean (values quoted by the caller);
            // "name" is jmxutils' default property (the class name), which the factory's name stands in for here
            new TreeMap<>(properties).forEach((key, value) -> {
                if (!key.equals("name")) {
                    name.append(',').append(key).append('=').append(value);
                }
            });
            return name.toString();
        });
        binder.bind(Unexporter.class).asEagerSingleton();
    }

    /**
     * Takes this manager's beans out of the MBean server when the exchange manager shuts down.
     */
    static final class Unexporter
    {
        private final MBeanExporter exporter;

        @Inject
        Unexporter(MBeanExporter exporter)
        {
            this.exporter = requireNonNull(exporter, "exporter is null");
        }

        @PreDestroy
        public void unexport()
        {
            exporter.unexportAllAndReportMissing();
        }
    }
}
