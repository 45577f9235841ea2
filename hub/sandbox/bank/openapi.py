"""The OpenAPI 3.1 document of the core banking emulator, served at ``/bank/v1/openapi.json``."""

from __future__ import annotations

import copy
import functools

MONEY = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": "Decimal amount in major units",
         "examples": ["12.50"]}
TIME = {"type": "string", "format": "date-time"}
TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
STR_OR_NULL = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], props: dict, **extra) -> dict:
    return {"type": "object", "required": required, "properties": props, **extra}


def _list_of(name: str) -> dict:
    return _obj(["object", "data", "has_more"], {
        "object": {"const": "list"}, "url": {"type": "string"}, "data": {"type": "array", "items": _ref(name)},
        "has_more": {"type": "boolean"}, "next_starting_after": STR_OR_NULL})


SCHEMAS = {
    "Error": _obj(["error"], {"error": _obj(["code", "message"], {
        "code": {"type": "string"}, "message": {"type": "string"}, "param": {"type": "string"}})}),
    "Customer": _obj(["id", "object", "status", "segment", "kyc_status"], {
        "id": {"type": "string", "examples": ["CUST-0001"]}, "object": {"const": "customer"},
        "status": {"enum": ["active", "erased"]}, "first_name": {"type": "string"}, "last_name": {"type": "string"},
        "email": {"type": ["string", "null"], "format": "email"}, "phone": STR_OR_NULL,
        "segment": {"enum": ["end_user", "merchant", "investor"]},
        "kyc_status": {"enum": ["pending", "verified", "rejected", "expired"]},
        "organisation": {"type": ["object", "null"], "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "domain": {"type": "string"}}},
        "address": {"type": ["object", "null"]}, "lifetime_value": MONEY, "created_at": TIME, "updated_at": TIME,
        "erased_at": TIME}),
    "CustomerUpdate": {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": {
        "email": {"type": "string", "format": "email"}, "phone": {"type": "string", "pattern": r"^\+[1-9]\d{6,14}$"},
        "first_name": {"type": "string"}, "last_name": {"type": "string"}, "address": {"type": "object"}}},
    "Erasure": _obj(["customer_id", "erased", "erased_fields", "retained", "deleted"], {
        "object": {"const": "erasure"}, "customer_id": {"type": "string"}, "erased": {"const": True},
        "erased_at": TIME, "erased_fields": {"type": "array", "items": {"type": "string"}},
        "deleted": {"type": "object", "additionalProperties": {"type": "integer"}},
        "retained": {"type": "array", "items": _obj(["records", "count", "reason"], {
            "records": {"type": "string"}, "count": {"type": "integer"}, "reason": {"type": "string"}})}}),
    "CustomerSummary": _obj(["customer_id", "segment", "kyc_status", "accounts", "recent_failed_payments",
                             "open_disputes", "lifetime_value"], {
        "object": {"const": "customer_summary"}, "customer_id": {"type": "string"}, "status": {"type": "string"},
        "name": {"type": "string"}, "segment": {"type": "string"}, "kyc_status": {"type": "string"},
        "organisation": {"type": ["object", "null"]},
        "accounts": {"type": "array", "items": _obj(["id", "status"], {
            "id": {"type": "string"}, "status": {"type": "string"}, "currency": {"type": "string"},
            "balance": MONEY})},
        "cards": {"type": "array", "items": _obj(["id", "last4", "status"], {
            "id": {"type": "string"}, "last4": {"type": "string"}, "brand": {"type": "string"},
            "status": {"type": "string"}})},
        "recent_failed_payments": {"type": "array", "items": _obj(["id", "amount", "currency", "failure_code"], {
            "id": {"type": "string"}, "amount": MONEY, "currency": {"type": "string"},
            "failure_code": {"type": "string"}, "description": {"type": "string"}, "created_at": TIME})},
        "open_disputes": {"type": "array", "items": _obj(["id", "status", "amount", "currency"], {
            "id": {"type": "string"}, "status": {"type": "string"}, "amount": MONEY, "currency": {"type": "string"},
            "transaction_id": {"type": "string"}, "evidence_due_by": TIME})},
        "lifetime_value": MONEY, "as_of": TIME}),
    "Account": _obj(["id", "object", "customer_id", "iban", "currency", "balance", "status"], {
        "id": {"type": "string"}, "object": {"const": "account"}, "customer_id": {"type": "string"},
        "iban": {"type": "string"}, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}, "balance": MONEY,
        "status": {"enum": ["active", "frozen", "closed"]}, "freeze_reason": STR_OR_NULL, "created_at": TIME,
        "updated_at": TIME}),
    "Card": _obj(["id", "object", "customer_id", "last4", "brand", "status"], {
        "id": {"type": "string"}, "object": {"const": "card"}, "customer_id": {"type": "string"},
        "account_id": {"type": "string"}, "last4": {"type": "string", "pattern": r"^\d{4}$"},
        "brand": {"enum": ["visa", "mastercard"]}, "expiry": {"type": "string"},
        "status": {"enum": ["active", "frozen"]}, "status_reason": {"type": "string"}, "updated_at": TIME}),
    "Transaction": _obj(["id", "object", "customer_id", "account_id", "amount", "currency", "status"], {
        "id": {"type": "string"}, "object": {"const": "transaction"}, "customer_id": {"type": "string"},
        "account_id": {"type": "string"}, "card_id": STR_OR_NULL,
        "amount": {**MONEY, "description": "Negative = money out"}, "currency": {"type": "string"},
        "description": {"type": "string"}, "status": {"enum": ["posted", "pending", "failed", "reversed"]},
        "failure_code": STR_OR_NULL, "created_at": TIME, "updated_at": TIME}),
    "Dispute": _obj(["id", "object", "customer_id", "transaction_id", "amount", "currency", "status"], {
        "id": {"type": "string"}, "object": {"const": "dispute"}, "customer_id": {"type": "string"},
        "transaction_id": {"type": "string"}, "amount": MONEY, "currency": {"type": "string"},
        "status": {"enum": ["needs_response", "under_review", "won", "lost"]}, "reason": {"type": "string"},
        "evidence_due_by": TIME, "outcome": STR_OR_NULL, "created_at": TIME, "updated_at": TIME}),
    "DisputeCreate": _obj(["transaction_id"], {
        "transaction_id": {"type": "string"}, "amount": MONEY, "description": {"type": "string"},
        "reason": {"enum": ["fraudulent", "product_not_received", "duplicate", "credit_not_processed",
                            "unrecognized", "general"]}}),
    "DisputeUpdate": _obj(["status"], {"status": {"enum": ["needs_response", "under_review", "won", "lost"]},
                                       "evidence": {"type": "string"}}),
    "Refund": _obj(["id", "object", "transaction_id", "amount", "currency", "status"], {
        "id": {"type": "string"}, "object": {"const": "refund"}, "transaction_id": {"type": "string"},
        "customer_id": {"type": "string"}, "amount": MONEY, "currency": {"type": "string"},
        "reason": {"type": "string"}, "status": {"enum": ["succeeded"]},
        "credit_transaction_id": {"type": "string"}, "created_at": TIME}),
    "RefundCreate": _obj(["transaction_id"], {"transaction_id": {"type": "string"}, "amount": MONEY,
                                              "reason": {"type": "string"}}),
    "FreezeRequest": {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}}},
    "KycDocument": _obj(["id", "customer_id", "document_type", "size", "sha256", "status"], {
        "id": {"type": "string"}, "object": {"const": "kyc_document"}, "customer_id": {"type": "string"},
        "document_type": {"enum": ["passport", "national_id", "driving_licence", "proof_of_address", "selfie",
                                   "other"]},
        "filename": {"type": "string"}, "content_type": {"type": "string"}, "size": {"type": "integer"},
        "sha256": {"type": "string"}, "status": {"const": "received"}, "created_at": TIME}),
    "KycDocumentJson": _obj(["content_base64"], {
        "content_base64": {"type": "string", "contentEncoding": "base64"}, "filename": {"type": "string"},
        "content_type": {"type": "string"}, "document_type": {"type": "string"}}),
    "PayoutDetails": _obj(["id", "customer_id", "account_holder", "iban_last4", "status"], {
        "id": {"type": "string"}, "object": {"const": "payout_details"}, "customer_id": {"type": "string"},
        "account_holder": {"type": "string"}, "iban_last4": {"type": "string", "pattern": "^[A-Z0-9]{4}$"},
        "bic": {"type": ["string", "null"]}, "country": {"type": "string"}, "status": {"const": "active"},
        "previous_iban_last4": {"type": ["string", "null"]}, "updated_at": TIME}),
    "PayoutDetailsChange": _obj(["account_holder", "iban"], {
        "account_holder": {"type": "string", "minLength": 1},
        "iban": {"type": "string", "description": "ISO 13616 IBAN; spaces allowed; checked with mod 97"},
        "bic": {"type": "string", "pattern": "^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$"}}),
    "Consent": _obj(["purpose", "granted", "at"], {
        "purpose": {"type": "string"}, "granted": {"type": "boolean"}, "text_version": {"type": "string"},
        "channel": {"type": "string"}, "at": TIME}),
    "ConsentChange": _obj(["purpose"], {
        "purpose": {"type": "string"}, "action": {"enum": ["grant", "withdraw"]}, "granted": {"type": "boolean"},
        "text_version": {"type": "string"},
        "channel": {"enum": ["web", "app", "branch", "phone", "email", "sms", "support"]}}),
    "Notification": _obj(["id", "customer_id", "channel", "template", "message", "status"], {
        "id": {"type": "string"}, "object": {"const": "notification"}, "customer_id": {"type": "string"},
        "channel": {"enum": ["sms", "email", "push"]}, "to": {"type": "string"}, "template": {"type": "string"},
        "message": {"type": "string"}, "status": {"const": "sent"}, "created_at": TIME}),
    "NotificationCreate": _obj(["customer_id", "channel", "template", "message"], {
        "customer_id": {"type": "string"}, "channel": {"enum": ["sms", "email", "push"]},
        "template": {"type": "string"}, "message": {"type": "string"}}),
}
for _name in ("Customer", "Account", "Card", "Transaction", "Dispute", "KycDocument", "Consent"):
    SCHEMAS[f"{_name}List"] = _list_of(_name)

