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

import io.trino.spi.exchange.ExchangeManager;
import org.junit.jupiter.api.Test;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the built archive tells an operator about itself: the jar manifest's version and commit, and the same
 * version exported over JMX by an exchange manager loaded from the archive as Trino loads it (so the version
 * resource is found through the plugin class loader).
 */
public class PluginVersionIT
{
    @Test
    public void testManifestAndJmxNameTheBuild()
            throws IOException
    {
        PluginArchive archive = PluginArchive.unpackBuiltArchive();
        Path jar = archive.files().stream()
                .filter(file -> file.getFileName().toString().matches("spoolex-[^-]+.*\\.jar") && !file.getFileName().toString().endsWith("-services.jar"))
                .findFirst()
                .orElseThrow();
        String version;
        String commit;
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            version = manifest.getMainAttributes().getValue("Implementation-Version");
            commit = manifest.getMainAttributes().getValue("Spoolex-Commit");
        }
        assertThat(version).isNotBlank().doesNotContain("$");
        assertThat(commit).isNotBlank().doesNotContain("$");

        Path directory = Files.createTempDirectory("spoolex-version");
        ExchangeManager manager = archive.load().createExchangeManager("filesystem", Map.of(
                "exchange.base-directories", directory.toString(),
                "exchange.startup-check", "OFF"));
        try {
            assertThat(jmxAttribute("io.spoolex:type=SpoolexStats,name=filesystem", "Version")).isEqualTo("%s (commit %s)".formatted(version, commit));
        }
        finally {
            manager.shutdown();
        }
    }

    private static Object jmxAttribute(String name, String attribute)
    {
        try {
            MBeanServer server = ManagementFactory.getPlatformMBeanServer();
            return server.getAttribute(new ObjectName(name), attribute);
        }
        catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
