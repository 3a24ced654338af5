"""Closer use cases: apply ticket events to the timer store, fire due timers, rebuild."""