ERRORS = {code: {"description": text, "content": {"application/json": {"schema": _ref("Error")}}}
          for code, text in (("401", "Missing or invalid API key"), ("404", "No such record"),
                             ("409", "Conflicts with the record's state"), ("422", "Invalid parameter"),
                             ("429", "Rate limited; see Retry-After"))}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string",
               "maxLength": 255}, "description": "Repeating a key returns the first result"}
PAGING = [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100,
                                                        "default": 25}},
          {"name": "starting_after", "in": "query", "schema": {"type": "string"},
           "description": "Id of the last record of the previous page"}]


def _q(name: str, description: str, fmt: str | None = None) -> dict:
    schema = {"type": "string", **({"format": fmt} if fmt else {})}
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _op(op_id: str, summary: str, ok: str, status: str = "200", body: str | dict | None = None,
        params: list | None = None, errors: tuple = ("401", "404", "429"), idem: bool = False) -> dict:
    op = {"operationId": op_id, "summary": summary,
          "responses": {status: {"description": "OK", "content": {"application/json": {"schema": _ref(ok)}}},
                        **{code: ERRORS[code] for code in errors}}}
    parameters = list(params or []) + ([IDEMPOTENCY] if idem else [])
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        content = body if isinstance(body, dict) else {"application/json": {"schema": _ref(body)}}
        op["requestBody"] = {"required": True, "content": content}
    return op


