"""Read models (views) built from the event log: All, Closed, My requests and the
follow-up link index. See :mod:`.projector`."""
