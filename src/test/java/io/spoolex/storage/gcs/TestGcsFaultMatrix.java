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
package io.spoolex.storage.gcs;

import io.spoolex.faults.FaultScenario;
import io.spoolex.faults.FaultScenarios;
import org.junit.jupiter.api.Tag;

import java.util.List;

/**
 * Every fault scenario on the native GCS mode (the test tree's JSON-API server), tagged {@code fault-matrix} and left
 * out of the default run (see docs/reliability.md for the command).
 */
@Tag("fault-matrix")
public class TestGcsFaultMatrix
        extends TestGcsFaultScenarios
{
    @Override
    protected List<FaultScenario> scenarios()
    {
        return FaultScenarios.all();
    }
}
