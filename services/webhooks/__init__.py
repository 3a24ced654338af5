"""Webhooks: signed (Standard Webhooks), retried, logged deliveries of the ticket events to
integrators' endpoints (``helpdesk webhooks run``; management API on the ticket service)."""
