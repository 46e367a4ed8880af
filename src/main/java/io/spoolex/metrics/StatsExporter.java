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

import com.google.inject.Inject;
import io.airlift.log.Logger;
import jakarta.annotation.PreDestroy;
import org.weakref.jmx.MBeanExporter;

import java.lang.management.ManagementFactory;

import static java.util.Objects.requireNonNull;

/**
 * Publishes {@link SpoolexStats} on the platform MBean server as {@code io.spoolex:type=SpoolexStats,name=<factory>}.
 * Several exchange managers in one JVM (a test cluster) share the name; the first one keeps it.
 */
public class StatsExporter
{
    private static final Logger log = Logger.get(StatsExporter.class);

    private final String objectName;
    private MBeanExporter exporter;

    public StatsExporter(String factoryName)
    {
        this.objectName = "io.spoolex:type=SpoolexStats,name=" + requireNonNull(factoryName, "factoryName is null");
    }

    @Inject
    public synchronized void export(SpoolexStats stats)
    {
        MBeanExporter candidate = new MBeanExporter(ManagementFactory.getPlatformMBeanServer());
        try {
            candidate.export(objectName, stats);
            exporter = candidate;
        }
        catch (RuntimeException e) {
            log.debug(e, "%s is already registered", objectName);
        }
    }

    @PreDestroy
    public synchronized void unexport()
    {
        if (exporter != null) {
            exporter.unexportAllAndReportMissing();
            exporter = null;
        }
    }
}
