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

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The Azure Storage REST operations Spoolex sends, told apart by method and query as the service does.
 */
public enum AzureOperation
{
    PUT_BLOB,
    PUT_BLOCK,
    PUT_BLOCK_LIST,
    GET_BLOB,
    GET_BLOB_PROPERTIES,
    LIST_BLOBS,
    BLOB_BATCH,
    DELETE_BLOB,
    GET_ACCOUNT_INFORMATION,
    /**
     * ADLS Gen2 (DFS endpoint): Path - Delete, recursive for a directory.
     */
    DELETE_PATH,
    /**
     * ADLS Gen2 (DFS endpoint): Path - List.
     */
    LIST_PATHS,
    OTHER;

    /**
     * @param query the raw query string of the request URL, or null
     */
    public static AzureOperation of(String method, String query)
    {
        Map<String, String> parameters = parameters(query);
        String comp = parameters.getOrDefault("comp", "");
        String restype = parameters.getOrDefault("restype", "");
        if (restype.equals("account") && comp.equals("properties")) {
            return GET_ACCOUNT_INFORMATION;
        }
        return switch (method.toUpperCase(Locale.ENGLISH)) {
            case "PUT" -> switch (comp) {
                case "" -> PUT_BLOB;
                case "block" -> PUT_BLOCK;
                case "blocklist" -> PUT_BLOCK_LIST;
                default -> OTHER;
            };
            case "GET" -> {
                if (restype.equals("container") && comp.equals("list")) {
                    yield LIST_BLOBS;
                }
                if (parameters.containsKey("resource")) {
                    yield LIST_PATHS;
                }
                yield comp.isEmpty() && restype.isEmpty() ? GET_BLOB : OTHER;
            }
            case "HEAD" -> comp.isEmpty() && restype.isEmpty() ? GET_BLOB_PROPERTIES : OTHER;
            case "POST" -> comp.equals("batch") ? BLOB_BATCH : OTHER;
            case "DELETE" -> parameters.containsKey("recursive") ? DELETE_PATH : comp.isEmpty() && restype.isEmpty() ? DELETE_BLOB : OTHER;
            default -> OTHER;
        };
    }

    private static Map<String, String> parameters(String query)
    {
        Map<String, String> parameters = new HashMap<>();
        if (query == null || query.isEmpty()) {
            return parameters;
        }
        for (String parameter : query.split("&")) {
            int equals = parameter.indexOf('=');
            String name = (equals < 0 ? parameter : parameter.substring(0, equals)).toLowerCase(Locale.ENGLISH);
            parameters.put(name, equals < 0 ? "" : parameter.substring(equals + 1).toLowerCase(Locale.ENGLISH));
        }
        return parameters;
    }
}
