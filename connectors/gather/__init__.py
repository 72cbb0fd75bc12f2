"""`streamlines gather`: historical bars from Alpaca's REST API (or the replay server) into
InfluxDB and Kafka. See docs/gather.md."""
