"""Outbound email: notifications to requesters and CCs (docs/email.md)."""
