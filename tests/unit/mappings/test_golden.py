"""Golden tests, one per mapping file: a recorded native record maps to the recorded canonical fields, and a
canonical record maps to the recorded native write body. A changed mapping shows up here as a diff to review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.mappings import load_dir

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[3]
GOLDEN = Path(__file__).resolve().parent / "golden"
MAPPINGS = load_dir(REPO / "mappings")


def test_every_mapping_has_a_golden_file():
    assert {f"{s}_{o}" for s, o in MAPPINGS} == {p.stem for p in GOLDEN.glob("*.json")}


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.json")))
def test_native_to_canonical(name):
    golden = json.loads((GOLDEN / f"{name}.json").read_text())
    system, object = name.split("_", 1) if not name.startswith("core_banking") else ("core_banking", "customer")
    mapping = MAPPINGS[(system, object)]
    native = golden["native"]
    assert mapping.to_canonical(native) == golden["canonical"]
    assert (mapping.native_id(native), mapping.native_stamp(native), mapping.native_external_id(native),
            mapping.is_deleted(native)) == (golden["id"], golden["updated_at"], golden["external_id"],
                                            golden["deleted"])


@pytest.mark.parametrize("name", sorted(p.stem for p in GOLDEN.glob("*.json")))
def test_canonical_to_native(name):
    golden = json.loads((GOLDEN / f"{name}.json").read_text())
    system, object = name.split("_", 1) if not name.startswith("core_banking") else ("core_banking", "customer")
    assert MAPPINGS[(system, object)].upsert_body(golden["from_canonical"]) == golden["native_body"]


@pytest.mark.parametrize("system", ["zendesk", "salesforce", "hubspot"])
def test_what_the_hub_writes_reads_back_unchanged(system):
    """Every two-way ticket field survives the round trip, so the hub's own write is recognised as an echo."""
    mapping = MAPPINGS[(system, "ticket")]
    canonical = json.loads((GOLDEN / f"{system}_ticket.json").read_text())["from_canonical"]
    canonical = dict(canonical, priority="high")  # a value every system can hold
    back = mapping.to_canonical(mapping.to_native(canonical))
    for name in mapping.round_trip_fields:
        head, _, rest = name.partition(".")
        want = canonical.get(head) if not rest else (canonical.get(head) or {}).get(rest)
        assert back.get(name) == want, name


def test_deleted_flags_are_recognised():
    assert MAPPINGS[("salesforce", "ticket")].is_deleted({"IsDeleted": True})
    assert MAPPINGS[("hubspot", "ticket")].is_deleted({"archived": True})
    assert MAPPINGS[("zendesk", "ticket")].is_deleted({"deleted": True})
    assert not MAPPINGS[("zendesk", "ticket")].is_deleted({"status": "open"})


def test_zendesk_agents_are_not_customers():
    customers = MAPPINGS[("zendesk", "customer")]
    assert customers.wanted({"role": "end-user"}) and not customers.wanted({"role": "agent"})
