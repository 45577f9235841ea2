"""The lexicon scorer: hand-labelled support sentences, and each rule (negation, boosters, "but", phrases)."""

import math
from collections import Counter

import pytest

from plugins.sentiment.scorer import naive_score, score_text, tokens
from tests.unit.plugins.sentiment.labelled import LABELLED

pytestmark = pytest.mark.unit


def _label(score: float, band: float = 0.2) -> str:
    return "negative" if score <= -band else "positive" if score >= band else "neutral"


def test_labelled_set_is_big_enough_and_covers_every_label():
    counts = Counter(label for _, label in LABELLED)
    assert len(LABELLED) >= 60 and set(counts) == {"negative", "neutral", "positive"}


def test_accuracy_on_the_labelled_set_is_clearly_above_naive_baselines():
    gold = [label for _, label in LABELLED]
    ours = sum(score_text(text).label == label for text, label in LABELLED) / len(LABELLED)
    majority = Counter(gold).most_common(1)[0][1] / len(gold)
    # The naive baseline: the same lexicon words summed, normalised and banded the same way, no rules.
    naive = sum(_label(n / math.sqrt(n * n + 15) if n else 0.0) == label
                for (text, label), n in ((pair, naive_score(pair[0])) for pair in LABELLED)) / len(gold)
    assert ours >= 0.85
    assert ours >= naive + 0.1
    assert ours >= majority + 0.3


def test_scores_stay_within_bounds_for_long_rants():
    rant = " ".join(["This is the worst, most useless, ridiculous bank, I am furious!"] * 40)
    result = score_text(rant)
    assert -1.0 <= result.score < -0.95 and result.label == "negative"
    assert score_text("").score == 0.0 and score_text("").label == "neutral"


@pytest.mark.parametrize("text", ["I was charged twice for my coffee", "I've been locked out since Monday",
                                  "This looks like fraud", "My card was stolen on the train"])
def test_banking_terms_are_negative_on_their_own(text):
    assert score_text(text).label == "negative"


def test_negation_flips_and_dampens():
    assert score_text("The service is good").score > 0
    assert score_text("The service is not good").score < 0
    assert abs(score_text("The service is not good").score) < abs(score_text("The service is bad").score)
    assert score_text("Not bad at all").score > 0


def test_negation_does_not_reach_across_a_clause_break():
    assert score_text("No, thank you so much for the help").score > 0


def test_boosters_and_diminishers_move_the_magnitude():
    plain, boosted, softened = (score_text(t).score for t in ("I am upset", "I am extremely upset",
                                                              "I am slightly upset"))
    assert boosted < plain < softened < 0


def test_what_follows_but_carries_the_weight():
    assert score_text("Thanks for the reply, but this is unacceptable").label == "negative"
    assert score_text("It took a while, but the agent was brilliant").label == "positive"


def test_capitals_and_exclamation_marks_intensify():
    assert score_text("This is UNACCEPTABLE").score < score_text("This is unacceptable").score
    assert score_text("This is unacceptable!!!").score < score_text("This is unacceptable").score
    # A message entirely in capitals is not shouting word by word.
    assert score_text("THIS IS UNACCEPTABLE").score == score_text("this is unacceptable").score


def test_phrases_carry_their_own_negation():
    result = score_text("I did not authorise this payment")
    assert result.label == "negative" and "did not authorise" in result.terms


def test_contractions_expand_including_typographic_apostrophes():
    assert [w for w, _ in tokens("I can’t log in, it doesn't work")] == [
        "i", "can", "not", "log", "in", ",", "it", "does", "not", "work"]
