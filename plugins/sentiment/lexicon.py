"""The word lists behind the sentiment scorer, tuned for retail-banking support text.

Valences run from about -3 (fury, fraud) to +3 (delight). Phrases are matched before single words and may
contain a negation ("not received"), so a negation inside a known phrase is not applied twice.
"""

from __future__ import annotations

WORDS: dict[str, float] = {
    # general negative
    "angry": -2.5, "furious": -3.0, "outraged": -3.0, "livid": -3.0, "upset": -2.0, "annoyed": -1.8,
    "frustrated": -2.0, "frustrating": -2.0, "disappointed": -2.0, "disappointing": -2.0, "unhappy": -2.0,
    "terrible": -2.8, "awful": -2.8, "horrible": -2.8, "worst": -3.0, "useless": -2.5, "pathetic": -2.8,
    "ridiculous": -2.3, "unacceptable": -2.7, "disgrace": -2.8, "disgraceful": -2.8, "shocking": -2.3,
    "appalling": -2.8, "incompetent": -2.7, "rude": -2.2, "poor": -1.6, "bad": -1.8, "wrong": -1.4,
    "broken": -1.8, "fail": -1.6, "failed": -1.6, "failing": -1.6, "failure": -1.6, "problem": -1.0,
    "problems": -1.0, "issue": -0.6, "issues": -0.6, "error": -1.0, "errors": -1.0, "worried": -1.6,
    "worry": -1.4, "concerned": -1.2, "scared": -2.0, "panic": -2.2, "desperate": -2.4, "stress": -1.8,
    "stressed": -1.8, "nightmare": -2.8, "joke": -1.5, "hate": -2.7, "sick": -1.5, "fed": -0.5,
    "ignored": -2.0, "ignoring": -2.0, "delay": -1.2, "delayed": -1.4, "slow": -1.2, "waiting": -0.8,
    "stuck": -1.6, "lost": -1.6, "missing": -1.6, "never": -0.4, "complaint": -1.8, "complain": -1.6,
    "unfair": -2.0, "misleading": -2.2, "mess": -2.0, "chaos": -2.2, "hopeless": -2.5, "sucks": -2.5,
    "crap": -2.5, "rubbish": -2.5, "garbage": -2.5, "inconvenient": -1.4, "inconvenience": -1.4,
    "confused": -1.0, "confusing": -1.2, "overdrawn": -1.5, "penalty": -1.2,
    # banking-specific negative
    "fraud": -2.5, "fraudulent": -2.6, "scam": -2.6, "scammed": -2.8, "stolen": -2.4, "stole": -2.4,
    "theft": -2.4, "hacked": -2.6, "unauthorised": -2.3, "unauthorized": -2.3, "declined": -1.4,
    "blocked": -1.5, "frozen": -1.5, "overcharged": -2.4, "chargeback": -1.0, "bounced": -1.6,
    "suspicious": -1.6, "compromised": -2.3,
    # positive
    "good": 1.8, "great": 2.5, "excellent": 2.8, "amazing": 2.8, "awesome": 2.7, "fantastic": 2.8,
    "brilliant": 2.7, "perfect": 2.7, "wonderful": 2.7, "superb": 2.8, "outstanding": 2.8, "love": 2.5,
    "loved": 2.5, "happy": 2.2, "glad": 2.0, "pleased": 2.0, "delighted": 2.8, "satisfied": 1.8,
    "thanks": 1.2, "thank": 1.2, "thankful": 1.8, "grateful": 2.0, "appreciate": 1.8, "appreciated": 1.8,
    "helpful": 2.0, "quick": 1.2, "quickly": 1.0, "fast": 1.2, "easy": 1.5, "smooth": 1.6, "resolved": 1.6,
    "fixed": 1.4, "solved": 1.5, "sorted": 1.3, "kind": 1.6, "friendly": 1.8, "polite": 1.5, "nice": 1.6,
    "best": 2.2, "impressed": 2.3, "recommend": 1.8, "reliable": 1.6, "works": 0.8, "working": 0.4,
    "efficient": 1.7, "professional": 1.5, "lovely": 2.2, "cheers": 1.0, "relieved": 1.6, "fine": 0.6,
    "ok": 0.4, "okay": 0.4, "welcome": 0.8, "refunded": 1.2, "success": 1.6, "successful": 1.6,
}

