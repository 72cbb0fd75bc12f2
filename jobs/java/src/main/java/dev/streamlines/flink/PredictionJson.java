package dev.streamlines.flink;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * A prediction as the JSON of {@code streamlines.contracts.events.Prediction} ({@code {"symbol",
 * "t_ns", "model_id", "timeframe", "horizon", "value"}}), written straight to bytes ({@link
 * JsonBytes}) for the narwhal job's raw-format sink: Flink's JSON format, writing the same
 * record, was a quarter of the CPU of the task that settles, scores and writes the bars (its
 * tree of nodes and generator per record). A value that is not finite is written as null, which
 * the topic's consumers refuse as a prediction (to their dead-letter topic) instead of a job
 * failing on it.
 *
 * <p>SQL: {@code prediction_json(symbol, t_ns, model_id, timeframe, horizon, value)}, BYTES.
 */
public class PredictionJson extends ScalarFunction {

    private transient JsonBytes json;

    @Override
    public void open(FunctionContext context) {
        json = new JsonBytes();
    }

    public @DataTypeHint("BYTES") byte[] eval(
            String symbol, Long tNs, String modelId, String timeframe, Long horizon, Double value) {
        json.begin().name("symbol").string(symbol).name("t_ns").number(tNs);
        json.name("model_id").string(modelId).name("timeframe").string(timeframe);
        json.name("horizon").number(horizon).name("value").number(value);
        return json.end().bytes();
    }
}
