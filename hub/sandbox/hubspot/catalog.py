"""Static HubSpot portal definitions: object types, default property schemas, pipelines, association types."""

from __future__ import annotations

import re
from dataclasses import dataclass

PORTAL_ID = 62515
APP_ID = 1160452
CATEGORIES = ("payments", "cards", "disputes", "fees", "kyc_verification", "account_management",
              "account_access", "compliance_fraud")
CUSTOM_TYPE_ID = re.compile(r"^2-\d+$")


@dataclass(frozen=True)
class ObjectType:
    """One CRM object type: its plural path name, object type id and which properties HubSpot shows."""

    name: str                 # plural, as in the URL: "contacts"
    type_id: str              # "0-1"
    singular: str             # "contact", used in v3 association type names and messages
    created_prop: str         # "createdate" (or "hs_createdate" for engagements and custom objects)
    modified_props: tuple[str, ...]
    defaults: tuple[str, ...]  # properties returned when the caller names none
    required: tuple[str, ...] = ()
    searchable: tuple[str, ...] = ()  # what the free-text ``query`` of search looks at
    id_base: int = 1000


STANDARD_TYPES = {
    t.name: t for t in (
        ObjectType("contacts", "0-1", "contact", "createdate", ("lastmodifieddate", "hs_lastmodifieddate"),
                   ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
                   searchable=("firstname", "lastname", "email", "phone", "mobilephone", "company", "website"),
                   id_base=101),
        ObjectType("companies", "0-2", "company", "createdate", ("hs_lastmodifieddate",),
                   ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
                   searchable=("name", "domain", "website", "phone"), id_base=5001),
        ObjectType("deals", "0-3", "deal", "createdate", ("hs_lastmodifieddate",),
                   ("amount", "closedate", "createdate", "dealname", "dealstage", "hs_lastmodifieddate",
                    "hs_object_id", "pipeline"), searchable=("dealname",), id_base=7001),
        ObjectType("tickets", "0-5", "ticket", "createdate", ("hs_lastmodifieddate",),
                   ("content", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_pipeline",
                    "hs_pipeline_stage", "hs_ticket_category", "hs_ticket_priority", "subject"),
                   required=("subject", "hs_pipeline_stage"), searchable=("subject", "content"), id_base=9001),
        ObjectType("notes", "0-46", "note", "hs_createdate", ("hs_lastmodifieddate",),
                   ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"), required=("hs_timestamp",),
                   searchable=("hs_note_body",), id_base=20001),
    )
}
_ALIASES = {t.type_id: t.name for t in STANDARD_TYPES.values()} | {t.singular: t.name for t in STANDARD_TYPES.values()}


def custom_type(type_id: str, name: str, required: tuple[str, ...] = (),
                searchable: tuple[str, ...] = ()) -> ObjectType:
    """A custom object type (id ``2-N``) defined through the schemas API."""
    return ObjectType(type_id, type_id, name, "hs_createdate", ("hs_lastmodifieddate",),
                      ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"), required=required,
                      searchable=searchable, id_base=30001)


def canonical_type_name(raw: str) -> str | None:
    """``contacts``/``contact``/``0-1`` -> ``contacts``; a ``2-N`` custom id stays; anything else -> None."""
    lowered = raw.lower()
    if lowered in STANDARD_TYPES:
        return lowered
    if lowered in _ALIASES:
        return _ALIASES[lowered]
    if CUSTOM_TYPE_ID.match(raw):
        return raw
    return None


# -- properties -------------------------------------------------------------------------------------------
# (name, label, type, fieldType, options, flags) where flags: "ro" read-only value, "unique" hasUniqueValue.
_TEXT, _NUM, _DT, _DATE, _ENUM, _BOOL = "string", "number", "datetime", "date", "enumeration", "bool"
_LIFECYCLE = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
              "evangelist", "other")

