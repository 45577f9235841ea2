"""The SSRF guard and the SMTP error table."""

from __future__ import annotations

import smtplib
import socket

import pytest

from connectors.notify.client import check_url, host_allowed, translate_smtp
from hub.errors import PermanentError, RetryableError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("host,allowed", [("hooks.slack.com", True), ("HOOKS.SLACK.COM", True),
                                          ("a.example.com", True), ("example.com", False),
                                          ("evil-example.com", False), ("slack.com.evil.io", False)])
def test_host_allowed_exact_and_wildcard(host, allowed):
    assert host_allowed(host, ["hooks.slack.com", "*.example.com"]) is allowed


@pytest.mark.parametrize("url", ["", "ftp://hooks.slack.com/x", "https://u:p@hooks.slack.com/x",
                                 "https://169.254.169.254/", "https://hooks.slack.com.evil.io/x"])
def test_check_url_refuses(url):
    with pytest.raises(PermanentError):
        check_url(url, ["hooks.slack.com"])


def test_check_url_accepts_allowed_host_with_port():
    assert check_url("https://hooks.slack.com:443/services/T", ["hooks.slack.com"])


def test_smtp_table():
    assert isinstance(translate_smtp(smtplib.SMTPResponseException(421, b"busy")), RetryableError)
    assert isinstance(translate_smtp(smtplib.SMTPResponseException(554, b"no")), PermanentError)
    assert isinstance(translate_smtp(smtplib.SMTPRecipientsRefused({"a@b.c": (450, b"later")})), RetryableError)
    assert isinstance(translate_smtp(smtplib.SMTPRecipientsRefused({"a@b.c": (550, b"no")})), PermanentError)
    assert isinstance(translate_smtp(smtplib.SMTPServerDisconnected()), RetryableError)
    assert isinstance(translate_smtp(socket.timeout()), RetryableError)
    assert translate_smtp(KeyError("x")) is None
