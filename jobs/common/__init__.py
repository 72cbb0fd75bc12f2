"""What the jobs share: their run options, the Flink environment, the Kafka tables and topic
checks, the connector jars of a local run, and the entry point's error handling."""
