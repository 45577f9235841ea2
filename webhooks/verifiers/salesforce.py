"""Salesforce Outbound Messages (SOAP 1.1).

Outbound Messages carry no HMAC: authenticity rests on HTTPS (optionally a client certificate and
an IP allow-list) and on the ``OrganizationId`` matching an allowed org. The XML is parsed with
``defusedxml`` (no DTDs, no entity expansion, no external references). The ``SessionId`` element
is a live Salesforce session and is deliberately dropped.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from hub.errors import DeskbridgeError
from webhooks.verifiers import MAX_ID_LENGTH, VerificationError, secret_list

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100  # Salesforce sends 1..100 per message


class MessageFormatError(DeskbridgeError):
    """The body is not a well-formed Outbound Message (answered with 400, not 401)."""


@dataclass(frozen=True)
class Notification:
    id: str
    sobject_type: str
    fields: dict


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    action_id: str | None
    enterprise_url: str | None
    partner_url: str | None
    notifications: list[Notification] = field(default_factory=list)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _text(element: Element | None) -> str | None:
    if element is None or element.get(f"{{{XSI_NS}}}nil") == "true":
        return None
    return (element.text or "").strip()


def _fields(sobject: Element) -> dict:
    values: dict = {}
    for child in sobject:
        name = _local(child.tag)
        # Relationship fields arrive as nested sObjects.
        values[name] = _fields(child) if len(child) else _text(child)
    return values


def _org15(org_id: str) -> str:
    """The case-sensitive 15-character form; the 18-character form only adds a checksum suffix."""
    return org_id.strip()[:15]


class SalesforceVerifier:
    """Parses an Outbound Message safely and checks its organisation against the allow-list."""

    def __init__(self, organization_ids: str | Sequence[str]):
        self._orgs = [_org15(o).encode("ascii") for o in secret_list(organization_ids, "Salesforce organisation")]

    def verify(self, body: bytes) -> OutboundMessage:
        """Return the parsed message, raise ``MessageFormatError`` (400) or ``VerificationError`` (401)."""
        notifications_el = self._notifications_element(body)
        org_id = _text(_child(notifications_el, "OrganizationId"))
        if not org_id:
            raise VerificationError("Outbound Message has no OrganizationId")
        if not org_id.isascii() or len(org_id) not in (15, 18):
            raise VerificationError("OrganizationId is not a Salesforce organisation id")
        given = _org15(org_id).encode("ascii")
        if not any(hmac.compare_digest(given, allowed) for allowed in self._orgs):
            raise VerificationError("OrganizationId is not in the allow-list")
        items = [c for c in notifications_el if _local(c.tag) == "Notification"]
        if not items:
            raise MessageFormatError("Outbound Message has no Notification")
        if len(items) > MAX_NOTIFICATIONS:
            raise MessageFormatError(f"Outbound Message has more than {MAX_NOTIFICATIONS} notifications")
        return OutboundMessage(
            organization_id=org_id,
            action_id=_text(_child(notifications_el, "ActionId")),
            enterprise_url=_text(_child(notifications_el, "EnterpriseUrl")),
            partner_url=_text(_child(notifications_el, "PartnerUrl")),
            notifications=[_notification(item) for item in items],
        )

    @staticmethod
    def _notifications_element(body: bytes) -> Element:
        try:
            root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        except (ParseError, DefusedXmlException, ValueError) as exc:
            raise MessageFormatError(f"body is not well-formed XML ({type(exc).__name__})") from None
        if root.tag != f"{{{SOAP_NS}}}Envelope":
            raise MessageFormatError("body is not a SOAP 1.1 envelope")
        soap_body = root.find(f"{{{SOAP_NS}}}Body")
        element = None if soap_body is None else soap_body.find(f"{{{OUTBOUND_NS}}}notifications")
        if element is None:
            raise MessageFormatError("SOAP body has no outbound notifications element")
        return element


def _notification(item: Element) -> Notification:
    notification_id = _text(_child(item, "Id"))
    if not notification_id or len(notification_id) > MAX_ID_LENGTH:
        raise MessageFormatError("Notification has no valid Id")
    sobject = _child(item, "sObject")
    if sobject is None:
        raise MessageFormatError(f"Notification {notification_id} has no sObject")
    xsi_type = sobject.get(f"{{{XSI_NS}}}type") or "sObject"
    return Notification(id=notification_id, sobject_type=xsi_type.rsplit(":", 1)[-1], fields=_fields(sobject))


def ack_response(ack: bool = True) -> bytes:
    """The SOAP ``notificationsResponse`` Salesforce expects; without ``<Ack>true</Ack>`` it retries."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}">'
        "<soapenv:Body>"
        f'<notificationsResponse xmlns="{OUTBOUND_NS}">'
        f"<Ack>{'true' if ack else 'false'}</Ack>"
        "</notificationsResponse>"
        "</soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode("utf-8")