_COMMON = [
    ("hs_object_id", "Record ID", _NUM, "number", (), "ro"),
    ("hubspot_owner_id", "Owner", _TEXT, "text", (), ""),
]
_STANDARD_PROPS: dict[str, list[tuple]] = {
    "contacts": [
        ("email", "Email", _TEXT, "text", (), ""),
        ("firstname", "First Name", _TEXT, "text", (), ""),
        ("lastname", "Last Name", _TEXT, "text", (), ""),
        ("phone", "Phone Number", _TEXT, "phonenumber", (), ""),
        ("mobilephone", "Mobile Phone Number", _TEXT, "phonenumber", (), ""),
        ("company", "Company Name", _TEXT, "text", (), ""),
        ("jobtitle", "Job Title", _TEXT, "text", (), ""),
        ("website", "Website URL", _TEXT, "text", (), ""),
        ("city", "City", _TEXT, "text", (), ""),
        ("country", "Country/Region", _TEXT, "text", (), ""),
        ("lifecyclestage", "Lifecycle Stage", _ENUM, "radio", _LIFECYCLE, ""),
        ("hs_lead_status", "Lead Status", _ENUM, "radio",
         ("NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT", "CONNECTED",
          "BAD_TIMING"), ""),
        ("associatedcompanyid", "Primary Associated Company ID", _NUM, "number", (), "ro"),
        ("createdate", "Create Date", _DT, "date", (), ""),
        ("lastmodifieddate", "Last Modified Date", _DT, "date", (), "ro"),
        ("hs_lastmodifieddate", "Object last modified date/time", _DT, "date", (), "ro"),
    ],
    "companies": [
        ("name", "Company name", _TEXT, "text", (), ""),
        ("domain", "Company Domain Name", _TEXT, "text", (), ""),
        ("website", "Website URL", _TEXT, "text", (), ""),
        ("phone", "Phone Number", _TEXT, "phonenumber", (), ""),
        ("industry", "Industry", _TEXT, "text", (), ""),
        ("city", "City", _TEXT, "text", (), ""),
        ("country", "Country/Region", _TEXT, "text", (), ""),
        ("numberofemployees", "Number of Employees", _NUM, "number", (), ""),
        ("annualrevenue", "Annual Revenue", _NUM, "number", (), ""),
        ("description", "Description", _TEXT, "textarea", (), ""),
        ("lifecyclestage", "Lifecycle Stage", _ENUM, "radio", _LIFECYCLE, ""),
        ("createdate", "Create Date", _DT, "date", (), ""),
        ("hs_lastmodifieddate", "Last Modified Date", _DT, "date", (), "ro"),
    ],
    "deals": [
        ("dealname", "Deal Name", _TEXT, "text", (), ""),
        ("amount", "Amount", _NUM, "number", (), ""),
        ("closedate", "Close Date", _DT, "date", (), ""),
        ("pipeline", "Pipeline", _ENUM, "select", (), ""),
        ("dealstage", "Deal Stage", _ENUM, "radio", (), ""),
        ("createdate", "Create Date", _DT, "date", (), ""),
        ("hs_lastmodifieddate", "Last Modified Date", _DT, "date", (), "ro"),
    ],
    "tickets": [
        ("subject", "Ticket name", _TEXT, "text", (), ""),
        ("content", "Ticket description", _TEXT, "textarea", (), ""),
        ("hs_pipeline", "Pipeline", _ENUM, "select", (), ""),
        ("hs_pipeline_stage", "Ticket status", _ENUM, "select", (), ""),
        ("hs_ticket_priority", "Priority", _ENUM, "select", ("LOW", "MEDIUM", "HIGH", "URGENT"), ""),
        ("hs_ticket_category", "Category", _ENUM, "checkbox",
         ("PRODUCT_ISSUE", "BILLING_ISSUE", "FEATURE_REQUEST", "GENERAL_INQUIRY"), ""),
        ("source_type", "Source", _ENUM, "select", ("CHAT", "EMAIL", "FORM", "PHONE"), ""),
        ("closed_date", "Close date", _DT, "date", (), ""),
        ("createdate", "Create date", _DT, "date", (), ""),
        ("hs_lastmodifieddate", "Last modified date", _DT, "date", (), "ro"),
    ],
    "notes": [
        ("hs_note_body", "Note body", _TEXT, "html", (), ""),
        ("hs_timestamp", "Activity date", _DT, "date", (), ""),
        ("hs_attachment_ids", "Attachment IDs", _ENUM, "checkbox", (), ""),
        ("hs_createdate", "Created at", _DT, "date", (), ""),
        ("hs_lastmodifieddate", "Last Modified Date", _DT, "date", (), "ro"),
    ],
}
_CUSTOM_PROPS = [
    ("hs_createdate", "Object create date/time", _DT, "date", (), ""),
    ("hs_lastmodifieddate", "Object last modified date/time", _DT, "date", (), "ro"),
]
# The hub's own fields, created in a real portal by its set-up; seeded here so writes to them succeed.
_HUB_GROUP = "deskbridge"
_HUB_PROPS: dict[str, list[tuple]] = {
    "contacts": [
        ("bank_customer_id", "Bank customer ID", _TEXT, "text", (), "unique"),
        ("deskbridge_id", "Deskbridge ID", _TEXT, "text", (), "unique"),
        ("segment", "Segment", _ENUM, "select", ("end_user", "merchant", "investor"), ""),
        ("kyc_status", "KYC status", _ENUM, "select", ("pending", "verified", "rejected", "expired"), ""),
        ("risk_score", "Risk score", _NUM, "number", (), ""),
        ("identity_verified", "Identity verified", _BOOL, "booleancheckbox", ("true", "false"), ""),
    ],
    "companies": [
        ("deskbridge_id", "Deskbridge ID", _TEXT, "text", (), "unique"),
        ("segment", "Segment", _ENUM, "select", ("end_user", "merchant", "investor"), ""),
    ],
    "tickets": [
        ("deskbridge_id", "Deskbridge ID", _TEXT, "text", (), "unique"),
        ("category", "Category", _ENUM, "select", CATEGORIES, ""),
        ("risk_score", "Risk score", _NUM, "number", (), ""),
        ("sla_first_response_due", "SLA first response due", _DT, "date", (), ""),
        ("identity_verified", "Identity verified", _BOOL, "booleancheckbox", ("true", "false"), ""),
        ("zendesk_ticket_id", "Zendesk ticket ID", _TEXT, "text", (), ""),
    ],
}
_GROUP_OF = {"contacts": "contactinformation", "companies": "companyinformation", "deals": "dealinformation",
             "tickets": "ticketinformation", "notes": "engagement"}


