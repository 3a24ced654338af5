"""JSON Schema generation for the contracts, and the backward-compatibility check.

``contracts/schemas/current/`` holds the schemas of the models as they are (``make schemas``
regenerates them; a test fails when they are stale). ``contracts/schemas/released/`` holds the
schemas consumers already rely on; it is copied by hand when a release is cut. A change that
removes or retypes a field of a released schema, or makes an optional field required, is
breaking, and a test fails on it, unless the message's ``schema_version`` went up with it:
that announces a new major version of the message, which consumers tell apart by it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contracts.commands import COMMAND_TYPES
from contracts.dead_letters import DeadLetter
from contracts.events import EVENT_TYPES
from contracts.webhooks import WEBHOOK_PAYLOAD_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"
CURRENT_DIR = SCHEMA_DIR / "current"
RELEASED_DIR = SCHEMA_DIR / "released"


def generate() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema, for every event, command and webhook payload model."""
    models: list[type[BaseModel]] = [
        *EVENT_TYPES,
        *COMMAND_TYPES,
        DeadLetter,
        *WEBHOOK_PAYLOAD_TYPES.values(),
    ]
    return {
        f"{model.__name__}.json": model.model_json_schema(mode="serialization") for model in models
    }


def dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write(directory: Path = CURRENT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in generate().items():
        path = directory / name
        path.write_text(dump(schema))
        written.append(path)
    return written


def load(directory: Path) -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))}


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return _resolve(root["$defs"][ref.removeprefix("#/$defs/")], root)
    return schema


def _type_signature(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """A comparable summary of a property's type (follows refs, ignores descriptions)."""
    schema = _resolve(schema, root)
    if "anyOf" in schema:
        return sorted(json.dumps(_type_signature(s, root), sort_keys=True) for s in schema["anyOf"])
    if "properties" in schema:
        return {"object": sorted(schema["properties"])}
    if "enum" in schema:
        return {"enum": sorted(map(str, schema["enum"]))}
    if "const" in schema:
        return {"const": schema["const"]}
    if schema.get("type") == "array":
        return {"array": _type_signature(schema.get("items", {}), root)}
    return schema.get("type", "any")


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """What a consumer of ``old`` would trip over in ``new``: removed, retyped, newly required."""
    problems: list[str] = []
    _compare_object(old, old, new, new, path or old.get("title", ""), problems)
    return problems


def schema_version(schema: dict[str, Any]) -> int:
    """The message's ``schema_version`` (its default; 1 when it has none)."""
    version = schema.get("properties", {}).get("schema_version", {}).get("default", 1)
    return int(version)


def unannounced_breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Breaking changes made without raising the message's ``schema_version``."""
    if new and schema_version(new) > schema_version(old):
        return []
    return breaking_changes(old, new)


def _compare_object(
    old: dict[str, Any],
    old_root: dict[str, Any],
    new: dict[str, Any],
    new_root: dict[str, Any],
    path: str,
    problems: list[str],
) -> None:
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        where = f"{path}.{name}"
        if name not in new_props:
            problems.append(f"{where}: removed")
            continue
        new_prop = new_props[name]
        old_sig = _type_signature(old_prop, old_root)
        new_sig = _type_signature(new_prop, new_root)
        if isinstance(old_sig, dict) and "object" in old_sig and isinstance(new_sig, dict):
            _compare_object(old_prop, old_root, new_prop, new_root, where, problems)
        elif isinstance(old_sig, dict) and "enum" in old_sig and isinstance(new_sig, dict):
            missing = set(old_sig["enum"]) - set(new_sig.get("enum", []))
            if missing:
                problems.append(f"{where}: enum values removed {sorted(missing)}")
        elif old_sig != new_sig:
            problems.append(f"{where}: type changed {old_sig} -> {new_sig}")
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(newly_required):
        problems.append(f"{path}.{name}: became required")


def main() -> None:
    for path in write():
        print(path.relative_to(SCHEMA_DIR.parent.parent))
    released = load(RELEASED_DIR)
    current = load(CURRENT_DIR)
    for name, old in released.items():
        new = current.get(name, {})
        announced = not unannounced_breaking_changes(old, new)
        for problem in breaking_changes(old, new):
            if announced:
                print(f"schema_version {schema_version(new)} of {name}: {problem}")
            else:
                print(f"BREAKING {name}: {problem}")


if __name__ == "__main__":
    main()
