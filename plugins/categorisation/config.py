"""The ``plugins.categorisation`` config block."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from plugins.categorisation.rules import Category, Rule


class Config(BaseModel):
    """Rules, confidence threshold, help-desk groups per category and where the model and corrections live."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    threshold: float = Field(0.6, ge=0.0, le=1.0,
                             description="model confidence below which a ticket goes to triage")
    rules: list[Rule] = Field(default_factory=list)
    groups: dict[Category, str] = Field(default_factory=dict, description="category → help-desk group name")
    default_group: str | None = Field(None, description="the triage queue for low-confidence tickets")
    triage_tag: str = "needs_triage"
    category_field: str = Field("Category", description="title of the help-desk custom field to set")
    crm_fields: dict[str, str] = Field(
        default_factory=lambda: {"salesforce": "Category__c", "hubspot": "category"},
        description="CRM system → API name of its category field (a CRM not listed is not written)")
    model_path: Path | None = Field(None, description="model directory; unset = the shipped model")
    corrections_path: Path | None = Field(
        None, description="JSON lines file of agents' corrections; unset = <data_dir>/categorisation/corrections.jsonl")
