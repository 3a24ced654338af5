"""Where an audit reads the history: the event store, or the Kafka events topic."""
