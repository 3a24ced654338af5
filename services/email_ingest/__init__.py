"""Email ingest: SMTP server, file import, quarantine."""
