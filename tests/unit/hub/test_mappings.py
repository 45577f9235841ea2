"""Mapping loader and checker: the repository's mappings are valid; every kind of mistake is reported with its
file, line and field; mappings apply both ways with lossy value maps accounted for."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.mappings import check_dir, content_hash, get_native, load_dir, policy

pytestmark = pytest.mark.unit
REPO_MAPPINGS = Path(__file__).resolve().parents[3] / "mappings"

GOOD = """\
system: zendesk
object: ticket
id: id
updated_at: updated_at
write: {upsert: upsert_ticket, body: ticket}
transforms:
  status: {map: {open: open, hold: pending}}
fields:
  - {canonical: subject, native: subject}
  - {canonical: status, native: status, transform: status}
"""


def write(tmp_path: Path, system: str, object: str, text: str) -> Path:
    path = tmp_path / system / f"{object}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_repository_mappings_are_valid():
    assert check_dir(REPO_MAPPINGS) == []
    loaded = load_dir(REPO_MAPPINGS)
    assert {("zendesk", "ticket"), ("salesforce", "ticket"), ("hubspot", "ticket"), ("core_banking", "customer"),
            ("zendesk", "comment"), ("salesforce", "organisation"), ("hubspot", "customer")} <= set(loaded)


def test_a_good_file_has_no_problems(tmp_path):
    write(tmp_path, "zendesk", "ticket", GOOD)
    assert check_dir(tmp_path) == []


@pytest.mark.parametrize("change, line, field, words", [
    (("  - {canonical: subject, native: subject}", "  - {canonical: headline, native: subject}"),
     9, "fields[0].canonical", "not a field of a canonical ticket"),
    (("transform: status}", "transform: stauts}"), 10, "fields[1].transform", "unknown transform 'stauts'"),
    (("native: subject}", "native: subject, direction: sideways}"), 9, "fields.0.direction", "'both', 'in' or 'out'"),
    (("native: subject}", "native: subject, truth: zendsk}"), 9, "fields[0].truth", "last_writer or a system"),
    (("id: id\n", "id: id\ncolour: blue\n"), 4, "colour", "Extra inputs are not permitted"),
    (("system: zendesk", "system: salesforce"), 1, "system", "declares salesforce/ticket"),
    (("write: {upsert: upsert_ticket, body: ticket}\n", ""), 1, "write", "write.upsert and write.body"),
])
def test_each_mistake_names_file_line_and_field(tmp_path, change, line, field, words):
    path = write(tmp_path, "zendesk", "ticket", GOOD.replace(*change))
    problems = check_dir(tmp_path)
    assert problems, "the mistake was not reported"
    problem = problems[0]
    assert (problem.file, problem.line, problem.field) == (str(path), line, field)
    assert words in problem.message
    assert str(problem).startswith(f"{path}:{line}: {field}: ")


def test_broken_yaml_is_reported_with_its_line(tmp_path):
    path = write(tmp_path, "zendesk", "ticket", GOOD + "  - {canonical: [unclosed\n")
    [problem] = check_dir(tmp_path)
    assert problem.file == str(path) and problem.line >= 11 and "not readable YAML" in problem.message


def test_conflicting_sources_of_truth_across_files(tmp_path):
    write(tmp_path, "zendesk", "ticket", GOOD.replace("native: subject}", "native: subject, truth: zendesk}"))
    write(tmp_path, "salesforce", "ticket", GOOD.replace("system: zendesk", "system: salesforce")
          .replace("native: subject}", "native: subject, truth: salesforce}"))
    problems = check_dir(tmp_path)
    assert any("clashes with" in p.message and p.field == "subject" for p in problems)


def test_load_dir_raises_config_error_listing_problems(tmp_path):
    write(tmp_path, "zendesk", "ticket", GOOD.replace("native: subject}", "native: subject, transform: nope}"))
    with pytest.raises(ConfigError, match=r"ticket.yaml:9: fields\[0\].transform"):
        load_dir(tmp_path)


def test_not_a_directory(tmp_path):
    [problem] = check_dir(tmp_path / "missing")
    assert problem.field == "mappings_dir"


def test_lossy_value_maps_are_expected_back_as_the_system_reports_them():
    salesforce = load_dir(REPO_MAPPINGS)[("salesforce", "ticket")]
    canonical = {"subject": "Hi", "priority": "urgent", "status": "pending", "fields": {}, "requester": {}}
    assert salesforce.to_native(canonical)["Priority"] == "High"
    assert salesforce.expected(canonical)["priority"] == "high"  # urgent has no Salesforce value of its own
    assert salesforce.expected(canonical)["status"] == "pending"


def test_tags_and_category_share_one_native_list():
    zendesk = load_dir(REPO_MAPPINGS)[("zendesk", "ticket")]
    body = zendesk.to_native({"category": "cards", "tags": ["vip", "b"], "fields": {}, "requester": {}})
    assert body["tags"] == ["b", "cards", "vip"]
    back = zendesk.to_canonical({"tags": ["vip", "cards", "b"]})
    assert (back["category"], back["tags"]) == ("cards", ["b", "vip"])


def test_policy_names_the_source_of_truth():
    rules = policy(load_dir(REPO_MAPPINGS), "customer")
    assert rules["segment"] == "core_banking" and rules["email"] == "last_writer"


def test_native_paths_prefer_literal_dotted_keys():
    assert get_native({"fields.Risk score": 1, "fields": {"Risk score": 2}}, "fields.Risk score") == 1
    assert get_native({"fields": {"Risk score": 2}}, "fields.Risk score") == 2
    assert get_native({"a": None}, "a.b") is None


def test_content_hash_ignores_key_order():
    assert content_hash({"a": 1, "b": 2}) == content_hash({"b": 2, "a": 1}) != content_hash({"a": 2, "b": 1})
