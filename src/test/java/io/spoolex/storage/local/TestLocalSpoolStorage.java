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
package io.spoolex.storage.local;

import io.spoolex.storage.AbstractSpoolStorageTest;
import io.spoolex.storage.SpoolStorageBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The storage contract on the local file system, two base directories under a temporary directory.
 */
public class TestLocalSpoolStorage
        extends AbstractSpoolStorageTest
{
    private static Path root;

    @BeforeAll
    public static void createRoot()
            throws IOException
    {
        root = Files.createTempDirectory("spoolex-local-storage");
    }

    @AfterAll
    public static void deleteRoot()
            throws IOException
    {
        LocalSpoolStorage.deleteTree(root);
    }

    @Override
    protected SpoolStorageBackend backend()
    {
        return new LocalStorageBackend();
    }

    @Override
    protected List<String> baseDirectories()
    {
        return List.of(root.resolve("a").toString(), root.resolve("b").toUri().toString());
    }

    @Override
    protected Map<String, String> backendProperties()
    {
        return Map.of();
    }
}
