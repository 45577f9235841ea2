"""SOQL parser: the grammar connectors use, and Salesforce-shaped positioned errors."""

from __future__ import annotations

import pytest

from hub.sandbox.salesforce.errors import SalesforceApiError
from hub.sandbox.salesforce.soql import Aggregate, BoolOp, Compare, FieldRef, parse, unquote

pytestmark = pytest.mark.unit


def test_full_statement():
    query = parse("select Id, Contact.Email FROM Case WHERE (LastModifiedDate > 2024-01-01T00:00:00Z OR "
                  "(LastModifiedDate = 2024-01-01T00:00:00.000+0000 AND Id > '500')) ORDER BY LastModifiedDate "
                  "ASC, Id DESC NULLS FIRST LIMIT 10 OFFSET 5")
    assert [f.path for f in query.select] == [("Id",), ("Contact", "Email")]
    assert query.sobject == "Case" and query.limit == 10 and query.offset == 5
    assert isinstance(query.where, BoolOp) and query.where.op == "OR"
    inner = query.where.parts[1]
    assert inner.op == "AND" and inner.parts[0].value.kind == "datetime"
    assert [(k.field.path, k.descending, k.nulls_last) for k in query.order] == [
        (("LastModifiedDate",), False, False), (("Id",), True, False)]


def test_in_not_in_like_and_literals():
    query = parse("SELECT COUNT() FROM Contact WHERE Segment__c NOT IN ('merchant', 'investor') AND Name LIKE "
                  "'O\\'Brien%' AND Identity_Verified__c = true AND Birthdate < 2000-01-01 AND CreatedDate = "
                  "LAST_N_DAYS:7 AND Email != null")
    assert query.select[0] == Aggregate("COUNT", None, None)
    parts = query.where.parts
    assert parts[0].op == "NOTIN" and [v.value for v in parts[0].value] == ["merchant", "investor"]
    assert parts[1].op == "LIKE" and parts[1].value.value == "O'Brien%"
    assert parts[2].value.kind == "boolean" and parts[3].value.kind == "date"
    assert parts[4].value.value == ("LAST_N_DAYS", 7) and parts[5].value.kind == "null"


def test_precedence_and_binds_tighter_than_or():
    where = parse("SELECT Id FROM Case WHERE Status = 'New' OR Priority = 'High' AND IsEscalated = true").where
    assert where.op == "OR" and isinstance(where.parts[0], Compare) and where.parts[1].op == "AND"


@pytest.mark.parametrize("text, column, token", [
    ("SELECT Id FRM Case", 11, "FRM"),
    ("SELECT FROM Case", 8, "FROM"),
    ("SELECT Id FROM Case WHERE", 26, "<EOF>"),
    ("SELECT Id FROM Case LIMIT x", 27, "x"),
    ("SELECT Id FROM Case WHERE Status = 'New' GROUP BY Status", 42, "GROUP"),
])
def test_malformed_queries_point_at_the_token(text, column, token):
    with pytest.raises(SalesforceApiError) as caught:
        parse(text)
    error = caught.value
    assert error.status == 400 and error.code == "MALFORMED_QUERY"
    assert f"ERROR at Row:1:Column:{column}\nunexpected token: '{token}'" in error.message
    assert error.message.splitlines()[2] == " " * (column - 1) + "^"


def test_empty_query():
    with pytest.raises(SalesforceApiError) as caught:
        parse("   ")
    assert caught.value.code == "MALFORMED_QUERY"


def test_unquote_escapes():
    assert unquote(r"'a\'b\\c\nd'") == "a'b\\c\nd"
    assert unquote(r"'50\%'") == "50\\%"  # LIKE escapes survive for the matcher


def test_field_ref_text():
    assert FieldRef(("Account", "Name"), None).text == "Account.Name"


def test_aggregate_functions_with_alias():
    query = parse("SELECT MAX(SystemModstamp) newest, COUNT(Id), AVG(Risk_Score__c) FROM Case")
    assert [(a.func, a.field.path, a.alias) for a in query.select] == [
        ("MAX", ("SystemModstamp",), "newest"), ("COUNT", ("Id",), None), ("AVG", ("Risk_Score__c",), None)]
    with pytest.raises(SalesforceApiError):
        parse("SELECT MAX() FROM Case")
