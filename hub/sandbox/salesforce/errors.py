"""Salesforce REST error bodies: a JSON array of ``{"message", "errorCode", "fields"?}``."""

from __future__ import annotations

NOT_FOUND_MESSAGE = "The requested resource does not exist"


class SalesforceApiError(Exception):
    """One REST API error; ``status`` is the HTTP status, ``code`` Salesforce's ``errorCode``."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict]:
        """The top-level error array of a REST response."""
        entry: dict = {"message": self.message, "errorCode": self.code}
        if self.fields is not None:
            entry["fields"] = list(self.fields)
        return [entry]

    def record_error(self) -> dict:
        """The per-record shape used inside sObject Collections results."""
        return {"statusCode": self.code, "message": self.message, "fields": list(self.fields or [])}


def not_found(message: str = NOT_FOUND_MESSAGE) -> SalesforceApiError:
    return SalesforceApiError(404, "NOT_FOUND", message)


def invalid_field(message: str, fields: list[str] | None = None) -> SalesforceApiError:
    return SalesforceApiError(400, "INVALID_FIELD", message, fields)


def malformed_query(message: str) -> SalesforceApiError:
    return SalesforceApiError(400, "MALFORMED_QUERY", message)


def json_parser_error(message: str) -> SalesforceApiError:
    return SalesforceApiError(400, "JSON_PARSER_ERROR", message)
