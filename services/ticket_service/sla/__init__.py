"""SLA audit: per-ticket SLA figures computed only from the event history.

``policy`` and ``calendar`` say what the targets are and how time is counted; ``facts`` is
the small slice of an event the figures need; ``clock`` turns one ticket's facts into its
row; ``audit`` streams a whole history through the clocks with bounded memory; ``render``
prints the result deterministically. ``sources`` read the history from the event store or
from the Kafka topic; ``command`` is the ``helpdesk sla`` CLI group.
"""