PHRASES: dict[tuple[str, ...], float] = {
    # money and access problems, the heart of banking complaints
    ("charged", "twice"): -2.8, ("double", "charged"): -2.8, ("charged", "two", "times"): -2.8,
    ("charged", "me", "twice"): -2.8, ("taken", "twice"): -2.5, ("debited", "twice"): -2.8,
    ("locked", "out"): -2.3, ("can", "not", "log", "in"): -2.2, ("can", "not", "login"): -2.2,
    ("unable", "to", "log", "in"): -2.2, ("can", "not", "access"): -2.2, ("unable", "to", "access"): -2.0,
    ("not", "received"): -2.0, ("never", "received"): -2.4, ("never", "arrived"): -2.4,
    ("not", "arrived"): -2.0, ("still", "waiting"): -2.2, ("still", "not"): -1.6, ("still", "no"): -1.6,
    ("no", "response"): -2.2, ("no", "reply"): -2.2, ("no", "one"): -1.2, ("nobody",): -1.2,
    ("not", "working"): -2.0, ("does", "not", "work"): -2.0, ("did", "not", "work"): -2.0,
    ("stopped", "working"): -2.0, ("money", "missing"): -2.6, ("missing", "money"): -2.6,
    ("without", "my", "permission"): -2.6, ("did", "not", "authorise"): -2.6, ("did", "not", "authorize"): -2.6,
    ("did", "not", "make"): -2.0, ("do", "not", "recognise"): -2.3, ("do", "not", "recognize"): -2.3,
    ("hidden", "fees"): -2.3, ("hidden", "charges"): -2.3, ("on", "hold"): -1.4, ("waste", "of", "time"): -2.6,
    ("close", "my", "account"): -1.6, ("switch", "banks"): -2.0, ("switching", "banks"): -2.0,
    ("take", "my", "business"): -2.0, ("worst", "bank"): -3.0, ("fed", "up"): -2.4, ("sick", "of"): -2.4,
    ("had", "enough"): -2.3, ("no", "help"): -2.0, ("not", "helpful"): -2.0, ("not", "good", "enough"): -2.2,
    ("out", "of", "pocket"): -2.2, ("where", "is", "my", "money"): -2.4, ("declined", "again"): -2.2,
    ("for", "weeks"): -1.0, ("for", "days"): -0.8, ("third", "time"): -1.6, ("again", "and", "again"): -1.8,
    ("identity", "theft"): -2.8, ("card", "stolen"): -2.4, ("account", "hacked"): -2.8,
    # relief and thanks
    ("thank", "you"): 1.8, ("thanks", "a", "lot"): 2.0, ("many", "thanks"): 2.0, ("no", "problem"): 0.8,
    ("no", "worries"): 1.0, ("well", "done"): 2.2, ("all", "sorted"): 2.0, ("sorted", "out"): 1.8,
    ("works", "now"): 1.8, ("working", "now"): 1.8, ("great", "service"): 2.8, ("good", "service"): 2.3,
    ("problem", "solved"): 2.2, ("issue", "resolved"): 2.0, ("much", "appreciated"): 2.2,
    ("not", "a", "problem"): 0.8, ("no", "issue"): 0.6, ("no", "issues"): 0.6,
}

NEGATIONS = frozenset({"not", "no", "never", "nothing", "none", "neither", "nor", "without", "hardly", "barely",
                       "cannot", "nobody", "nowhere"})

BOOSTERS: dict[str, float] = {
    "very": 0.3, "really": 0.3, "so": 0.25, "extremely": 0.5, "incredibly": 0.5, "absolutely": 0.45,
    "totally": 0.4, "completely": 0.4, "utterly": 0.5, "truly": 0.3, "super": 0.3, "seriously": 0.35,
    "deeply": 0.4, "most": 0.2, "too": 0.2, "highly": 0.35, "beyond": 0.35, "such": 0.2,
    "slightly": -0.4, "somewhat": -0.35, "bit": -0.35, "little": -0.3, "kinda": -0.35, "fairly": -0.2,
    "partly": -0.3, "mildly": -0.4,
}

# Words that turn the weight of a sentence towards what follows them ("thanks, but this is unacceptable").
CONTRASTS = frozenset({"but", "however", "although", "though", "yet"})

CONTRACTIONS = {
    "can't": "can not", "cannot": "can not", "won't": "will not", "shan't": "shall not", "ain't": "is not",
    "n't": " not", "im": "i am", "dont": "do not", "doesnt": "does not", "didnt": "did not", "cant": "can not",
    "wont": "will not", "isnt": "is not", "wasnt": "was not", "havent": "have not", "hasnt": "has not",
}
