"""The ticket service's bootstrap wires the HTTP and Kafka sides too, yet building only the
application stays light: those adapters are loaded by the function that wires them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("fastapi", "faststream", "aiokafka")


def loaded_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return set(out.split())


def test_building_the_ticket_application_loads_no_http_or_kafka_framework() -> None:
    loaded = loaded_after_import("services.ticket_service.bootstrap")
    assert not {name for name in loaded if name.split(".")[0] in HEAVY}
