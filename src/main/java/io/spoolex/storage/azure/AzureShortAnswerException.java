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
package io.spoolex.storage.azure;

/**
 * An answer that ended before what it promised: a ranged read with fewer bytes than its range, from a blob of the
 * right size. Another attempt gets the whole answer, so it is retried.
 */
final class AzureShortAnswerException
        extends RuntimeException
{
    AzureShortAnswerException(String message)
    {
        super(message);
    }
}
