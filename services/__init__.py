"""The three services of the helpdesk and what they share (settings, the ``helpdesk`` CLI)."""
