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
package io.spoolex.trino;

import io.airlift.log.Logging;
import io.airlift.log.LoggingConfiguration;

import java.nio.file.Path;

/**
 * What the command-line programs that run a Trino cluster (the demo, the query benchmark) share.
 */
public final class CommandLineTools
{
    private CommandLineTools() {}

    /**
     * The value of the option at {@code index - 1}.
     */
    public static String argument(String[] args, int index)
    {
        if (index >= args.length) {
            throw new IllegalArgumentException("%s needs a value".formatted(args[index - 1]));
        }
        return args[index];
    }

    /**
     * Sends Trino's log to {@code log} instead of the console: Trino logs a lot, the terminal is for the program's own lines.
     */
    public static void quietLogging(Path log)
    {
        LoggingConfiguration configuration = new LoggingConfiguration();
        configuration.setConsoleEnabled(false);
        configuration.setLogPath(log.toAbsolutePath().toString());
        Logging.initialize().configure(configuration);
    }
}
