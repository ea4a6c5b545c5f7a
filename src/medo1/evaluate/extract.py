"""Which option did a model pick? One deterministic reading of a free-text answer.

    extract_answer("## Thinking\\n...\\n## Final Response\\nThe answer is (C).", options)
    -> Extraction(letter="C", method="answer_is")

Used by evaluation (scoring) and by curation (the difficulty filter), so both read
answers the same way. The rules, in order; the first rule that finds anything decides,
and within a rule the *last* mention in the text wins (a model that changes its mind
ends with its final choice). There is exactly one answer per response.

0. Only the final response is read when the output has a `## Final Response` section
   (medo1.thinking); the text is NFKC-normalised (full-width `Ｃ`, `：`, `（` become
   ASCII) and markdown emphasis (`*`, backticks) is dropped.
1. method "answer_is": an explicit answer statement. English: "the answer is C",
   "Answer: (C)", "correct option is C", "I would choose C", "Option C is correct",
   "C is the best answer", "\\boxed{C}". Chinese: "答案是 C", "答案：C", "正确答案为C",
   "选C", "故选 C", "C项正确". When the statement names an option's text instead of a
   letter ("The answer is metformin", "答案是：二甲双胍") that option is the answer.
2. method "letter": a standalone option letter with nothing stating it is the answer:
   the whole response is one letter ("C", "(c)."), a bracketed letter "(C)" / "[C]",
   "option C", a line that starts "C." / "C)" / "C:", "... is C." / "... it's C.", or "C项".
   When every option starts a line of its own, the response repeats the option list:
   those lines are ignored by this rule and the next.
3. method "option_text": the text of an option appears in the response (case and
   spacing ignored, whole Latin words only); the option mentioned last wins, and a mention
   inside a longer option's text counts for the longer option only.
4. method "none": nothing found; `letter` is None.

Letters must be options of the question. An upper-case letter always counts; a lower-case
one only when bracketed or followed by punctuation, the end of the text or a non-Latin
character ("the answer is c." yes, "the answer is a benign tumour" no).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from medo1.thinking import final_answer_text

METHODS = ("answer_is", "letter", "option_text", "none")


@dataclass(frozen=True)
class Extraction:
    letter: str | None  # the chosen option letter, None when nothing was found
    method: str  # one of METHODS: how the letter was found


# ---------------------------------------------------------------- patterns

_I = re.IGNORECASE
# A letter in answer position: optional bracket, the letter, optional bracket, then no word character.
_LETTER = r"[(\[]?\s*(?P<letter>[A-Za-z])\s*[)\]]?(?![A-Za-z0-9'’\-])"
_VERB = r"(?:is|was|would\s+be|will\s+be|should\s+be|must\s+be|seems\s+to\s+be|appears\s+to\s+be|=|:)"
_HEDGE = r"(?:\s+(?:most\s+likely|likely|probably|clearly|definitely|therefore|thus|then))?"

# Phrases after which the answer follows: (regex, may the answer be an option's text?).
_LEADS = [
    (re.compile(rf"(?<![a-z])answer(?:\s+(?:choice|option))?\s*{_VERB}{_HEDGE}\s*:?", _I), True),
    (re.compile(rf"(?<![a-z])(?:correct|right|best|final|most\s+appropriate|most\s+likely)\s+"
                rf"(?:option|choice|response)\s*{_VERB}{_HEDGE}\s*:?", _I), True),
    (re.compile(r"(?<![a-z])(?:I\s+(?:would|will|'d|’d)\s+)?(?:choose|select|pick|go\s+with)\s*:?", _I), False),
    (re.compile(r"\\boxed\{\s*(?:\\text\{)?", _I), True),
    (re.compile(r"答案\s*(?:应该|应|應該|應)?\s*(?:是|为|為|:)\s*(?:选项|選項)?\s*:?"), True),
    (re.compile(r"答案\s*(?:选项|選項)?"), False),
    (re.compile(r"(?:选择|選擇|选|選)(?:项|項)?\s*:?"), False),
]
_LETTER_AT = re.compile(rf"\s*(?:(?i:option|choice)\s*)?{_LETTER}")

# The letter comes first, then the statement that it is the answer.
_LETTER_FIRST = [
    re.compile(r"(?<![A-Za-z0-9])(?:(?i:option|choice)\s*)?[(\[]?(?P<letter>[A-Z])[)\]]?"
               r"(?i:\s+(?:is|would\s+be|seems\s+to\s+be)\s+(?:the\s+)?(?:most\s+)?"
               r"(?:correct|right|best|appropriate|likely\s+answer|answer))(?![a-z])"),
    re.compile(r"(?<![A-Za-z0-9])[(\[]?(?P<letter>[A-Za-z])[)\]]?\s*(?:选项|選項|项|項)?\s*(?:是|为|為)?\s*"
               r"(?:正确|正確|最佳|最合适|最合適)"),
]

# Standalone letters (rule 2).
_STANDALONE = [
    re.compile(r"^\W*(?P<letter>[A-Za-z])\W*$"),  # the whole response is one letter
    re.compile(r"[(\[](?P<letter>[A-Z])[)\]]"),
    re.compile(r"(?<![a-z])(?i:option|choice)\s*(?P<letter>[A-Z])(?![A-Za-z0-9'’\-])"),
    re.compile(r"(?m)^[ \t>\-]*(?P<letter>[A-Z])\s*[.):](?=\s|$)"),
    re.compile(r"(?:(?<![A-Za-z])(?i:is)|['’]s)\s+(?P<letter>[A-Z])(?=\s*(?:[.,;!?]|$))", re.MULTILINE),
    re.compile(r"(?<![A-Za-z0-9])(?P<letter>[A-Z])\s*(?:项|項)"),
]

# Words that a letter names a thing after ("vitamin C", "hepatitis B"): such a letter is no option.
_NAMED_BY_LETTER = re.compile(
    r"(?:(?<![A-Za-z])(?i:vitamin|hepatitis|type|group|class|factor|protein|complex|phase|stage|grade|zone|"
    r"band|schedule|chain|lead|wave|cluster|serotype|strain)|维生素|維生素)\s*[(\[]?\s*$"
)
# A line that starts with an option letter ("C. Metformin"), to spot a repeated option list.
_LIST_LINE = re.compile(r"(?m)^[ \t>\-]*(?P<letter>[A-Z])\s*[.):](?:[ \t].*)?$")
_AFTER_LOWER_OK = re.compile(r"\s*(?:[.,;:!?)\]]|$)|[^\x00-\x7f]")
_CLAUSE_END = re.compile(r"\n|[.;!?](?:\s|$)|。|；")


# ---------------------------------------------------------------- helpers


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return text.replace("*", "").replace("`", "")


def _plain(text: str) -> str:
    """Lower case with runs of whitespace collapsed: the form option texts are compared in."""
    return re.sub(r"\s+", " ", _normalise(text)).strip().lower()


def _letter_ok(text: str, m: re.Match, valid: dict[str, str]) -> str | None:
    """The option letter of a match, or None when it is not an option or reads as a word."""
    raw = m.group("letter")
    letter = raw.upper()
    if letter not in valid or _NAMED_BY_LETTER.search(text, 0, m.start("letter")):
        return None
    if raw.islower():
        start, end = m.start("letter"), m.end("letter")
        bracketed = text[:start].rstrip().endswith(("(", "[")) and text[end:].lstrip().startswith((")", "]"))
        if not bracketed and not _AFTER_LOWER_OK.match(text, end):
            return None
    return letter


def _option_mentions(text: str, options: dict[str, str]) -> list[tuple[int, int, str]]:
    """(start, end, letter) of whole-word mentions of option texts in `text` (already `_plain`).

    A mention inside a longer option's mention is dropped ("aspirin" inside "aspirin and heparin").
    """
    found = []
    for letter, option in options.items():
        needle = _plain(option).rstrip(".")
        if not needle:
            continue
        # Whole words in Latin script; Chinese has no spaces between words, so no boundary there.
        pattern = re.compile(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])")
        found += [(m.start(), m.end(), letter) for m in pattern.finditer(text)]
    return [
        (s, e, letter) for s, e, letter in found
        if not any(s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, _ in found)
    ]


# ---------------------------------------------------------------- the rules


def _answer_statements(text: str, valid: dict[str, str]) -> list[tuple[int, str]]:
    hits: list[tuple[int, str]] = []
    for lead, text_ok in _LEADS:
        for m in lead.finditer(text):
            at = _LETTER_AT.match(text, m.end())
            letter = _letter_ok(text, at, valid) if at else None
            if letter:
                hits.append((at.start("letter"), letter))
            elif text_ok:
                end = _CLAUSE_END.search(text, m.end())
                clause = _plain(text[m.end(): end.start() if end else len(text)])
                mentions = _option_mentions(clause, valid)
                if mentions:  # the option named first after the lead is the one stated
                    hits.append((m.end(), min(mentions, key=lambda hit: hit[0])[2]))
    for pattern in _LETTER_FIRST:
        for m in pattern.finditer(text):
            letter = _letter_ok(text, m, valid)
            if letter:
                hits.append((m.start("letter"), letter))
    return hits


def _standalone_letters(text: str, valid: dict[str, str]) -> list[tuple[int, str]]:
    hits = []
    for pattern in _STANDALONE:
        for m in pattern.finditer(text):
            letter = _letter_ok(text, m, valid)
            if letter:
                hits.append((m.start("letter"), letter))
    return hits


def _without_option_list(text: str, valid: dict[str, str]) -> str:
    """`text` less its lines that start with an option letter, when every option has one (a repeated list)."""
    letters = {m.group("letter") for m in _LIST_LINE.finditer(text)}
    return _LIST_LINE.sub("", text) if set(valid) <= letters else text


def extract_answer(response: str, options: dict[str, str]) -> Extraction:
    """The option letter `response` chose among `options` ({letter: text}), and how it was found."""
    valid = {str(k).strip().upper(): str(v) for k, v in options.items()}
    text = _normalise(final_answer_text(response or "")).strip()
    if not text or not valid:
        return Extraction(None, "none")
    hits = _answer_statements(text, valid)
    if hits:
        return Extraction(max(hits, key=lambda hit: hit[0])[1], "answer_is")
    text = _without_option_list(text, valid)
    hits = _standalone_letters(text, valid)
    if hits:
        return Extraction(max(hits, key=lambda hit: hit[0])[1], "letter")
    mentions = _option_mentions(_plain(text), valid)
    if mentions:
        return Extraction(max(mentions, key=lambda hit: hit[0])[2], "option_text")
    return Extraction(None, "none")
