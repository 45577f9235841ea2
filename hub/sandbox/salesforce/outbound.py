"""Outbound Messages: SOAP 1.1 ``notifications`` POSTed to registered listeners when Cases change."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from hub.sandbox.salesforce import ids
from hub.sandbox.salesforce.errors import SalesforceApiError
from hub.sandbox.salesforce.oauth import ORG_ID
from hub.sandbox.salesforce.schema import sobject
from hub.sandbox.salesforce.store import Change

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.salesforce.emulator import SalesforceEmulator

NAMESPACE = "http://soap.sforce.com/2005/09/outbound"
MAX_NOTIFICATIONS = 100  # per message, as Salesforce batches them
EVENT_TYPE = "salesforce.outbound_message"


@dataclass
class Listener:
    action_id: str
    url: str
    object: str
    fields: list[str] | None

    def describe(self) -> dict:
        return {"id": self.action_id, "url": self.url, "object": self.object, "fields": self.fields}


class OutboundMessages:
    """Registered outbound-message actions and the envelopes they send."""

    def __init__(self, emulator: "SalesforceEmulator"):
        self.emulator = emulator
        self.listeners: list[Listener] = []
        self._actions = itertools.count(1)
        self._notifications = itertools.count(1)

    def reset(self) -> None:
        self.listeners.clear()

    def register(self, body: object) -> Listener:
        if not isinstance(body, dict) or not isinstance(body.get("url"), str) or \
                not body["url"].startswith(("http://", "https://")):
            raise SalesforceApiError(400, "INVALID_INPUT", "url must be an http(s) URL")
        sobj = sobject(str(body.get("object", "Case")))
        if sobj is None:
            raise SalesforceApiError(400, "INVALID_TYPE", f"unknown object {body.get('object')!r}")
        fields = body.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or any(sobj.field(str(f)) is None for f in fields):
                raise SalesforceApiError(400, "INVALID_FIELD", "fields must name fields of " + sobj.name)
            fields = [sobj.field(str(f)).name for f in fields]
            if "Id" not in fields:
                fields.insert(0, "Id")
        listener = Listener(ids.make_id("04k", next(self._actions)), body["url"], sobj.name, fields)
        self.listeners.append(listener)
        return listener

    def on_changes(self, changes: list[Change]) -> None:
        """Store listener: queue one envelope per listener for created/updated records of its object."""
        for listener in self.listeners:
            record_ids = [record_id for kind, type_name, record_id in changes
                          if type_name == listener.object and kind in ("created", "updated")]
            unique = list(dict.fromkeys(record_ids))
            for start in range(0, len(unique), MAX_NOTIFICATIONS):
                body = self.envelope(listener, unique[start:start + MAX_NOTIFICATIONS])
                self.emulator.sandbox.emit(listener.url, body.encode("utf-8"),
                                           {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
                                           event_type=EVENT_TYPE)

    def envelope(self, listener: Listener, record_ids: list[str]) -> str:
        sobj = sobject(listener.object)
        base = "https://sandbox.my.salesforce.com/services/Soap"
        parts = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                 'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
                 "<soapenv:Body>", f'<notifications xmlns="{NAMESPACE}">',
                 f"<OrganizationId>{ORG_ID}</OrganizationId>", f"<ActionId>{listener.action_id}</ActionId>",
                 '<SessionId xsi:nil="true"/>', f"<EnterpriseUrl>{base}/c/59.0/{ORG_ID[:15]}</EnterpriseUrl>",
                 f"<PartnerUrl>{base}/u/59.0/{ORG_ID[:15]}</PartnerUrl>"]
        for record_id in record_ids:
            row = self.emulator.store.rows[sobj.name].get(record_id)
            if row is None:
                continue
            parts.append(f"<Notification><Id>{ids.make_id('04l', next(self._notifications))}</Id>")
            parts.append(f'<sObject xsi:type="sf:{sobj.name}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">')
            chosen = listener.fields or [f.name for f in sobj.fields if f.type != "base64"]
            for name in chosen:
                value = row.get(name)
                if value is None:
                    continue  # Salesforce leaves null fields out of the message
                parts.append(f"<sf:{name}>{escape(_soap_value(value))}</sf:{name}>")
            parts.append("</sObject></Notification>")
        parts += ["</notifications>", "</soapenv:Body>", "</soapenv:Envelope>"]
        return "".join(parts)


def _soap_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


ACK = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/'
       'envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">'
       "<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>")
