"""Declarative field mappings: ``mappings/<system>/<object>.yaml`` ↔ canonical records (``hub.records``).

A mapping names the native id, version stamp and external-id paths, the write operations, its value transforms
and one entry per field::

    system: zendesk
    object: ticket
    id: id
    updated_at: updated_at
    external_id: external_id          # where the hub's canonical id is kept in this system (optional)
    write: {upsert: upsert_ticket, body: ticket, delete: delete_ticket, delete_ref: ticket_id}
    transforms:
      status: {map: {new: new, open: open, hold: pending, solved: solved, closed: solved}}
    fields:
      - {canonical: subject, native: subject}
      - {canonical: status, native: status, transform: status, truth: last_writer}
      - {canonical: description, native: description, direction: in}

``direction`` is ``both`` (default), ``in`` (system → hub only) or ``out`` (hub → system only). ``truth`` is the
conflict policy of the canonical field: ``last_writer`` (newest vendor timestamp wins, the default) or a system
name (only that system's changes are taken). ``check_dir`` reports every problem as ``file:line: field: message``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub.errors import ConfigError, Problem
from hub.records import OBJECTS, get_path, known_field, set_path
from hub.sync.transforms import BUILTINS, Transform, value_map

SYSTEMS = ("zendesk", "salesforce", "hubspot", "core_banking")


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    canonical: str
    native: str | list[str]
    direction: Literal["both", "in", "out"] = "both"
    transform: str = "none"
    truth: str = "last_writer"

    @property
    def reads(self) -> bool:
        return self.direction in ("both", "in")

    @property
    def writes(self) -> bool:
        return self.direction in ("both", "out")


class WriteSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upsert: str | None = None  # outbox operation, payload {external_id, <body>: {...}}
    body: str | None = None
    delete: str | None = None  # outbox operation, payload {<delete_ref>: native id, external_id}
    delete_ref: str | None = None
    comment: str | None = None  # comments: operation adding one, payload {<parent_ref>: id, body, public}
    parent_ref: str | None = None
    constants: dict[str, Any] = Field(default_factory=dict)  # native values every upsert body carries
    update: str | None = None  # operation for a record the system already has (found by native id)
    update_ref: str | None = None  # payload key of the native id for ``update``
    update_body: str | None = None  # payload key of the native body for ``update``; None = merged flat
    tags_delta: bool = False  # ``update`` takes tag changes as ``tags_add`` / ``tags_remove``
    upsert_matches_email: bool = False  # ``upsert`` also finds an existing record by email (Zendesk users)


class TransformSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    map: dict[str, Any]
    out: dict[str, Any] = Field(default_factory=dict)
    default_in: Any = None
    default_out: Any = None


class MappingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: Literal["zendesk", "salesforce", "hubspot", "core_banking"]
    object: Literal["ticket", "comment", "customer", "organisation"]
    id: str
    updated_at: str
    external_id: str | None = None
    deleted: str | None = None  # native flag path; the connector's ``deleted: true`` is always honoured
    parent: str | None = None  # comments: native path of the parent ticket id
    filter: dict[str, Any] = Field(default_factory=dict)  # only native records with these values sync
    write: WriteSpec = Field(default_factory=WriteSpec)
    transforms: dict[str, TransformSpec] = Field(default_factory=dict)
    fields: list[FieldSpec]

    @field_validator("fields")
    @classmethod
    def _some_fields(cls, value):
        if not value:
            raise ValueError("a mapping needs at least one field")
        return value


@dataclass
class Mapping:
    """A loaded, validated mapping with the functions that apply it."""

    spec: MappingSpec
    path: Path | None = None
    transforms: dict[str, Transform] = field(default_factory=dict)

    @property
    def system(self) -> str:
        return self.spec.system

    @property
    def object(self) -> str:
        return self.spec.object

    @cached_property
    def read_fields(self) -> list[FieldSpec]:
        return [f for f in self.spec.fields if f.reads]

    @cached_property
    def round_trip_fields(self) -> list[str]:
        """Canonical fields this system both receives and reports back through one native field."""
        return sorted({f.canonical for f in self.spec.fields if f.direction == "both"})

    @cached_property
    def report_only(self) -> frozenset[str]:
        """Canonical fields this system reports but is never written (facts about its own copy)."""
        written = {f.canonical for f in self.spec.fields if f.writes}
        return frozenset(f.canonical for f in self.spec.fields if f.reads and f.canonical not in written)

    def transform(self, name: str) -> Transform:
        return self.transforms.get(name) or BUILTINS[name]

    def native_id(self, native: dict) -> str | None:
        value = get_native(native, self.spec.id)
        return None if value in (None, "") else str(value)

    def native_stamp(self, native: dict) -> str | None:
        value = get_native(native, self.spec.updated_at)
        return None if value in (None, "") else BUILTINS["time"].into(value)

    def native_external_id(self, native: dict) -> str | None:
        if not self.spec.external_id:
            return None
        value = get_native(native, self.spec.external_id)
        return None if value in (None, "") else str(value)

    def wanted(self, native: dict) -> bool:
        return all(get_native(native, path) == value for path, value in self.spec.filter.items())

    def is_deleted(self, native: dict) -> bool:
        if native.get("deleted") is True:
            return True
        return bool(self.spec.deleted and get_native(native, self.spec.deleted))

    def to_canonical(self, native: dict) -> dict:
        """The canonical fields this system reports, from one native record (absent = None)."""
        found: dict = {}
        for spec in self.read_fields:
            raw = ([get_native(native, p) for p in spec.native] if isinstance(spec.native, list)
                   else get_native(native, spec.native))
            value = self.transform(spec.transform).into(raw)
            current = found.get(spec.canonical)
            if value is None and current is not None:
                continue  # a second native source of the same canonical field only fills a gap
            found[spec.canonical] = value
        return found

    def to_native(self, canonical: dict) -> dict:
        """The native body for this system from a canonical record (None values left out)."""
        body: dict = {}
        for spec in self.spec.fields:
            if not spec.writes:
                continue
            value = get_path(canonical, spec.canonical)
            if value is None:
                continue
            transform = self.transform(spec.transform)
            native = transform.out(value)
            paths = spec.native if isinstance(spec.native, list) else [spec.native]
            values = native if isinstance(spec.native, list) else [native]
            for path, item in zip(paths, values):
                if item is None:
                    continue
                current = get_native(body, path)
                if transform.merge_list and isinstance(current, list):
                    item = sorted(set(current) | set(item))
                set_path(body, path, item)
        return body

    def upsert_body(self, canonical: dict) -> dict:
        return {**self.spec.write.constants, **self.to_native(canonical)}

    def expected(self, canonical: dict) -> dict:
        """What this system will report after the hub writes ``canonical`` (lossy maps applied)."""
        reported = self.to_canonical(self.to_native(canonical))
        return {name: reported.get(name) for name in self.round_trip_fields}


def get_native(native: dict, path: str) -> Any:
    """A native value by dotted path; a literal key containing dots wins (``fields.Risk score``)."""
    if not isinstance(native, dict):
        return None
    if path in native:
        return native[path]
    head, _, rest = path.partition(".")
    if not rest:
        return None
    return get_native(native.get(head), rest)


def content_hash(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:32]


# -- loading and checking --------------------------------------------------------------------------------------

def _line_index(node, path=(), lines=None) -> dict[tuple, int]:
    """``{(key, index, …): line}`` for every node of a composed YAML document (1-based lines)."""
    lines = {} if lines is None else lines
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines[path + (key.value,)] = key.start_mark.line + 1
            _line_index(value, path + (key.value,), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            _line_index(value, path + (index,), lines)
    return lines


def _line_of(lines: dict, loc: tuple) -> int:
    loc = tuple(loc)
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def _parse(path: Path) -> tuple[MappingSpec | None, list[Problem]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(name, (mark.line + 1) if mark else 1, "-", f"not readable YAML: {exc}".splitlines()[0])]
    lines = _line_index(node) if node is not None else {}
    if not isinstance(data, dict):
        return None, [Problem(name, 1, "-", "a mapping file holds one YAML mapping")]
    try:
        spec = MappingSpec.model_validate(data)
    except ValidationError as exc:
        return None, [Problem(name, _line_of(lines, err["loc"]), ".".join(str(p) for p in err["loc"]) or "-",
                              err["msg"]) for err in exc.errors()]
    problems = []
    expected = (path.parent.name, path.stem)
    if (spec.system, spec.object) != expected:
        problems.append(Problem(name, _line_of(lines, ("system",)), "system",
                                f"file {expected[0]}/{expected[1]}.yaml declares {spec.system}/{spec.object}"))
    for index, item in enumerate(spec.fields):
        where = _line_of(lines, ("fields", index))
        if not known_field(spec.object, item.canonical):
            problems.append(Problem(name, where, f"fields[{index}].canonical",
                                    f"{item.canonical!r} is not a field of a canonical {spec.object}"))
        if item.transform not in BUILTINS and item.transform not in spec.transforms:
            problems.append(Problem(name, where, f"fields[{index}].transform",
                                    f"unknown transform {item.transform!r} (built-ins: {', '.join(sorted(BUILTINS))}"
                                    f"; or define it under transforms:)"))
        if item.truth != "last_writer" and item.truth not in SYSTEMS:
            problems.append(Problem(name, where, f"fields[{index}].truth",
                                    f"must be last_writer or a system ({', '.join(SYSTEMS)})"))
    if any(f.writes for f in spec.fields) and spec.object != "comment" and not (spec.write.upsert and spec.write.body):
        problems.append(Problem(name, _line_of(lines, ("write",)), "write",
                                "fields are written out, so write.upsert and write.body are needed"))
    return spec, problems


def check_dir(path: Path) -> list[Problem]:
    """Every problem in a mappings directory (``<system>/<object>.yaml``), including cross-file policy clashes."""
    path = Path(path)
    if not path.is_dir():
        return [Problem(str(path), 1, "mappings_dir", "not a directory")]
    problems: list[Problem] = []
    truths: dict[tuple[str, str], tuple[str, str]] = {}
    for file in sorted(path.glob("*/*.yaml")):
        spec, found = _parse(file)
        problems.extend(found)
        if spec is None:
            continue
        if file.parent.name not in SYSTEMS:
            problems.append(Problem(str(file), 1, "system", f"unknown system folder {file.parent.name!r}"))
        if file.stem not in OBJECTS:
            problems.append(Problem(str(file), 1, "object", f"unknown object {file.stem!r}"))
        for item in spec.fields:
            if item.truth == "last_writer":
                continue
            seen = truths.setdefault((spec.object, item.canonical), (item.truth, str(file)))
            if seen[0] != item.truth:
                problems.append(Problem(str(file), 1, item.canonical,
                                        f"truth {item.truth!r} clashes with {seen[0]!r} in {seen[1]}"))
    return problems


def load_dir(path: Path) -> dict[tuple[str, str], Mapping]:
    """All mappings by ``(system, object)``; raises ``ConfigError`` listing every problem."""
    problems = check_dir(path)
    if problems:
        raise ConfigError(problems)
    loaded = {}
    for file in sorted(Path(path).glob("*/*.yaml")):
        spec, _ = _parse(file)
        transforms = {name: value_map(name, t.model_dump()) for name, t in spec.transforms.items()}
        loaded[(spec.system, spec.object)] = Mapping(spec, file, transforms)
    return loaded


def policy(mappings: dict[tuple[str, str], Mapping], object: str) -> dict[str, str]:
    """``{canonical field: truth}`` for ``object`` across all systems (``last_writer`` unless one names a system)."""
    found: dict[str, str] = {}
    for (system, obj), mapping in mappings.items():
        if obj != object:
            continue
        for item in mapping.spec.fields:
            if item.truth != "last_writer" or item.canonical not in found:
                found[item.canonical] = item.truth
    return found
