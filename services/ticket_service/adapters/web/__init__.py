"""The agent console (``/agent/``) and the help center (``/help/``) in the browser:
server-rendered pages over the same commands and queries as the HTTP API."""
