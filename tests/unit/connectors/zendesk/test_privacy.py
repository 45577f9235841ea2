"""connectors.zendesk.privacy: a person's roles on a ticket, whole-comment redaction markup, redacted comments."""

from __future__ import annotations

import re

import pytest

from connectors.zendesk.privacy import is_redacted, participant_roles, redact_all

pytestmark = pytest.mark.unit


def test_roles_name_ccs_and_followers_and_fall_back_to_legacy_collaborators():
    ticket = {"email_cc_ids": [7, 8], "follower_ids": [8, 9], "collaborator_ids": [7, 8, 9, 10]}
    assert participant_roles(ticket, 7) == ["email_cc"]
    assert participant_roles(ticket, "8") == ["email_cc", "follower"]
    assert participant_roles(ticket, 9) == ["follower"]
    assert participant_roles(ticket, 10) == ["collaborator"]  # an account without CCs and followers
    assert participant_roles(ticket, 11) == [] and participant_roles({}, 7) == []


def test_redact_all_wraps_every_text_and_marks_links_and_images_and_keeps_the_rest_byte_for_byte():
    markup = ('<div class="zd-comment" dir="auto"><p>IBAN <b>GB00</b> &amp; more</p>\n'
              '<p><a href="https://x.test/a">link</a><img src="https://x.test/i.png" /></p></div>')
    marked = redact_all(markup)
    assert marked == ('<div class="zd-comment" dir="auto"><p><redact>IBAN </redact><b><redact>GB00</redact></b>'
                      '<redact> &amp; more</redact></p>\n<p><a redact href="https://x.test/a"><redact>link</redact>'
                      '</a><img redact src="https://x.test/i.png" /></p></div>')
    assert re.sub(r"</?redact>| redact(?=[ />])", "", marked) == markup
    assert redact_all("") == ""


def test_a_comment_is_redacted_when_no_text_or_attachment_is_left():
    assert is_redacted({"plain_body": "▇▇▇ ▇▇\n▇", "attachments": []})
    assert is_redacted({"body": "▇▇", "attachments": [{"file_name": "redacted.txt", "size": 0}]})
    assert not is_redacted({"plain_body": "▇▇ 42", "attachments": []})
    assert not is_redacted({"plain_body": "▇▇", "attachments": [{"file_name": "passport.jpg", "size": 10}]})
