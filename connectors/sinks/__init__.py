"""Where events go: Kafka (the one producer helper) and Kinesis."""
