"""Thin entry points: CLI commands and process mains."""
