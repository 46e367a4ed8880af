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

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Instant;
import java.util.regex.Matcher;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the orphan collector takes for Spoolex's spool data, and how old it judges it: the names
 * {@link SpoolLayout} makes, and nothing else.
 */
public class TestOrphanCollectorNames
{
    @Test
    public void testNamesSpoolexMakesAreRecognised()
    {
        URI directory = SpoolLayout.taskPartitionDirectory(URI.create("s3://bucket/spool/"), "20261202_064739_00012_abcde", "external-exchange-3", 17);
        String path = directory.getPath();
        String name = path.substring("/spool/".length(), path.length() - 1);
        Matcher matcher = SpoolLayout.TASK_PARTITION_DIRECTORY_NAME.matcher(name);
        assertThat(matcher.matches()).isTrue();
        assertThat(matcher.group("query")).isEqualTo("20261202_064739_00012_abcde");
        assertThat(matcher.group("exchange")).isEqualTo("external-exchange-3");
    }

    @Test
    public void testOtherNamesAreNot()
    {
        for (String name : new String[] {
                "backup",
                "0a1b2c.20200101_000000_00001_abcde.external-exchange-1.0.bak",
                "0A1B2C.20200101_000000_00001_abcde.external-exchange-1.0",
                "0a1b2.20200101_000000_00001_abcde.external-exchange-1.0",
                "0a1b2c.20200101_000000_00001_abcde.external-exchange-1",
                "0a1b2c..external-exchange-1.0",
                "0a1b2c.Query.external-exchange-1.0",
                ".0a1b2c.20200101_000000_00001_abcde.external-exchange-1.0",
        }) {
            assertThat(SpoolLayout.TASK_PARTITION_DIRECTORY_NAME.matcher(name).matches()).as(name).isFalse();
        }
    }

    @Test
    public void testAgeComesFromTrinoQueryIds()
    {
        assertThat(OrphanCollector.queryCreationTime("20261202_064739_00012_abcde")).contains(Instant.parse("2026-12-02T06:47:39Z"));
        // not made by Trino's id generator, or not a date: no age from the name
        assertThat(OrphanCollector.queryCreationTime("query_6c2c52ede00bb7be")).isEmpty();
        assertThat(OrphanCollector.queryCreationTime("20261302_064739_00012_abcde")).isEmpty();
        assertThat(OrphanCollector.queryCreationTime("20261202_064739")).isEmpty();
    }
}
