"""The narwhal job's input as a stream keyed by symbol, without a Python key selector.

PyFlink's ``DataStream.key_by`` runs the key selector in a Python operator of its own: every
record crosses from the JVM to Python and back once more before the keyed function gets it, a
cost as large as the keyed function's own (benchmarks/narwhal.py). What that operator emits is
``Row(key, record)``, which the JVM partitions by its first field (``KeyByKeySelector``). So
the SQL here emits that very shape, ``(symbol, ROW(...))``, and the stream is keyed by the same
Java selector: the keyed Python function gets exactly what ``key_by`` would have given it.

``toDataStream`` declares its rows with the table's external type; the keyed Python operator
needs a ``RowTypeInfo`` (it reads the key and the record from it), and the rows are plain
``Row`` objects either way, so the conversion's output type is declared as that
``RowTypeInfo``. This uses PyFlink's own ``KeyedStream`` and ``KeyByKeySelector`` below its
public API; ``tests/integration/jobs/narwhal`` runs the job on the cluster.
"""

from __future__ import annotations

from pyflink.common import Types
from pyflink.common.typeinfo import TypeInformation
from pyflink.datastream.data_stream import KeyedStream
from pyflink.java_gateway import get_gateway
from pyflink.table import StreamTableEnvironment

from jobs.narwhal.window import BAR_VALUES
from ml.features import INDICATOR_COLUMNS

INPUT_FIELDS = ("symbol", "t_ns", "kind", *BAR_VALUES, *INDICATOR_COLUMNS)


def input_type() -> TypeInformation:
    """The keyed function's rows (``sql.VIEW_STREAM_INPUT``'s columns)."""
    doubles = [Types.DOUBLE() for _ in (*BAR_VALUES, *INDICATOR_COLUMNS)]
    return Types.ROW_NAMED(
        list(INPUT_FIELDS), [Types.STRING(), Types.LONG(), Types.STRING(), *doubles]
    )


def keyed_query(view: str) -> str:
    """``(symbol, ROW(every column of view))``: the rows of ``view`` with their key first."""
    columns = ", ".join(f"`{name}`" for name in INPUT_FIELDS)
    return f"SELECT symbol, ROW({columns}) FROM {view}"


def keyed_by_symbol(table_env: StreamTableEnvironment, view: str) -> KeyedStream:
    """The rows of ``view`` as a stream keyed by their ``symbol``."""
    record = input_type()
    stream = table_env.to_data_stream(table_env.sql_query(keyed_query(view)))
    with_key = Types.ROW([Types.STRING(), record])
    stream._j_data_stream.getTransformation().setOutputType(with_key.get_java_type_info())
    jvm = get_gateway().jvm
    j_keyed = stream._j_data_stream.keyBy(
        jvm.KeyByKeySelector(), Types.ROW([Types.STRING()]).get_java_type_info()
    )
    return KeyedStream(j_keyed, record, stream)