def property_definition(name: str, label: str, type_: str, field_type: str, options: tuple, flags: str,
                        group: str, hubspot_defined: bool, order: int, stamp: str) -> dict:
    """A property as ``GET /crm/v3/properties/{type}`` returns it."""
    if type_ == _BOOL:
        type_, options = "bool", ("true", "false")
    return {
        "name": name, "label": label, "type": type_, "fieldType": field_type, "description": "",
        "groupName": group,
        "options": [_option(o, i) for i, o in enumerate(options)],
        "displayOrder": order, "calculated": False, "externalOptions": False,
        "hasUniqueValue": "unique" in flags, "hidden": False, "hubspotDefined": hubspot_defined,
        "showCurrencySymbol": False, "formField": not hubspot_defined or name in ("email", "firstname", "lastname"),
        "modificationMetadata": {"archivable": not hubspot_defined, "readOnlyDefinition": hubspot_defined,
                                 "readOnlyValue": "ro" in flags},
        "createdAt": stamp, "updatedAt": stamp, "archived": False,
    }


def _option(option, order: int) -> dict:
    """An option from a value, or from a ``(value, label)`` pair."""
    value, label = option if isinstance(option, tuple) else (option, option)
    if label in ("true", "false"):
        label = label.capitalize()
    return {"label": label, "value": value, "displayOrder": order, "hidden": False, "description": ""}


def default_properties(type_name: str, stamp: str) -> dict[str, dict]:
    """Every property definition a fresh portal has for ``type_name`` (HubSpot's plus the hub's)."""
    group = _GROUP_OF.get(type_name, type_name.replace("-", "_") + "_information")
    out: dict[str, dict] = {}
    standard = _STANDARD_PROPS.get(type_name, _CUSTOM_PROPS)
    for row in _COMMON + standard:
        out[row[0]] = property_definition(*row, group=group, hubspot_defined=True, order=-1, stamp=stamp)
    for order, row in enumerate(_HUB_PROPS.get(type_name, [])):
        out[row[0]] = property_definition(*row, group=_HUB_GROUP, hubspot_defined=False, order=order, stamp=stamp)
    return out


