"""Kafka adapters of the ticket service: the outbox relay (store → ``helpdesk.ticket-events``),
the command intake (``helpdesk.ticket-commands`` → store), dead letters, the FastStream
broker of the intake and the dead-letter publisher, and the AsyncAPI document. They are
started together by :func:`services.ticket_service.bootstrap.run_ticket_workers`."""
