"""Ticket service: the Ticket aggregate, its application service, HTTP APIs, read models,
the outbox relay to Kafka and the command intake from Kafka."""