def default_groups(type_name: str) -> list[dict]:
    """Property groups of a fresh portal."""
    groups = [{"name": _GROUP_OF.get(type_name, type_name.replace("-", "_") + "_information"),
               "label": f"{type_name.capitalize()} information", "displayOrder": 0, "archived": False}]
    if type_name in _HUB_PROPS:
        groups.append({"name": _HUB_GROUP, "label": "Deskbridge", "displayOrder": 1, "archived": False})
    return groups


# -- pipelines --------------------------------------------------------------------------------------------
TICKET_STAGES = (("1", "New", "OPEN"), ("2", "Waiting on contact", "OPEN"), ("3", "Waiting on us", "OPEN"),
                 ("4", "Closed", "CLOSED"))
DEAL_STAGES = (("appointmentscheduled", "Appointment Scheduled", "0.2"), ("qualifiedtobuy", "Qualified To Buy", "0.4"),
               ("closedwon", "Closed Won", "1.0"), ("closedlost", "Closed Lost", "0.0"))


def default_pipelines(stamp: str) -> dict[str, dict[str, dict]]:
    """``{object type: {pipeline id: pipeline}}``: HubSpot's default support and sales pipelines."""
    def stage(sid, label, order, metadata):
        return {"id": sid, "label": label, "displayOrder": order, "metadata": metadata, "createdAt": stamp,
                "updatedAt": stamp, "archived": False, "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT"}

    tickets = {"id": "0", "label": "Support Pipeline", "displayOrder": 0, "createdAt": stamp, "updatedAt": stamp,
               "archived": False,
               "stages": [stage(sid, label, i, {"ticketState": state}) for i, (sid, label, state)
                          in enumerate(TICKET_STAGES)]}
    deals = {"id": "default", "label": "Sales Pipeline", "displayOrder": 0, "createdAt": stamp, "updatedAt": stamp,
             "archived": False,
             "stages": [stage(sid, label, i, {"isClosed": str(sid.startswith("closed")).lower(), "probability": p})
                        for i, (sid, label, p) in enumerate(DEAL_STAGES)]}
    return {"tickets": {"0": tickets}, "deals": {"default": deals}}


# -- associations -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AssociationType:
    type_id: int
    from_type: str
    to_type: str
    category: str               # HUBSPOT_DEFINED | USER_DEFINED
    label: str | None
    inverse_id: int
    is_default: bool            # the unlabelled type ``associations/default`` creates


# (from, to, default id, inverse default id, primary id or None, inverse primary id or None)
_PAIRS = (
    ("contacts", "companies", 279, 280, 1, 2),
    ("contacts", "tickets", 15, 16, None, None),
    ("tickets", "companies", 339, 340, 26, 25),
    ("contacts", "notes", 201, 202, None, None),
    ("companies", "notes", 189, 190, None, None),
    ("tickets", "notes", 227, 228, None, None),
    ("deals", "contacts", 3, 4, None, None),
    ("deals", "companies", 341, 342, 5, 6),
    ("deals", "tickets", 27, 28, None, None),
    ("deals", "notes", 213, 214, None, None),
)


def default_association_types() -> dict[int, AssociationType]:
    """HubSpot-defined association types keyed by type id (both directions, default and primary)."""
    out: dict[int, AssociationType] = {}
    for a, b, ab, ba, pab, pba in _PAIRS:
        out[ab] = AssociationType(ab, a, b, "HUBSPOT_DEFINED", None, ba, True)
        out[ba] = AssociationType(ba, b, a, "HUBSPOT_DEFINED", None, ab, True)
        if pab is not None:
            out[pab] = AssociationType(pab, a, b, "HUBSPOT_DEFINED", "Primary", pba, False)
            out[pba] = AssociationType(pba, b, a, "HUBSPOT_DEFINED", "Primary", pab, False)
    return out


def v3_association_name(kind: AssociationType, singular: dict[str, str], has_primary: bool) -> str:
    """The v3 ``type`` string: ``contact_to_company`` (primary) / ``contact_to_company_unlabeled``."""
    base = f"{singular.get(kind.from_type, kind.from_type)}_to_{singular.get(kind.to_type, kind.to_type)}"
    if kind.category == "USER_DEFINED":
        return (kind.label or base).lower().replace(" ", "_")
    return base + "_unlabeled" if kind.is_default and has_primary else base
