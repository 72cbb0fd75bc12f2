"""Pipeline health: consumer lag per group and topic (Kafka) and the Flink jobs' state, late
drops and input rate, as a query and a polling subscription."""
