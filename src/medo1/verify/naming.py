"""Whether a phrase names the reference, for the `match` verifier (`find`): tolerant where wording varies, exact
where a small word changes the answer.

Tolerant: other names (`medo1.verify.synonyms`), case, punctuation, accents, plurals, adjective and noun forms,
abbreviations and British spellings (`medo1.verify.tokens`), and the reference's words in another order when they are
turned around a preposition ("deficiency of vitamin B12" for "vitamin B12 deficiency"). A phrase names the reference
when its normalised words appear as a phrase; or, at `min_containment` below 1, when enough of its content words
appear close together; or when the token F1 of the content words is at least `min_f1`; or when it is the
reference's initials ("MI"), or holds them as one word in capitals ("the diagnosis is LEMS").

Exact (`agrees`): numbers, Roman numerals (II == 2, II != III), letters after type / group / hepatitis / …,
negating prefixes (non-, anti-), hypo- vs hyper-, and opposites (left/right, above/below, increased/decreased,
positive/negative, primary/secondary, acute/chronic, …) around the words it matched. A word of side or direction in
the reference is never left out ("renal tubular acidosis" does not name "distal renal tubular acidosis").
"""

from __future__ import annotations

import re
from collections import Counter

from medo1.verify.entities import other_name
from medo1.verify.shapes import AND_INSIDE
from medo1.verify.tokens import (
    FILLER,
    PREFIXES,
    Token,
    contradicts,
    initials,
    is_cjk,
    smallest_window,
    stem,
    token_f1,
)

__all__ = ["agrees", "find"]

_TURN = re.compile(r"\b(?:of|in|into|from|due\s+to|by|secondary\s+to|caused|induced|involving|affecting|at|on|"
                   r"within|with|that\s+has)\b|\(", re.IGNORECASE)
_JOINS = re.compile(r"\b(?:with|without|plus|versus|vs|than|over|after|before|from|to|by)\b|/", re.IGNORECASE)
_CLOSERS = set("""
of and or to in with for on by is are was were be it this that from into at as due secondary caused which who
has have had should would will may might must can could not but than given because since after before while
when so then now here she he they we you i his her their its our my
bone valve gland muscle joint space region area lobe organ tissue wall vessel artery vein nerve tendon ligament
duct tract system segment layer cell cells lesion
""".split())
_FUNCTION = FILLER | {stem(w) for w in "from into at as due secondary caused induced involving affecting within has "
                      "have had were been being which who its their his her there after".split()}
# Where in the body or which way: a reference word of these is never left out ("renal tubular acidosis" does not name
# "distal renal tubular acidosis"; none of the correct labelled responses leaves one out)
_SIDES = {stem(w) for w in "left right bilateral unilateral upper lower anterior posterior superior inferior medial "
          "lateral proximal distal internal external ascending descending afferent efferent sensory motor".split()}


def find(seg: tuple[Token, ...], ref: tuple[Token, ...], seg_text: str, reference: str,
         min_containment: float = 1.0, min_f1: float = 0.7) -> tuple[int, int] | None:
    """The token window of `seg` that names the reference, or None."""
    words, ref_words = [t.word for t in seg], [t.word for t in ref]
    if not words:
        return None
    n = len(ref_words)
    for i in range(len(words) - n + 1):
        if words[i:i + n] == ref_words and agrees(seg, i, i + n, ref):
            return i, i + n
    if any(is_cjk(w) for w in ref_words):
        return None  # Chinese compares as a phrase: the same characters in another order are another word
    content_ref = [w for w in ref_words if w not in FILLER] or ref_words
    wanted = Counter(content_ref)
    window = smallest_window(words, wanted)
    if window is not None:
        if _close(seg, window, content_ref, seg_text, reference) and agrees(seg, *window, ref):
            return window
    elif min_containment < 1.0:
        hits = [i for i, w in enumerate(words) if w in wanted]
        if hits and len({words[i] for i in hits}) / len(set(content_ref)) >= min_containment:
            if agrees(seg, min(hits), max(hits) + 1, ref):
                return min(hits), max(hits) + 1
    positions = [i for i, w in enumerate(words) if w in wanted]
    content = [w for w in words if w not in FILLER] or words
    if (positions and token_f1(content, content_ref) >= min_f1 and agrees(seg, 0, len(seg), ref)
            and not {w for w in content_ref if stem(w) in _SIDES} - set(content)  # "RTA" for "distal RTA"
            and (not AND_INSIDE.search(seg_text) or AND_INSIDE.search(reference))
            and not other_name(seg_text, set(content_ref))):
        return min(positions), max(positions) + 1
    if initials(seg_text, reference):
        return 0, len(seg)
    for i, t in enumerate(seg):  # "The diagnosis is LEMS" for "Lambert-Eaton myasthenic syndrome"
        raw = seg_text[t.start:t.end]
        if len(raw) >= 3 and raw.isupper() and initials(raw, reference) and agrees(seg, i, i + 1, ref):
            return i, i + 1
    return None

def agrees(seg: tuple[Token, ...], start: int, end: int, ref: tuple[Token, ...]) -> bool:
    """Numbers, qualified letters, prefixes, hypo/hyper and opposites agree around seg[start:end]."""
    near = seg[max(0, start - 2): end + 2]
    core = {t.word for t in seg[max(0, start - 1): end]}
    ref_words = {t.word for t in ref}
    numbers = {t.word for t in ref if t.word[:1].isdigit()}
    if numbers and {t.word for t in near if t.word[:1].isdigit()} != numbers:
        return False
    letters = {t.word for t in ref if t.qualified and t.word.isalpha()}
    if letters and {t.word for t in near if t.qualified and t.word.isalpha()} != letters:
        return False
    if (core & PREFIXES) != (ref_words & PREFIXES):
        return False
    near_words = {t.word for t in near}
    for word in ref_words:
        for a, b in (("hypo", "hyper"), ("hyper", "hypo")):
            if word.startswith(a) and b + word[len(a):] in near_words:
                return False
    return not contradicts(near_words, ref_words)


def _close(seg: tuple[Token, ...], window: tuple[int, int], content_ref: list[str], seg_text: str,
           reference: str) -> bool:
    """The reference's words close together: at most two other content words among them, no "and" or comma
    between them (unless the reference has one), in order or turned around a preposition."""
    inside = seg[window[0]:window[1]]
    raw = seg_text[inside[0].start:inside[-1].end]
    if AND_INSIDE.search(raw) and not AND_INSIDE.search(reference):
        return False
    wanted = set(content_ref)
    if other_name(raw, wanted):
        return False  # "Sjögren–Larsson syndrome" is not "Sjögren syndrome"
    extra = [t.word for t in inside if t.word not in wanted and t.word not in _FUNCTION]
    if len(extra) > 2:
        return False
    order = list(dict.fromkeys(w for w in content_ref if w in {t.word for t in inside}))
    seen = [t.word for t in inside if t.word in wanted]
    if sorted(order, key=seen.index) == order:
        # in order, nothing that joins two entities in between: not "iron overload with folate deficiency"
        # for "iron deficiency"
        return not (_JOINS.search(raw) and not _JOINS.search(reference))
    # turned around a preposition ("deficiency of vitamin B12"), the reference's words close the phrase:
    # not "bowel obstruction from a small sigmoid tumor" for "small bowel obstruction"
    after = re.match(r"[\s-]*([A-Za-z]\w*)", seg_text[inside[-1].end:])
    return bool(_TURN.search(raw)) and not (after and after.group(1).lower() not in _CLOSERS)
