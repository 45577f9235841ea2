"""Association edges between records, kept in both directions with HubSpot's paired type ids."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.sandbox.hubspot import catalog
from hub.sandbox.hubspot.errors import HubSpotError, validation

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.hubspot.store import PortalStore

Key = tuple[str, str]   # (object type name, object id)
FIRST_USER_TYPE_ID = 1001


class AssociationStore:
    def __init__(self, store: "PortalStore"):
        self.store = store
        self.kinds: dict[int, catalog.AssociationType] = catalog.default_association_types()
        self.edges: dict[Key, dict[Key, set[int]]] = {}
        self._next_type_id = FIRST_USER_TYPE_ID

    # -- type ids -----------------------------------------------------------------------------------------
    def kind(self, type_id, from_type: str | None = None, to_type: str | None = None) -> catalog.AssociationType:
        try:
            kind = self.kinds[int(type_id)]
        except (KeyError, TypeError, ValueError):
            raise validation(f"{type_id} is not a valid association type id") from None
        if (from_type and kind.from_type != from_type) or (to_type and kind.to_type != to_type):
            raise validation(f"association type id {kind.type_id} is not valid from {from_type} to "
                             f"{to_type or kind.to_type}", sub_category="INVALID_ASSOCIATION_TYPE")
        return kind

    def default_kind(self, from_type: str, to_type: str) -> catalog.AssociationType:
        for kind in self.kinds.values():
            if kind.from_type == from_type and kind.to_type == to_type and kind.is_default:
                return kind
        raise validation(f"No default association type exists from {from_type} to {to_type}")

    def labels(self, from_type: str, to_type: str) -> list[dict]:
        return [self.describe(k.type_id) for k in self.kinds.values()
                if k.from_type == from_type and k.to_type == to_type]

    def create_label(self, from_type: str, to_type: str, label: str) -> list[dict]:
        """A USER_DEFINED label pair (one id per direction); returns its description(s) for ``from -> to``."""
        forward, backward = self._next_type_id, self._next_type_id + 1
        self._next_type_id += 2
        self.kinds[forward] = catalog.AssociationType(forward, from_type, to_type, "USER_DEFINED", label, backward, False)
        self.kinds[backward] = catalog.AssociationType(backward, to_type, from_type, "USER_DEFINED", label, forward,
                                                       False)
        return [self.describe(forward)]

    def create_default_pair(self, from_type: str, to_type: str) -> int:
        """The unlabelled association type pair between a custom object and another type; returns from -> to."""
        forward, backward = self._next_type_id, self._next_type_id + 1
        self._next_type_id += 2
        self.kinds[forward] = catalog.AssociationType(forward, from_type, to_type, "USER_DEFINED", None, backward, True)
        self.kinds[backward] = catalog.AssociationType(backward, to_type, from_type, "USER_DEFINED", None, forward,
                                                       True)
        return forward

    def describe(self, type_id: int) -> dict:
        kind = self.kinds[type_id]
        return {"category": kind.category, "typeId": kind.type_id, "label": kind.label}

    # -- edges --------------------------------------------------------------------------------------------
    def add(self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: list[int]) -> None:
        forward = self.edges.setdefault((from_type, from_id), {}).setdefault((to_type, to_id), set())
        backward = self.edges.setdefault((to_type, to_id), {}).setdefault((from_type, from_id), set())
        for type_id in type_ids:
            kind = self.kinds[type_id]
            added = [kind]
            if not kind.is_default and kind.category == "HUBSPOT_DEFINED":
                # A primary association always comes with the unlabelled default one, as in HubSpot.
                added.append(self.default_kind(from_type, to_type))
            for each in added:
                if each.type_id not in forward:
                    forward.add(each.type_id)
                    backward.add(each.inverse_id)
                    self._notify(from_type, from_id, to_type, to_id, each, removed=False)
            self._sync_primary_company(from_type, from_id, to_type, to_id, kind)

    def _notify(self, from_type: str, from_id: str, to_type: str, to_id: str, kind: catalog.AssociationType,
                removed: bool) -> None:
        listener = self.store.association_listener
        if listener is not None:
            listener(from_type, from_id, to_type, to_id, kind, removed)

    def _sync_primary_company(self, from_type, from_id, to_type, to_id, kind) -> None:
        """``associatedcompanyid`` on a contact mirrors its primary company, as HubSpot keeps it."""
        if kind.label != "Primary" or kind.category != "HUBSPOT_DEFINED":
            return
        if (from_type, to_type) == ("contacts", "companies"):
            contact_id, company_id = from_id, to_id
        elif (from_type, to_type) == ("companies", "contacts"):
            contact_id, company_id = to_id, from_id
        else:
            return
        contact = self.store.records["contacts"].get(contact_id)
        if contact is not None:
            contact.properties["associatedcompanyid"] = company_id

    def remove(self, from_type: str, from_id: str, to_type: str, to_id: str,
               type_ids: list[int] | None = None) -> None:
        forward = self.edges.get((from_type, from_id), {}).get((to_type, to_id))
        backward = self.edges.get((to_type, to_id), {}).get((from_type, from_id))
        if forward is None:
            return
        for type_id in list(forward) if type_ids is None else type_ids:
            if type_id not in forward:
                continue
            forward.discard(type_id)
            if backward is not None and type_id in self.kinds:
                backward.discard(self.kinds[type_id].inverse_id)
            if type_id in self.kinds:
                self._notify(from_type, from_id, to_type, to_id, self.kinds[type_id], removed=True)
        if not forward:
            del self.edges[(from_type, from_id)][(to_type, to_id)]
        if backward is not None and not backward:
            del self.edges[(to_type, to_id)][(from_type, from_id)]

    def targets(self, from_type: str, from_id: str, to_type: str) -> list[tuple[str, list[int]]]:
        """``[(to id, sorted type ids)]`` in id order, leaving out archived targets."""
        out = []
        records = self.store.records.get(to_type, {})
        for (kind, to_id), type_ids in self.edges.get((from_type, from_id), {}).items():
            target = records.get(to_id)
            if kind == to_type and type_ids and target is not None and not target.archived:
                out.append((to_id, sorted(type_ids)))
        out.sort(key=lambda item: int(item[0]))
        return out

    def drop_object(self, type_name: str, object_id: str) -> None:
        for (other_type, other_id) in list(self.edges.get((type_name, object_id), {})):
            self.edges.get((other_type, other_id), {}).pop((type_name, object_id), None)
        self.edges.pop((type_name, object_id), None)

    # -- v3 shapes ----------------------------------------------------------------------------------------
    def check_v3_inputs(self, from_type: str, inputs: list) -> list[tuple[str, str, list[int]]]:
        """Validate ``associations: [{to: {id}, types: [{associationCategory, associationTypeId}]}]``."""
        if not isinstance(inputs, list):
            raise validation("Invalid input JSON: associations must be a list")
        pending = []
        for item in inputs:
            to_id = str(((item or {}).get("to") or {}).get("id", ""))
            types = (item or {}).get("types") or []
            if not to_id or not types:
                raise validation("Each association needs to.id and at least one type")
            kinds = [self.kind(t.get("associationTypeId"), from_type=from_type) for t in types]
            to_type = kinds[0].to_type
            if any(k.to_type != to_type for k in kinds):
                raise validation("All types of one association must point at the same object type")
            target = self.store.records.get(to_type, {}).get(to_id)
            if target is None or target.archived:
                raise HubSpotError(400, "VALIDATION_ERROR", f"{to_type} {to_id} is not valid for an association",
                                   sub_category="INVALID_ASSOCIATION_TARGET", context={"id": [to_id]})
            pending.append((to_type, to_id, [k.type_id for k in kinds]))
        return pending

    def apply_v3_inputs(self, from_type: str, from_id: str, pending: list) -> None:
        for to_type, to_id, type_ids in pending:
            self.add(from_type, from_id, to_type, to_id, type_ids)

    def v3_block(self, from_type: str, from_id: str, to_types: list[str]) -> dict:
        """The ``associations`` member of a v3 object read with ``associations=``."""
        singular = {name: t.singular for name, t in self.store.types.items()}
        out = {}
        for to_type in to_types:
            results = []
            has_primary = any(k.from_type == from_type and k.to_type == to_type and k.label == "Primary"
                              for k in self.kinds.values())
            for to_id, type_ids in self.targets(from_type, from_id, to_type):
                for type_id in type_ids:
                    name = catalog.v3_association_name(self.kinds[type_id], singular, has_primary)
                    results.append({"id": to_id, "type": name})
            if results:
                out[to_type] = {"results": results}
        return out
