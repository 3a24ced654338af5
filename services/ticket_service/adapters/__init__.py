"""Adapters: persistence, HTTP, Kafka, read models."""
