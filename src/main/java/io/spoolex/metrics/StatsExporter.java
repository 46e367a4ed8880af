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
import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Publishes {@link SpoolexStats} on the platform MBean server as {@code io.spoolex:type=SpoolexStats,name=<factory>},
 * and the storage's statistics beside it ({@code io.spoolex:type=S3StorageStats,name=<factory>}, ...).
 * Several exchange managers in one JVM (a test cluster) share the names; the first one keeps them.
 */
public class StatsExporter
{
    private static final Logger log = Logger.get(StatsExporter.class);

    private final String factoryName;
    private final List<MBeanExporter> exporters = new ArrayList<>();

    public StatsExporter(String factoryName)
    {
        this.factoryName = requireNonNull(factoryName, "factoryName is null");
    }

    @Inject
    public void export(SpoolexStats stats)
    {
        export("SpoolexStats", stats);
    }

    /** Publishes {@code stats} (an object with {@code @Managed} getters) as {@code io.spoolex:type=<type>,name=<factory>}. */
    public synchronized void export(String type, Object stats)
    {
        String objectName = "io.spoolex:type=%s,name=%s".formatted(type, factoryName);
        MBeanExporter candidate = new MBeanExporter(ManagementFactory.getPlatformMBeanServer());
        try {
            candidate.export(objectName, stats);
            exporters.add(candidate);
        }
        catch (RuntimeException e) {
            log.debug(e, "%s is already registered", objectName);
        }
    }

    @PreDestroy
    public synchronized void unexport()
    {
        exporters.forEach(MBeanExporter::unexportAllAndReportMissing);
        exporters.clear();
    }
}
