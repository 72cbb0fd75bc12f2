"""The one data contract every part of Stream Lines imports: topic names (``topics``), the
event schemas on them (``events``), the metric names the jobs write (``metrics``), InfluxDB
buckets, measurements and point builders (``influx``), bar timeframes (``timeframes``) and
nanosecond-time helpers (``time``).

Nothing here imports another part of the project, so anything may import it.
"""
