"""Salesforce Outbound Message parsing, organisation allow-list and Ack."""

from __future__ import annotations

import pytest
from defusedxml.ElementTree import fromstring

from webhooks.verifiers import VerificationError
from webhooks.verifiers.salesforce import MessageFormatError, SalesforceVerifier, ack_response

pytestmark = pytest.mark.unit

ORG = "00D5g000004ABCDEAA"


def message(org=ORG, notifications=None) -> bytes:
    notifications = notifications if notifications is not None else [("04l5g0000001AAAAA1", "500000000000001AAA", "Card blocked")]
    items = "".join(
        f"""<Notification><Id>{nid}</Id>
          <sObject xsi:type="sf:Case" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
            <sf:Id>{cid}</sf:Id><sf:Subject>{subject}</sf:Subject><sf:Description xsi:nil="true"/>
            <sf:Account><sf:Name>Acme</sf:Name></sf:Account>
          </sObject></Notification>"""
        for nid, cid, subject in notifications
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k5g0000008OAAAAU</ActionId>
   <SessionId>00D5g!AQ4AQSECRETSESSION</SessionId>
   <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/59.0/00D5g000004ABCD</EnterpriseUrl>
   <PartnerUrl>https://example.my.salesforce.com/services/Soap/u/59.0/00D5g000004ABCD</PartnerUrl>
   {items}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


def test_parses_notifications_and_drops_the_session_id():
    parsed = SalesforceVerifier([ORG]).verify(message())
    assert parsed.organization_id == ORG
    assert parsed.action_id == "04k5g0000008OAAAAU"
    [note] = parsed.notifications
    assert note.id == "04l5g0000001AAAAA1"
    assert note.sobject_type == "Case"
    assert note.fields == {"Id": "500000000000001AAA", "Subject": "Card blocked", "Description": None,
                           "Account": {"Name": "Acme"}}
    assert "SECRETSESSION" not in repr(parsed)


def test_fifteen_character_allow_list_entry_matches_eighteen_character_id():
    SalesforceVerifier([ORG[:15]]).verify(message())


@pytest.mark.parametrize("org", ["00D5g000004ZZZZEAA", "00d5g000004abcdEAA", "", "not-an-org"])
def test_other_organisations_are_refused(org):
    with pytest.raises(VerificationError):
        SalesforceVerifier([ORG]).verify(message(org=org))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not xml", "not well-formed"),
        (b"<a/>", "not a SOAP"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "not well-formed"),
        (b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>', "not well-formed"),
        (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body/></soapenv:Envelope>',
         "no outbound notifications"),
    ],
)
def test_malformed_and_hostile_xml(body, reason):
    with pytest.raises(MessageFormatError, match=reason):
        SalesforceVerifier([ORG]).verify(body)


def test_notification_count_bounds():
    with pytest.raises(MessageFormatError, match="no Notification"):
        SalesforceVerifier([ORG]).verify(message(notifications=[]))
    many = [(f"04l5g00000{i:08d}", "500000000000001AAA", "s") for i in range(101)]
    with pytest.raises(MessageFormatError, match="more than 100"):
        SalesforceVerifier([ORG]).verify(message(notifications=many))
    assert len(SalesforceVerifier([ORG]).verify(message(notifications=many[:100])).notifications) == 100


def test_allow_list_required():
    with pytest.raises(ValueError):
        SalesforceVerifier([])


def test_ack_response_is_a_soap_notifications_response():
    root = fromstring(ack_response())
    ack = root.find(".//{http://soap.sforce.com/2005/09/outbound}Ack")
    assert root.tag == "{http://schemas.xmlsoap.org/soap/envelope/}Envelope"
    assert ack is not None and ack.text == "true"
