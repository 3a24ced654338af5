"""The fault-injection soak (``make soak``, ``python -m soak``): the whole stack under mixed
load while parts are killed, then checks that nothing acknowledged was lost or doubled.
See docs/reliability.md."""
