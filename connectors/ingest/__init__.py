"""`streamlines ingest`: Alpaca trades, quotes and minute bars → the event schema → Kafka
topics (or Kinesis streams), keyed by symbol. ``router`` validates and routes each message,
``service`` runs the streams into a sink, ``cli`` parses the command's arguments."""
