"""The ``plugins.knowledge`` config block."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class Config(BaseModel):
    """Where the articles live, how links are built, when to suggest, and when an article counts as stale."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    articles_dir: Path | None = Field(
        None, description="markdown articles; relative to the config directory; unset = <config dir>/knowledge")
    base_url: str = Field("https://help.example.com/articles", description="article link = <base_url>/<slug>")
    top_k: int = Field(3, ge=1, le=10, description="at most this many suggestions per ticket")
    threshold: float = Field(0.12, gt=0.0, le=1.0, description="minimum cosine similarity to suggest an article")
    stale_after_days: int = Field(365, ge=1, description="an article not updated for longer is flagged stale")
    bad_ratings_to_flag: int = Field(1, ge=1, description="flag an article suggested on this many bad-rated tickets")
    report_hour: int = Field(6, ge=0, le=23, description="UTC hour of the daily stale-article report")


def articles_dir(config: Config, settings) -> Path:
    base = Path(getattr(settings, "config_dir", None) or ".")
    if config.articles_dir is None:
        return base / "knowledge"
    return config.articles_dir if config.articles_dir.is_absolute() else base / config.articles_dir
