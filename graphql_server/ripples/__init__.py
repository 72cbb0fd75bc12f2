"""The ripples job's output: bars and metrics per symbol, stored (queries on InfluxDB) and live
(subscriptions on the ripples topic)."""
