"""The HTTP APIs of design §9: agent/integration API, help center, settings, health."""
