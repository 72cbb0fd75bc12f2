package dev.streamlines.flink;

import org.apache.flink.table.functions.ProcessTableFunction;
import org.apache.flink.table.types.logical.RowType;

/**
 * Where a process table function's input columns are, by name, resolved once: the functions
 * then read each row by position ({@code Row.getFieldAs(name)} is a hash lookup per column and
 * row, ~12 % of {@code OrderedBars}' task in narwhal's stream benchmark).
 */
final class InputColumns {

    private InputColumns() {}

    /** The position of each of {@code names} in the input table {@code input} of {@code ctx}. */
    static int[] positions(ProcessTableFunction.Context ctx, String function, String... names) {
        RowType row = (RowType) ctx.tableSemanticsFor("input").dataType().getLogicalType();
        int[] at = new int[names.length];
        for (int i = 0; i < names.length; i++) {
            at[i] = row.getFieldIndex(names[i]);
            if (at[i] < 0) {
                throw new IllegalArgumentException(
                        function
                                + ": the input has no column '"
                                + names[i]
                                + "' "
                                + row.getFieldNames());
            }
        }
        return at;
    }
}
