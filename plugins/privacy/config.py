"""The ``plugins.privacy`` config block: consent purposes and rules, retention exceptions, DSR deadlines."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ConsentRule(BaseModel):
    """An action that is processing under consent: refused while ``purpose`` is not granted."""

    model_config = ConfigDict(extra="forbid")

    action: str  # "<system>.<operation>"
    purpose: str
    templates: list[str] = Field(default_factory=list)  # fnmatch patterns on payload "template"; empty = any


class RetentionRule(BaseModel):
    """Records an erasure keeps, and why (the legal basis printed in the report)."""

    model_config = ConfigDict(extra="forbid")

    system: str  # zendesk | salesforce | hubspot | core_banking | hub
    records: str  # tickets | cases | transactions | ...
    reason: str
    # Field -> accepted values; a record matches when every field holds one of them (tags: any tag).
    match: dict[str, list[str]] = Field(default_factory=dict)


DEFAULT_RETENTION = [
    RetentionRule(system="zendesk", records="tickets", match={"tags": ["compliance_fraud"]},
                  reason="fraud case: kept 5 years for AML/fraud investigation (MLR 2017 reg. 40)"),
    RetentionRule(system="salesforce", records="cases", match={"Category__c": ["compliance_fraud"]},
                  reason="fraud case: kept 5 years for AML/fraud investigation (MLR 2017 reg. 40)"),
    RetentionRule(system="hubspot", records="tickets", match={"category": ["compliance_fraud"]},
                  reason="fraud case: kept 5 years for AML/fraud investigation (MLR 2017 reg. 40)"),
    RetentionRule(system="core_banking", records="transactions",
                  reason="AML: transactions kept 5 years after the relationship ends (MLR 2017 reg. 40)"),
    RetentionRule(system="hub", records="audit_log",
                  reason="tamper-evident audit trail kept 12 months (PCI DSS 10.5.1); entries hold ids, not content"),
]


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    purposes: list[str] = Field(default_factory=lambda: ["marketing", "product_updates", "analytics",
                                                         "third_party_sharing"])
    consent_rules: list[ConsentRule] = Field(default_factory=lambda: [
        ConsentRule(action="core_banking.send_notification", purpose="marketing",
                    templates=["marketing*", "promo*", "offer*"])])
    # Read the bank's consents of an event's customer before plugins act (one bank call per such event).
    read_bank_consents: bool = True
    retention: list[RetentionRule] = Field(default_factory=lambda: list(DEFAULT_RETENTION))
    deadline_days: int = Field(30, ge=1)  # Art. 12(3): one month
    warn_day: int = Field(21, ge=1)
    escalate_day: int = Field(28, ge=1)
    escalation_webhook: str | None = None  # notify.notify_webhook target (Slack-compatible)
    dpo_email: str | None = None  # notify.send_email recipient for escalations
    reports_dir: str = "dsr"  # under the data dir
