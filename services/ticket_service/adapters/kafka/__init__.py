"""Kafka adapters of the ticket service: the outbox relay (store → ``helpdesk.ticket-events``),
the command intake (``helpdesk.ticket-commands`` → store), dead letters, and the FastStream
broker that documents them (AsyncAPI). Start them together with
:func:`services.ticket_service.adapters.kafka.runtime.run_ticket_workers`."""
