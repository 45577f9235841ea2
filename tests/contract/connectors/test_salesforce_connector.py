"""The Salesforce connector through simple-salesforce against the sandbox emulator over real HTTP."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import requests

from connectors.salesforce import Config
from connectors.salesforce.connector import SalesforceConnector, marker
from hub.errors import AuthError, PermanentError, RetryableError
from hub.http import SystemGuard
from hub.pipeline import process_next_action
from tests.contract.connectors.conftest import FakeTime, control, deliver_with_retries, fake_budget

pytestmark = pytest.mark.contract
SANDBOX_SYSTEMS = ("salesforce",)


def make(sandbox, **overrides) -> SalesforceConnector:
    options = {"instance_url": sandbox.url, "session_id": "sandbox-session", "read_timeout": 5.0, **overrides}
    return SalesforceConnector(Config(**options))


@pytest.fixture
def sf(sandbox):
    connector = make(sandbox)
    yield connector
    connector.close()


def routes(sandbox) -> dict:
    return control(sandbox, "GET", "/_sandbox/stats")["salesforce"]["by_route"]


def composite_calls(sandbox) -> int:
    return routes(sandbox).get("POST /services/data/v<version>/composite/", 0)


def calls(sandbox) -> int:
    """Every HTTP request the org has answered so far."""
    return sum(routes(sandbox).values())


def count(sf, soql: str) -> int:
    return sf.client.call(lambda api: api.query(soql))["totalSize"]


# -- writes: idempotent -------------------------------------------------------------------------------------
def test_upsert_case_twice_is_one_case(sf):
    first = sf.execute("upsert_case", {"external_id": "T-1", "case": {"Subject": "Card lost", "Status": "New"}},
                       "k-1")
    again = sf.execute("upsert_case", {"external_id": "T-1", "case": {"Subject": "Card lost!"}}, "k-1")
    assert first["id"] == again["id"] and first["created"] is True and again["created"] is False
    assert again["updated_at"] >= first["updated_at"]
    assert count(sf, "SELECT Id FROM Case WHERE Deskbridge_Id__c = 'T-1'") == 1
    found = sf.find("ticket", "T-1")
    assert found["Subject"] == "Card lost!" and found["SystemModstamp"] == again["updated_at"]


def test_upsert_contact_and_account_by_external_id(sf):
    account = sf.execute("upsert_account", {"external_id": "ORG-1", "account": {"Name": "Acme"}}, "a")
    contact = sf.execute("upsert_contact", {"external_id": "CUST-1", "contact": {
        "LastName": "Doe", "Email": "doe@example.test", "AccountId": account["id"]}}, "c")
    again = sf.execute("upsert_contact", {"external_id": "CUST-1", "contact": {"FirstName": "Jane"}}, "c")
    assert again["id"] == contact["id"]
    assert sf.find("customer", "CUST-1")["Name"] == "Jane Doe"
    assert sf.find("organisation", "ORG-1")["Id"] == account["id"]
    assert sf.get("customer", contact["id"])["AccountId"] == account["id"]
    assert sf.find("customer", "CUST-404") is None


def test_update_case_by_id_and_external_id(sf):
    case = sf.execute("upsert_case", {"external_id": "T-2", "case": {"Subject": "Fees"}}, "k")
    sf.execute("update_case", {"case_id": case["id"], "fields": {"Priority": "High"}}, "u1")
    result = sf.execute("update_case", {"external_id": "T-2", "fields": {"Status": "Closed"}}, "u2")
    record = sf.get("ticket", case["id"])
    assert result["id"] == case["id"] and record["Priority"] == "High" and record["IsClosed"] is True


def test_update_of_a_missing_case_is_permanent_404(sf):
    with pytest.raises(PermanentError) as caught:
        sf.execute("update_case", {"external_id": "nope", "fields": {"Priority": "High"}}, "u")
    assert caught.value.status == 404
    case = sf.execute("upsert_case", {"external_id": "T-3", "case": {"Subject": "x"}}, "k")
    sf.execute("delete_case", {"case_id": case["id"]}, "d")
    with pytest.raises(PermanentError) as caught:
        sf.execute("update_case", {"case_id": case["id"], "fields": {"Priority": "High"}}, "u")
    assert caught.value.status == 404 and not isinstance(caught.value, RetryableError)


def test_case_comment_added_once_with_marker(sf):
    case = sf.execute("upsert_case", {"external_id": "T-4", "case": {"Subject": "Dispute"}}, "k")
    payload = {"external_id": "T-4", "body": "Customer context: verified", "public": False}
    first = sf.execute("add_case_comment", payload, "note-1")
    again = sf.execute("add_case_comment", payload, "note-1")
    other = sf.execute("add_case_comment", {"case_id": case["id"], "body": "Hello", "public": True}, "note-2")
    assert first["id"] == again["id"] and again["created"] is False and other["id"] != first["id"]
    comments = sf.read_comments(case["id"])
    assert [c["Id"] for c in comments] == [first["id"], other["id"]]
    assert comments[0]["CommentBody"].endswith(marker("note-1")) and comments[0]["IsPublished"] is False
    assert comments[1]["IsPublished"] is True


def test_delete_case_is_idempotent_and_read_as_deleted(sf):
    case = sf.execute("upsert_case", {"external_id": "T-5", "case": {"Subject": "Gone"}}, "k")
    start = next(iter(sf.read_changes("ticket", None, backfill=False)))[1]
    sf.execute("delete_case", {"case_id": case["id"]}, "d")
    assert sf.execute("delete_case", {"case_id": case["id"]}, "d")["deleted"] is True
    assert sf.execute("delete_case", {"external_id": "T-5"}, "d")["deleted"] is True
    changed = [r for page, _ in sf.read_changes("ticket", start, backfill=True) for r in page]
    assert [(r["Id"], r["deleted"]) for r in changed] == [(case["id"], True)]
    assert sf.get("ticket", case["id"]) is None


def test_delete_case_comment_removes_only_that_comment_idempotently(sandbox, sf, lose_first_answer):
    case = sf.execute("upsert_case", {"external_id": "T-6", "case": {"Subject": "Card stolen"}}, "k")
    mine = sf.execute("add_case_comment", {"case_id": case["id"], "body": "Call me", "public": True}, "c-1")
    theirs = sf.execute("add_case_comment", {"case_id": case["id"], "body": "Block it", "public": True}, "c-2")
    agent = sf.execute("add_case_comment", {"case_id": case["id"], "body": "Blocked", "public": True}, "c-3")
    start = next(iter(sf.read_changes("comment", None, backfill=False)))[1]
    assert sf.execute("delete_case_comment", {"comment_id": mine["id"]}, "d-1") == {"id": mine["id"],
                                                                                   "deleted": True}
    assert [c["Id"] for c in sf.read_comments(case["id"])] == [theirs["id"], agent["id"]]
    assert sf.get("ticket", case["id"]) is not None
    # Done already (ENTITY_IS_DELETED) is done; the comment stream reports it deleted, once.
    assert sf.execute("delete_case_comment", {"comment_id": mine["id"]}, "d-1") == {
        "id": mine["id"], "deleted": True, "already": True}
    changed = [r for page, _ in sf.read_changes("comment", start, backfill=True) for r in page]
    assert [(r["Id"], r.get("deleted")) for r in changed] == [(mine["id"], True)]
    # An answer lost after Salesforce deleted the comment: the retry finds it gone and counts it done.
    lost = lose_first_answer("DELETE", f"/sobjects/CaseComment/{theirs['id']}")
    with pytest.raises(RetryableError):
        sf.execute("delete_case_comment", {"comment_id": theirs["id"]}, "d-2")
    retried = sf.execute("delete_case_comment", {"comment_id": theirs["id"]}, "d-2")
    assert lost == [204] and retried == {"id": theirs["id"], "deleted": True, "already": True}
    assert [c["Id"] for c in sf.read_comments(case["id"])] == [agent["id"]]
    # Never there (an id of another object, or a well-formed id nobody has): done too; a malformed id is refused.
    assert sf.execute("delete_case_comment", {"comment_id": case["id"]}, "d-3")["already"] is True
    assert sf.get("ticket", case["id"]) is not None
    with pytest.raises(PermanentError, match="must be a Salesforce Id"):
        sf.execute("delete_case_comment", {"comment_id": "x' OR Id != '"}, "d-4")


def test_batch_of_450_cases_is_three_calls_with_per_item_outcomes(sandbox, sf):
    items = [({"external_id": f"B-{n}", "case": {"Subject": f"Batch {n}"}}, f"key-{n}") for n in range(450)]
    items[7] = ({"external_id": "B-7", "case": {"Subject": "bad", "Category__c": "nonsense"}}, "key-7")
    before = composite_calls(sandbox)
    outcomes = sf.execute_batch("upsert_case", items)
    assert composite_calls(sandbox) - before == 3
    assert isinstance(outcomes[7], PermanentError) and "RESTRICTED_PICKLIST" in str(outcomes[7])
    good = [o for i, o in enumerate(outcomes) if i != 7]
    assert all(isinstance(o, dict) and o["created"] and o["updated_at"] for o in good)
    assert len({o["id"] for o in good}) == 449
    assert count(sf, "SELECT Id FROM Case WHERE Deskbridge_Id__c LIKE 'B-%'") == 449
    again = sf.execute_batch("upsert_case", items[:200])
    assert [o["id"] for o in again if isinstance(o, dict)] == [o["id"] for o in outcomes[:200] if isinstance(o, dict)]
    repeated = sf.execute_batch("upsert_case", [items[0], items[0], items[1]])
    assert [o["id"] for o in repeated] == [outcomes[0]["id"], outcomes[0]["id"], outcomes[1]["id"]]


def test_450_comments_are_six_calls_and_a_missing_case_fails_alone(sandbox, sf):
    """Per 200 comments: one composite read (Case ids, existing comments), one sObject Collections create."""
    cases = sf.execute_batch("upsert_case", [({"external_id": f"C-{n}", "case": {"Subject": f"C {n}"}}, f"c{n}")
                                             for n in range(450)])
    gone = sf.execute("upsert_case", {"external_id": "C-gone", "case": {"Subject": "Gone"}}, "g")
    sf.execute("delete_case", {"case_id": gone["id"]}, "d")
    items = [({"case_id": case["id"], "external_id": f"C-{n}", "body": f"Note {n}"} if n % 2 else
              ({"external_id": f"C-{n}", "body": f"Note {n}", "public": True}), f"note-{n}")
             for n, case in enumerate(cases)]
    items[4] = ({"external_id": "C-missing", "body": "No case"}, "note-4")
    items[251] = ({"case_id": gone["id"], "body": "Deleted case"}, "note-251")
    items[300] = ({"case_id": "not-an-id", "body": "Bad id"}, "note-300")
    failed = {4, 251, 300}
    before = calls(sandbox)
    outcomes = sf.execute_batch("add_case_comment", items)
    assert calls(sandbox) - before == 6
    for index in failed:
        assert isinstance(outcomes[index], PermanentError) and outcomes[index].status == 404, outcomes[index]
    good = [o for i, o in enumerate(outcomes) if i not in failed]
    assert all(o["created"] is True for o in good) and len({o["id"] for o in good}) == 447
    assert outcomes[7]["case_id"] == cases[7]["id"] and outcomes[8]["case_id"] == cases[8]["id"]
    assert count(sf, "SELECT Id FROM CaseComment") == 447
    [comment] = sf.read_comments(cases[8]["id"])
    assert comment["CommentBody"] == f"Note 8\n\n{marker('note-8')}" and comment["IsPublished"] is True
    assert sf.read_comments(cases[7]["id"])[0]["IsPublished"] is False

    # The same keys again (a retry after lost answers): each found by its marker, nothing created twice.
    before = calls(sandbox)
    again = sf.execute_batch("add_case_comment", items)
    assert calls(sandbox) - before == 3  # the reads only
    assert [o["id"] for i, o in enumerate(again) if i not in failed] == [o["id"] for o in good]
    assert all(o["created"] is False for i, o in enumerate(again) if i not in failed)
    assert all(isinstance(again[i], PermanentError) and again[i].status == 404 for i in failed)
    assert count(sf, "SELECT Id FROM CaseComment") == 447


def test_comments_of_one_chunk_on_one_case_and_repeated_keys(sandbox, sf):
    case = sf.execute("upsert_case", {"external_id": "C-1", "case": {"Subject": "One"}}, "c")
    first = ({"external_id": "C-1", "body": "First"}, "k1")
    outcomes = sf.execute_batch("add_case_comment", [first, first, ({"case_id": case["id"], "body": "Second"}, "k2")])
    assert outcomes[0] == outcomes[1] and outcomes[0]["created"] is True and outcomes[2]["id"] != outcomes[0]["id"]
    assert [c["Id"] for c in sf.read_comments(case["id"])] == [outcomes[0]["id"], outcomes[2]["id"]]
    single = sf.execute("add_case_comment", {"case_id": case["id"], "body": "Second"}, "k2")
    assert single == {**outcomes[2], "created": False, "updated_at": single["updated_at"]} and single["updated_at"]


# -- failures ------------------------------------------------------------------------------------------------
def test_timeout_after_commit_then_retry_finds_the_case(sandbox, sf):
    adapter = sf.client.session.get_adapter(sandbox.url.replace("http://", "https://") + "/services/")
    original, lost = adapter.send, []

    def send_then_lose(request, **kwargs):
        response = original(request, **kwargs)
        if request.method == "POST" and not lost:
            lost.append(request.url)  # the org committed; the answer never arrives
            raise requests.exceptions.ReadTimeout("read timed out")
        return response
    adapter.send = send_then_lose
    payload = {"external_id": "T-6", "case": {"Subject": "Timeout"}}
    with pytest.raises(RetryableError):
        sf.execute("upsert_case", payload, "k")
    result = sf.execute("upsert_case", payload, "k")
    assert lost and result["created"] is False
    assert count(sf, "SELECT Id FROM Case WHERE Deskbridge_Id__c = 'T-6'") == 1


def test_comment_collection_answer_lost_then_retry_finds_the_comments(sandbox, sf):
    cases = sf.execute_batch("upsert_case", [({"external_id": f"L-{n}", "case": {"Subject": f"L {n}"}}, f"c{n}")
                                             for n in range(3)])
    adapter = sf.client.session.get_adapter(sandbox.url.replace("http://", "https://") + "/services/")
    original, lost = adapter.send, []

    def send_then_lose(request, **kwargs):
        response = original(request, **kwargs)
        if request.method == "POST" and request.url.rstrip("/").endswith("/composite/sobjects") and not lost:
            lost.append(response.status_code)  # the org created the comments; the answer never arrives
            raise requests.exceptions.ReadTimeout("read timed out")
        return response
    adapter.send = send_then_lose
    items = [({"external_id": f"L-{n}", "body": f"Lost {n}"}, f"lost-{n}") for n in range(3)]
    items.append(({"case_id": cases[0]["id"], "body": "Another"}, "lost-3"))
    assert all(isinstance(o, RetryableError) for o in sf.execute_batch("add_case_comment", items))
    again = sf.execute_batch("add_case_comment", items)
    assert lost == [200] and all(o["created"] is False for o in again) and len({o["id"] for o in again}) == 4
    assert [o["case_id"] for o in again] == [c["id"] for c in cases] + [cases[0]["id"]]
    assert count(sf, "SELECT Id FROM CaseComment") == 4


def test_sandbox_timeout_fault_is_retryable(sandbox):
    connector = make(sandbox, read_timeout=0.3)
    control(sandbox, "POST", "/_sandbox/faults", {"system": "salesforce", "rate": 1.0, "kinds": ["timeout"],
                                                   "timeout_seconds": 1.0})
    with pytest.raises(RetryableError):
        connector.execute("upsert_case", {"external_id": "T-7", "case": {"Subject": "x"}}, "k")
    control(sandbox, "DELETE", "/_sandbox/faults")
    assert connector.execute("upsert_case", {"external_id": "T-7", "case": {"Subject": "x"}}, "k")["id"]
    assert count(connector, "SELECT Id FROM Case WHERE Deskbridge_Id__c = 'T-7'") == 1


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_are_retryable(sandbox, sf, kind):
    control(sandbox, "POST", "/_sandbox/faults", {"system": "salesforce", "rate": 1.0, "kinds": [kind]})
    with pytest.raises(RetryableError) as caught:
        sf.execute("upsert_case", {"external_id": "T-8", "case": {"Subject": "x"}}, "k")
    assert caught.value.status == int(kind)


def test_bad_session_without_credentials_is_auth_error(sandbox):
    connector = make(sandbox, session_id="wrong")
    with pytest.raises(AuthError):
        connector.execute("upsert_case", {"external_id": "T-9", "case": {"Subject": "x"}}, "k")
    assert connector.check()["ok"] is False


def test_expired_session_refreshes_once_for_many_callers(sandbox):
    connector = make(sandbox, session_id="expired", client_id="sandbox-client", client_secret="sandbox-secret")
    errors: list[Exception] = []

    def work(n: int) -> None:
        try:
            connector.get("ticket", "500000000000001AAA")
        except Exception as exc:  # collected: the assertion below names it
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert routes(sandbox)["POST /services/oauth2/token"] == 1
    assert connector.client.session_id == "sandbox-session"


def test_client_credentials_only_fetches_a_token(sandbox):
    connector = make(sandbox, session_id=None, client_id="sandbox-client", client_secret="sandbox-secret")
    assert connector.check()["ok"] is True
    bad = make(sandbox, session_id=None, client_id="sandbox-client", client_secret="wrong")
    with pytest.raises(AuthError):
        bad.get("ticket", "500000000000001AAA")


def test_spent_allocation_pauses_the_guard_then_succeeds(sandbox):
    connector = make(sandbox, limit_pause_seconds=30)
    control(sandbox, "POST", "/_sandbox/salesforce/allocation", {"max": 10, "used": 10})
    fake = FakeTime(sandbox, on_sleep=lambda: control(sandbox, "POST", "/_sandbox/salesforce/allocation",
                                                      {"max": 1000, "used": 10}))
    fake_budget(connector, fake)
    result = connector.execute("upsert_case", {"external_id": "T-10", "case": {"Subject": "x"}}, "k")
    assert result["created"] is True
    assert connector.guard.stats.by_status.get(403) == 1  # refused once, then waited instead of hammering
    assert sum(fake.slept) >= 30


def test_usage_header_pauses_before_the_allocation_runs_out(sandbox):
    connector = make(sandbox, limit_pause_seconds=30)
    connector.get("ticket", "500000000000001AAA")  # warm the SDK object (no call yet)
    control(sandbox, "POST", "/_sandbox/salesforce/allocation", {"max": 100, "used": 98})
    fake = FakeTime(sandbox, on_sleep=lambda: control(sandbox, "POST", "/_sandbox/salesforce/allocation",
                                                      {"max": 1000, "used": 100}))
    fake_budget(connector, fake)
    for n in range(3):
        connector.execute("upsert_case", {"external_id": f"U-{n}", "case": {"Subject": "x"}}, f"k{n}")
    assert connector.client.api_usage[1] == 1000
    assert 403 not in connector.guard.stats.by_status and sum(fake.slept) >= 30


def test_daily_limit_longer_than_inline_wait_goes_back_to_the_outbox(sandbox):
    connector = make(sandbox, limit_pause_seconds=3600)
    control(sandbox, "POST", "/_sandbox/salesforce/allocation", {"max": 10, "used": 10})
    fake = FakeTime(sandbox)
    fake_budget(connector, fake)
    with pytest.raises(RetryableError) as caught:
        connector.execute("upsert_case", {"external_id": "T-11", "case": {"Subject": "x"}}, "k")
    assert caught.value.retry_after == 3600 and fake.slept == []
    with pytest.raises(RetryableError):
        connector.execute("upsert_case", {"external_id": "T-11", "case": {"Subject": "x"}}, "k")
    assert connector.guard.stats.by_status.get(403) == 1  # the second attempt never left the hub


# -- reads ---------------------------------------------------------------------------------------------------
def test_read_changes_pages_lose_nothing_when_records_change_between_pages(sandbox):
    connector = make(sandbox, page_size=10)
    created = connector.execute_batch("upsert_case", [({"external_id": f"R-{n}", "case": {"Subject": f"R {n}"}},
                                                       f"k{n}") for n in range(35)])
    ids = [o["id"] for o in created]
    seen: list[str] = []
    cursors = []
    for number, (page, cursor) in enumerate(connector.read_changes("ticket", None, backfill=True)):
        seen += [r["Id"] for r in page]
        cursors.append(cursor)
        if number == 0:
            sandbox.sandbox.advance_clock(1)
            connector.execute("update_case", {"case_id": ids[3], "fields": {"Priority": "High"}}, "u1")
            connector.execute("update_case", {"case_id": ids[25], "fields": {"Priority": "Low"}}, "u2")
    assert set(ids) <= set(seen)
    assert seen.count(ids[3]) == 2 and seen.count(ids[25]) == 1  # a changed record comes again, none is lost
    assert [(c["updated_at"], c["id"]) for c in cursors] == sorted((c["updated_at"], c["id"]) for c in cursors)
    tail = [r for page, _ in connector.read_changes("ticket", cursors[-1], backfill=True) for r in page]
    assert tail == []


def test_backfill_false_starts_from_now(sandbox, sf):
    control(sandbox, "POST", "/_sandbox/seed")
    pages = list(sf.read_changes("ticket", None, backfill=False))
    assert len(pages) == 1 and pages[0][0] == [] and pages[0][1]["id"]
    sandbox.sandbox.advance_clock(1)
    new = sf.execute("upsert_case", {"external_id": "N-1", "case": {"Subject": "new"}}, "k")
    changed = [r for page, _ in sf.read_changes("ticket", pages[0][1], backfill=True) for r in page]
    assert [r["Id"] for r in changed] == [new["id"]]
    everything = [r for page, _ in sf.read_changes("customer", None, backfill=True) for r in page]
    assert len(everything) > 10 and all("Bank_Customer_Id__c" in r for r in everything)


def test_check_reports_api_usage(sf):
    health = sf.check()
    assert health["ok"] is True and "api usage" in health["detail"]


def test_late_commit_inside_the_overlap_is_read_once(sandbox, sf):
    created = sf.execute_batch("upsert_case", [({"external_id": f"O-{n}", "case": {"Subject": "x"}}, f"k{n}")
                                               for n in range(3)])
    cursor = [c for _, c in sf.read_changes("ticket", None, backfill=True)][-1]
    sandbox.sandbox.advance_clock(5)
    late = sf.execute("upsert_case", {"external_id": "O-late", "case": {"Subject": "late"}}, "late")
    row = sandbox.sandbox.emulators["salesforce"].store.rows["Case"][late["id"]]
    row["SystemModstamp"] -= timedelta(seconds=20)  # stamped before the cursor, committed after it was read
    first = [r["Id"] for page, c in sf.read_changes("ticket", cursor, backfill=True) for r in page]
    assert first == [late["id"]] and not set(first) & {o["id"] for o in created}
    cursor = [c for _, c in sf.read_changes("ticket", cursor, backfill=True)][-1]
    assert [r for page, _ in sf.read_changes("ticket", cursor, backfill=True) for r in page] == []


def test_outbox_actions_reach_salesforce_in_one_batch(sandbox, make_hub):
    hub = make_hub({"connectors": {"salesforce": {"instance_url": sandbox.url, "session_id": "sandbox-session"}}})
    for n in range(5):
        hub.emit("salesforce", "upsert_case", {"external_id": f"P-{n}", "case": {"Subject": f"P {n}"}}, f"p{n}")
    while process_next_action(hub, "test"):
        pass
    assert composite_calls(sandbox) == 1
    assert count(hub.connectors["salesforce"], "SELECT Id FROM Case WHERE Deskbridge_Id__c LIKE 'P-%'") == 5


def test_outbox_comments_reach_salesforce_in_one_read_and_one_create(sandbox, make_hub):
    hub = make_hub({"connectors": {"salesforce": {"instance_url": sandbox.url, "session_id": "sandbox-session"}}})
    connector = hub.connectors["salesforce"]
    connector.execute_batch("upsert_case", [({"external_id": f"PC-{n}", "case": {"Subject": f"PC {n}"}}, f"c{n}")
                                            for n in range(5)])
    before = routes(sandbox)
    for n in range(5):
        hub.emit("salesforce", "add_case_comment", {"external_id": f"PC-{n}", "body": f"Outbox {n}"}, f"pc{n}")
    while process_next_action(hub, "test"):
        pass
    after = routes(sandbox)
    assert {route: after[route] - before.get(route, 0) for route in after if after[route] != before.get(route, 0)} \
        == {"POST /services/data/v<version>/composite/": 1, "POST /services/data/v<version>/composite/sobjects/": 1}
    assert count(connector, "SELECT Id FROM CaseComment WHERE Parent.Deskbridge_Id__c LIKE 'PC-%'") == 5


def test_twenty_percent_faults_converge_without_duplicates(sandbox):
    guard = SystemGuard("salesforce", per_minute=6000, fail_max=1000)  # the breaker is tested in hub.http
    connector = SalesforceConnector(Config(instance_url=sandbox.url, session_id="sandbox-session",
                                           read_timeout=2.0), guard=guard)
    fake = FakeTime(sandbox)
    fake_budget(connector, fake)
    control(sandbox, "POST", "/_sandbox/faults", {"system": "salesforce", "rate": 0.2, "seed": 11,
                                                   "kinds": ["429", "500", "503", "timeout", "reset"],
                                                   "timeout_seconds": 0.05})
    pending = [({"external_id": f"F-{n}", "case": {"Subject": f"F {n}"}}, f"f{n}") for n in range(300)]
    pending = deliver_with_retries(connector, "upsert_case", pending, fake)
    injected = control(sandbox, "GET", "/_sandbox/faults")["salesforce"]["injected"]
    control(sandbox, "DELETE", "/_sandbox/faults")
    assert pending == [] and sum(injected.values()) >= 5 and len(injected) >= 3
    assert count(connector, "SELECT Id FROM Case WHERE Deskbridge_Id__c LIKE 'F-%'") == 300


def test_refs_ride_in_the_case_and_contact_writes(sandbox, sf):
    """``refs`` become Case.ContactId/AccountId and Contact.AccountId inside the same composite call."""
    account = sf.execute("upsert_account", {"external_id": "ORG-R", "account": {"Name": "Acme"}}, "a")
    contact = sf.execute_batch("upsert_contact", [({"external_id": "CUST-R", "refs": {"organisation": account["id"]},
                                                    "contact": {"LastName": "Roe"}}, "c")])[0]
    assert sf.get("customer", contact["id"])["AccountId"] == account["id"]
    before = composite_calls(sandbox)
    items = [({"external_id": f"RC-{n}", "refs": {"customer": contact["id"], "organisation": account["id"]},
               "case": {"Subject": f"Refs {n}"}}, f"k{n}") for n in range(3)]
    outcomes = sf.execute_batch("upsert_case", items)
    assert composite_calls(sandbox) - before == 1
    for outcome in outcomes:
        case = sf.get("ticket", outcome["id"])
        assert (case["ContactId"], case["AccountId"]) == (contact["id"], account["id"])
    other = sf.execute("upsert_account", {"external_id": "ORG-S", "account": {"Name": "Other"}}, "b")
    sf.execute("update_case", {"case_id": outcomes[0]["id"], "fields": {"Priority": "High"},
                               "refs": {"organisation": other["id"]}}, "u")
    assert sf.get("ticket", outcomes[0]["id"])["AccountId"] == other["id"]