def _path_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _paths() -> dict:
    cust = [_path_param("customer_id")]
    txn_filters = PAGING + [_q("updated_since", "Only records updated at or after (ordered by updated_at, id)",
                               "date-time"), _q("status", "posted, pending, failed or reversed")]
    kyc_body = {"multipart/form-data": {"schema": _obj(["file"], {
        "file": {"type": "string", "contentMediaType": "application/octet-stream"},
        "document_type": {"type": "string"}})}, "application/json": {"schema": _ref("KycDocumentJson")}}
    e422 = ("401", "404", "409", "422", "429")
    return {
        "/bank/v1/customers": {"get": _op("listCustomers", "List customers, or look one up by email",
                                          "CustomerList", params=PAGING + [_q("email", "Exact email, any case"),
                                          _q("updated_since", "Updated at or after", "date-time")],
                                          errors=("401", "422", "429"))},
        "/bank/v1/customers/{customer_id}": {
            "parameters": cust,
            "get": _op("getCustomer", "Get a customer", "Customer"),
            "patch": _op("updateCustomer", "Update contact details", "Customer", body="CustomerUpdate",
                         errors=e422),
            "delete": _op("eraseCustomer", "Erasure request: anonymise, keep records under legal retention",
                          "Erasure")},
        "/bank/v1/customers/{customer_id}/summary": {
            "parameters": cust, "get": _op("getCustomerSummary", "Customer context for support", "CustomerSummary")},
        "/bank/v1/customers/{customer_id}/accounts": {
            "parameters": cust, "get": _op("listCustomerAccounts", "A customer's accounts", "AccountList",
                                           params=PAGING)},
        "/bank/v1/customers/{customer_id}/transactions": {
            "parameters": cust, "get": _op("listCustomerTransactions", "A customer's transactions",
                                           "TransactionList", params=txn_filters + [_q("account_id", "Account")])},
        "/bank/v1/customers/{customer_id}/consents": {
            "parameters": cust,
            "get": _op("listConsents", "Current consent per purpose", "ConsentList"),
            "post": _op("changeConsent", "Grant or withdraw consent for a purpose", "Consent", "201",
                        body="ConsentChange", errors=e422, idem=True)},
        "/bank/v1/customers/{customer_id}/kyc-documents": {
            "parameters": cust,
            "get": _op("listKycDocuments", "KYC documents received", "KycDocumentList"),
            "post": _op("uploadKycDocument", "Submit a KYC document (multipart or JSON base64, max 10 MiB)",
                        "KycDocument", "201", body=kyc_body, errors=e422, idem=True)},
        "/bank/v1/customers/{customer_id}/payout-details": {
            "parameters": cust,
            "get": _op("getPayoutDetails", "The account payouts go to (IBAN last 4 only)", "PayoutDetails"),
            "post": _op("replacePayoutDetails", "Replace the payout account; the customer is notified by e-mail",
                        "PayoutDetails", "201", body="PayoutDetailsChange", errors=("401", "404", "409", "422", "429"),
                        idem=True)},
        "/bank/v1/accounts": {"get": _op("listAccounts", "List accounts", "AccountList",
                                         params=PAGING + [_q("customer_id", "Owner")])},
        "/bank/v1/accounts/{account_id}": {"parameters": [_path_param("account_id")],
                                           "get": _op("getAccount", "Get an account", "Account")},
        "/bank/v1/accounts/{account_id}/freeze": {
            "parameters": [_path_param("account_id")],
            "post": _op("freezeAccount", "Freeze an account (emits account.frozen)", "Account",
                        body="FreezeRequest", errors=e422, idem=True)},
        "/bank/v1/accounts/{account_id}/unfreeze": {
            "parameters": [_path_param("account_id")],
            "post": _op("unfreezeAccount", "Unfreeze an account (emits account.unfrozen)", "Account",
                        body="FreezeRequest", errors=e422, idem=True)},
        "/bank/v1/accounts/{account_id}/transactions": {
            "parameters": [_path_param("account_id")],
            "get": _op("listAccountTransactions", "An account's transactions", "TransactionList",
                       params=txn_filters)},
        "/bank/v1/cards": {"get": _op("listCards", "List cards", "CardList",
                                      params=PAGING + [_q("customer_id", "Owner")])},
        "/bank/v1/cards/{card_id}": {"parameters": [_path_param("card_id")],
                                     "get": _op("getCard", "Get a card", "Card")},
        "/bank/v1/cards/{card_id}/freeze": {
            "parameters": [_path_param("card_id")],
            "post": _op("freezeCard", "Freeze a card", "Card", body="FreezeRequest", errors=e422, idem=True)},
        "/bank/v1/cards/{card_id}/unfreeze": {
            "parameters": [_path_param("card_id")],
            "post": _op("unfreezeCard", "Unfreeze a card", "Card", body="FreezeRequest", errors=e422, idem=True)},
        "/bank/v1/transactions": {"get": _op("listTransactions", "List transactions", "TransactionList",
                                             params=txn_filters + [_q("customer_id", "Owner"),
                                                                   _q("account_id", "Account")],
                                             errors=("401", "422", "429"))},
        "/bank/v1/transactions/{transaction_id}": {"parameters": [_path_param("transaction_id")],
                                                   "get": _op("getTransaction", "Get a transaction", "Transaction")},
        "/bank/v1/disputes": {
            "get": _op("listDisputes", "List disputes", "DisputeList",
                       params=PAGING + [_q("customer_id", "Owner"), _q("status", "Dispute status")]),
            "post": _op("createDispute", "Open a dispute (emits dispute.opened)", "Dispute", "201",
                        body="DisputeCreate", errors=e422, idem=True)},
        "/bank/v1/disputes/{dispute_id}": {
            "parameters": [_path_param("dispute_id")],
            "get": _op("getDispute", "Get a dispute", "Dispute"),
            "patch": _op("updateDispute", "Change status (emits dispute.updated or dispute.closed)", "Dispute",
                         body="DisputeUpdate", errors=e422)},
        "/bank/v1/refunds": {"post": _op("createRefund", "Refund a posted payment, fully or partly", "Refund",
                                         "201", body="RefundCreate", errors=e422, idem=True)},
        "/bank/v1/refunds/{refund_id}": {"parameters": [_path_param("refund_id")],
                                         "get": _op("getRefund", "Get a refund", "Refund")},
        "/bank/v1/notifications": {"post": _op("sendNotification", "Send an SMS, email or push to a customer",
                                               "Notification", "201", body="NotificationCreate", errors=e422,
                                               idem=True)},
    }


@functools.lru_cache(maxsize=1)
def _document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Deskbridge sandbox core banking API", "version": "1.0.0",
                 "description": "BaaS-style core banking emulator. Amounts are decimal strings in major units. "
                                "State changes are sent as Standard Webhooks signed banking events."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                          "description": "API key, sandbox-key in the sandbox"}}},
    }


def openapi_document() -> dict:
    return copy.deepcopy(_document())
