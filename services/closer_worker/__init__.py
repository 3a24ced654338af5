"""Closer worker: auto-close timers."""
