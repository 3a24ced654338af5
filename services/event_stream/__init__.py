"""Client side of the public event stream (``helpdesk.ticket-events``): what every consumer
of the topic shares — the closer's rebuild, the SLA audit from Kafka, tests."""
