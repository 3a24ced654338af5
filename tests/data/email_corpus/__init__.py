"""Broken and hostile email, generated (deterministically) rather than committed."""
