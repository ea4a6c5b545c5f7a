"""Names that contain another answer's words but name something else: "heat stroke" is not "stroke",
"diabetes insipidus" is not "diabetes". The rules of `medo1.verify.match` catch the reference inside a
longer entity by the shape of the extra words (an adjective, a joined prefix, a head that arises in it);
a noun before the reference ("heat stroke") or a second noun after it ("diabetes insipidus") has no such
shape, so the traps that exam answers fall into are listed here. `confused(text, start, end, reference)`
says whether the reference named at text[start:end] sits inside one of them. Like `synonyms`, the list is
small on purpose: a user's own traps belong in a judge or a trained classifier.
"""

from __future__ import annotations

import re

# Each phrase names one thing that is not any shorter answer written inside it.
PHRASES: tuple[str, ...] = (
    "heat stroke", "stroke volume", "diabetes insipidus", "bronze diabetes", "white coat hypertension",
    "masked hypertension", "gallstone ileus", "hay fever", "scarlet fever", "yellow fever", "dengue fever", "q fever",
    "sickle cell trait", "thalassemia trait", "thalassaemia trait", "drug fever",
)
_PATTERNS = tuple(re.compile(rf"(?<![\w-]){re.escape(p)}(?![\w-])", re.IGNORECASE) for p in PHRASES)


def confused(text: str, start: int, end: int, reference: str) -> bool:
    """Whether the answer named at text[start:end] lies inside a listed name that the reference is not."""
    for pattern in _PATTERNS:
        if pattern.search(reference):
            continue
        for m in pattern.finditer(text):
            if m.start() <= start and end <= m.end() and (m.start(), m.end()) != (start, end):
                return True
    return False
