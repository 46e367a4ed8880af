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

import com.google.common.io.MoreFiles;
import org.junit.jupiter.api.BeforeEach;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static com.google.common.io.RecursiveDeleteOption.ALLOW_INSECURE;

/**
 * The exchange contract on the local file system, with two base directories (one as a file: URI, one as a path).
 */
public class TestLocalExchangeContract
        extends AbstractExchangeContractTest
{
    private Path root;
    private Path first;
    private Path second;

    @BeforeEach
    public void createDirectories()
            throws IOException
    {
        root = Files.createTempDirectory("spoolex-contract");
        first = Files.createDirectories(root.resolve("first"));
        second = Files.createDirectories(root.resolve("second"));
    }

    @Override
    protected void cleanUpStorage()
    {
        try {
            MoreFiles.deleteRecursively(root, ALLOW_INSECURE);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected Map<String, String> storageProperties()
    {
        return Map.of("exchange.base-directories", first.toUri() + "," + second);
    }

    @Override
    protected List<URI> listStoredFiles()
    {
        while (true) {
            try {
                return walkStoredFiles();
            }
            catch (UncheckedIOException e) {
                // a directory vanished during the walk: an exchange's asynchronous delete is running; look again
                if (!(e.getCause() instanceof NoSuchFileException)) {
                    throw e;
                }
            }
        }
    }

    private List<URI> walkStoredFiles()
    {
        List<URI> files = new ArrayList<>();
        for (Path directory : List.of(first, second)) {
            try (Stream<Path> paths = Files.walk(directory)) {
                paths.filter(Files::isRegularFile).forEach(path -> files.add(path.toUri()));
            }
            catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return files;
    }

    @Override
    protected byte[] readStoredFile(URI file)
    {
        try {
            return Files.readAllBytes(Path.of(file));
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected void writeStoredFile(URI file, byte[] content)
    {
        try {
            Files.createDirectories(Path.of(file).getParent());
            Files.write(Path.of(file), content);
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    protected void deleteStoredFile(URI file)
    {
        try {
            Files.delete(Path.of(file));
        }
        catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
