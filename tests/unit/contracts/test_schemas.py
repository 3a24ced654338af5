"""The committed JSON Schemas are current, and no change breaks a released schema."""

import copy

from contracts import schemas_io


def test_committed_schemas_are_current() -> None:
    committed = schemas_io.load(schemas_io.CURRENT_DIR)
    generated = schemas_io.generate()
    assert sorted(committed) == sorted(generated), "run `make schemas`"
    for name, schema in generated.items():
        assert schemas_io.dump(committed[name]) == schemas_io.dump(schema), (
            f"{name} is stale: run `make schemas`"
        )


def test_current_schemas_keep_every_released_field() -> None:
    released = schemas_io.load(schemas_io.RELEASED_DIR)
    current = schemas_io.generate()
    assert released, "contracts/schemas/released must hold the released schemas"
    problems = {
        name: schemas_io.unannounced_breaking_changes(old, current.get(name, {}))
        for name, old in released.items()
    }
    assert {name: p for name, p in problems.items() if p} == {}


def _ticket_created() -> dict:
    return copy.deepcopy(schemas_io.generate()["TicketCreated.json"])


def test_removing_a_field_is_breaking() -> None:
    old, new = _ticket_created(), _ticket_created()
    del new["$defs"]["TicketCreatedData"]["properties"]["subject"]
    assert any("subject: removed" in p for p in schemas_io.breaking_changes(old, new))


def test_retyping_a_field_is_breaking() -> None:
    old, new = _ticket_created(), _ticket_created()
    new["properties"]["version"] = {"type": "string"}
    assert any("version: type changed" in p for p in schemas_io.breaking_changes(old, new))


def test_making_a_field_required_is_breaking() -> None:
    old, new = _ticket_created(), _ticket_created()
    new["required"] = [*new.get("required", []), "correlation_id"]
    assert any(
        "correlation_id: became required" in p for p in schemas_io.breaking_changes(old, new)
    )


def test_removing_an_enum_value_is_breaking() -> None:
    old, new = _ticket_created(), _ticket_created()
    new["$defs"]["Status"]["enum"].remove("on_hold")
    assert any("enum values removed" in p for p in schemas_io.breaking_changes(old, new))


def test_adding_an_optional_field_is_not_breaking() -> None:
    old, new = _ticket_created(), _ticket_created()
    new["properties"]["extra"] = {"type": "string"}
    assert schemas_io.breaking_changes(old, new) == []


def test_a_breaking_change_needs_a_schema_version_bump() -> None:
    old, new = _ticket_created(), _ticket_created()
    new["properties"]["version"] = {"type": "null"}
    assert schemas_io.unannounced_breaking_changes(old, new) != []
    new["properties"]["schema_version"] = {**new["properties"]["schema_version"], "default": 2}
    assert schemas_io.unannounced_breaking_changes(old, new) == []
    assert schemas_io.breaking_changes(old, new) != []  # still listed, as the new version's


def test_a_removed_message_is_breaking_whatever_the_version() -> None:
    assert schemas_io.unannounced_breaking_changes(_ticket_created(), {}) != []
