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

import io.trino.testing.MaterializedResult;
import io.trino.testing.MaterializedRow;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

import static java.lang.String.join;

/**
 * Compares the rows of two query results: every value exactly (decimals included) except floating-point values,
 * which may differ in their last bits because a distributed sum adds in another order.
 */
public final class ResultAssertions
{
    private static final double RELATIVE_TOLERANCE = 1e-9;

    private ResultAssertions() {}

    /**
     * Same rows in the same order (the query has an ORDER BY over a unique key).
     */
    public static void assertSameRowsInOrder(MaterializedResult actual, MaterializedResult expected, String description)
    {
        assertSameShape(actual, expected, description);
        compareRows(actual.getMaterializedRows(), expected.getMaterializedRows(), description);
    }

    /**
     * Same multiset of rows, in any order.
     */
    public static void assertSameRows(MaterializedResult actual, MaterializedResult expected, String description)
    {
        assertSameShape(actual, expected, description);
        compareRows(sorted(actual.getMaterializedRows()), sorted(expected.getMaterializedRows()), description);
    }

    private static void assertSameShape(MaterializedResult actual, MaterializedResult expected, String description)
    {
        if (!actual.getTypes().equals(expected.getTypes())) {
            throw new AssertionError("%s: column types %s, expected %s".formatted(description, actual.getTypes(), expected.getTypes()));
        }
        if (actual.getRowCount() != expected.getRowCount()) {
            throw new AssertionError("%s: %s rows, expected %s".formatted(description, actual.getRowCount(), expected.getRowCount()));
        }
    }

    private static void compareRows(List<MaterializedRow> actual, List<MaterializedRow> expected, String description)
    {
        for (int row = 0; row < actual.size(); row++) {
            List<Object> actualFields = actual.get(row).getFields();
            List<Object> expectedFields = expected.get(row).getFields();
            for (int field = 0; field < actualFields.size(); field++) {
                if (!sameValue(actualFields.get(field), expectedFields.get(field))) {
                    throw new AssertionError("%s: row %s differs in column %s%n  actual:   %s%n  expected: %s"
                            .formatted(description, row, field, actualFields, expectedFields));
                }
            }
        }
    }

    private static boolean sameValue(Object actual, Object expected)
    {
        if (actual instanceof Double || actual instanceof Float) {
            if (!(expected instanceof Double || expected instanceof Float)) {
                return false;
            }
            double a = ((Number) actual).doubleValue();
            double e = ((Number) expected).doubleValue();
            if (Double.isNaN(a) || Double.isNaN(e) || Double.isInfinite(a) || Double.isInfinite(e)) {
                return Double.compare(a, e) == 0;
            }
            return Math.abs(a - e) <= RELATIVE_TOLERANCE * Math.max(1.0, Math.max(Math.abs(a), Math.abs(e)));
        }
        return Objects.equals(actual, expected);
    }

    /**
     * Sorted by the exact fields first and by the floating-point ones after, so that rows whose exact fields are
     * unique line up whatever the last bits of their sums.
     */
    private static List<MaterializedRow> sorted(List<MaterializedRow> rows)
    {
        List<MaterializedRow> copy = new ArrayList<>(rows);
        copy.sort(Comparator.comparing(ResultAssertions::exactKey).thenComparing(ResultAssertions::floatingKey, ResultAssertions::compareLists));
        return copy;
    }

    private static String exactKey(MaterializedRow row)
    {
        List<String> parts = new ArrayList<>();
        for (Object field : row.getFields()) {
            if (!(field instanceof Double || field instanceof Float)) {
                parts.add(String.valueOf(field));
            }
        }
        return join("\u0001", parts);
    }

    private static List<Double> floatingKey(MaterializedRow row)
    {
        List<Double> values = new ArrayList<>();
        for (Object field : row.getFields()) {
            if (field instanceof Double || field instanceof Float) {
                values.add(((Number) field).doubleValue());
            }
        }
        return values;
    }

    private static int compareLists(List<Double> left, List<Double> right)
    {
        for (int i = 0; i < Math.min(left.size(), right.size()); i++) {
            int result = Double.compare(left.get(i), right.get(i));
            if (result != 0) {
                return result;
            }
        }
        return Integer.compare(left.size(), right.size());
    }
}
