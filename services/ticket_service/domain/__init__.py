"""Pure lifecycle rules: no I/O, no framework but eventsourcing's Aggregate."""
