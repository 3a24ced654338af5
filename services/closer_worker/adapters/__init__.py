"""Redis timer store, Kafka event consumer/history reader, Kafka command publisher."""
