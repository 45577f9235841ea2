"""A lexicon scorer for support text: phrases, negation, boosters, contrast words, capitals and exclamation.

The method follows VADER (Hutto & Gilbert, 2014) in spirit — summed valences, a negation window, boosters,
"but" shifting the weight, a bounded normalisation — with a banking lexicon and no model to download.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from plugins.sentiment.lexicon import BOOSTERS, CONTRACTIONS, CONTRASTS, NEGATIONS, PHRASES, WORDS

_TOKEN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?|\d+|!|[,.;:?]")
_BREAKS = frozenset(",.;:?")  # a negation or booster never reaches across a clause break
_NEGATION_WINDOW = 3
_NEGATION_FACTOR = -0.74  # "not good" is weaker than "bad" (VADER's empirical constant)
_CAPS_BOOST = 0.3
_EXCLAIM_BOOST = 0.3
_ALPHA = 15.0  # normalisation: score / sqrt(score² + α) keeps long angry tickets below -1
_MAX_PHRASE = max(len(p) for p in PHRASES)


@dataclass(frozen=True)
class Sentiment:
    """``score`` in -1..1, ``label`` negative/neutral/positive, the lexicon ``terms`` that carried it."""

    score: float
    label: str
    terms: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self, strong_below: float) -> dict:
        return {"score": self.score, "label": self.label, "strong": self.score <= strong_below,
                "terms": list(self.terms)}


def tokens(text: str) -> list[tuple[str, bool]]:
    """Lower-cased tokens with contractions expanded; each with True when it was shouted (ALL CAPS)."""
    out: list[tuple[str, bool]] = []
    for raw in _TOKEN.findall(text or ""):
        word = raw.replace("’", "'")
        if word in _BREAKS:
            out.append((",", False))
            continue
        shouted = len(word) >= 3 and word.isupper()
        lower = word.lower()
        expanded = CONTRACTIONS.get(lower)
        if expanded is None and lower.endswith("n't"):
            expanded = lower[:-3] + " not"
        for part in (expanded or lower).split():
            out.append((part, shouted))
    return out


def _phrase_at(words: list[str], start: int) -> tuple[int, float] | None:
    for size in range(min(_MAX_PHRASE, len(words) - start), 0, -1):
        valence = PHRASES.get(tuple(words[start:start + size]))
        if valence is not None:
            return size, valence
    return None


def score_text(text: str, *, neutral_band: float = 0.2) -> Sentiment:
    """Score ``text``: -1 (furious) .. +1 (delighted); within ±``neutral_band`` the label is ``neutral``."""
    toks = tokens(text)
    words = [w for w, _ in toks]
    long_words = [shouted for word, shouted in toks if len(word) >= 3]
    shouting_everywhere = bool(long_words) and all(long_words)  # all capitals carry no emphasis
    values: list[float] = []
    terms: list[str] = []
    contrast_at: int | None = None
    exclaims = 0
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("!", ","):
            exclaims += word == "!"
            i += 1
            continue
        if word in CONTRASTS:
            contrast_at = len(values)
        phrase = _phrase_at(words, i)
        if phrase is not None:
            size, valence = phrase
            terms.append(" ".join(words[i:i + size]))
            values.append(_shaped(valence, words, toks, i, shouting_everywhere))
            i += size
            continue
        valence = WORDS.get(word)
        if valence is not None:
            terms.append(word)
            values.append(_shaped(valence, words, toks, i, shouting_everywhere))
        i += 1
    if contrast_at is not None:
        # What comes after "but" is what the writer means.
        values = [v * 0.5 for v in values[:contrast_at]] + [v * 1.5 for v in values[contrast_at:]]
    total = sum(values)
    if total and exclaims:
        total += math.copysign(min(exclaims, 3) * _EXCLAIM_BOOST, total)
    score = total / math.sqrt(total * total + _ALPHA) if total else 0.0
    score = round(max(-1.0, min(1.0, score)), 4)
    label = "negative" if score <= -neutral_band else "positive" if score >= neutral_band else "neutral"
    return Sentiment(score=score, label=label, terms=tuple(dict.fromkeys(terms))[:8])


def _shaped(valence: float, words: list[str], toks: list[tuple[str, bool]], at: int, all_caps: bool) -> float:
    """Apply the boosters and negations in the three words before position ``at``, and shouting."""
    value = valence
    for back in range(1, _NEGATION_WINDOW + 1):
        j = at - back
        if j < 0:
            break
        prior = words[j]
        if prior == ",":
            break
        boost = BOOSTERS.get(prior)
        if boost is not None:
            scale = 1.0 if back == 1 else 0.95 if back == 2 else 0.9
            value += math.copysign(1.0, value) * boost * scale  # a negative boost softens
        if prior in NEGATIONS and not _phrase_has_negation(words, at):
            value *= _NEGATION_FACTOR
            break
    if toks[at][1] and not all_caps:
        value += math.copysign(_CAPS_BOOST, value)
    return value


def _phrase_has_negation(words: list[str], at: int) -> bool:
    """A phrase such as "did not authorise" already carries its negation."""
    found = _phrase_at(words, at)
    return found is not None and any(w in NEGATIONS for w in words[at:at + found[0]])


def naive_score(text: str) -> float:
    """The baseline the tests compare against: summed word valences, no phrases, negation or boosters."""
    return sum(WORDS.get(word, 0.0) for word, _ in tokens(text) if word not in ("!", ","))
