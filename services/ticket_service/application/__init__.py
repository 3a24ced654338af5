"""Application layer: commands in, events out (eventsourcing ``Application``)."""
