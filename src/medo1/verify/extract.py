"""Which option did a model pick? One deterministic reading of a free-text answer.

    extract_answer("## Thinking\\n...\\n## Final Response\\nThe answer is (C).", options)
    -> Extraction(letter="C", method="answer_is")

Used by evaluation (scoring), by curation (the difficulty filter) and by the `option` verifier
(medo1.verify.option, the RL reward on problems that keep their options), so all three read
answers the same way; it lives with the verifiers, the layer evaluation and curation build on. The rules, in order; the first rule that finds anything decides,
and within rules 2 and 3 the *last* mention in the text wins. There is exactly one answer
per response, or none.

0. What is read (medo1.thinking.final_answer_text): the `## Final Response` section when
   the output has one; nothing when it opened `## Thinking` but never reached
   `## Final Response` (cut off: method "none", whatever the thinking leaned to); the text
   after `</think>` for `<think>` models; else the whole text (a plain answer). The text
   is NFKC-normalised (full-width `Ｃ`, `：`, `（` become ASCII) and markdown emphasis
   (`*`, backticks) is dropped.
1. method "answer_is": an explicit answer statement. English: "the answer is C",
   "Answer: (C)", "correct option is C", "the most likely diagnosis is C", "I would choose C",
   "Option C is correct", "C is the best answer", "\\boxed{C}". Chinese: "答案是 C", "答案：C",
   "正确答案为C", "选C", "故选 C", "C项正确". A statement may name an option's text instead
   of a letter ("The answer is metformin", "Metformin is the answer", "D. Insulin - correct",
   "答案是：二甲双胍");
   after a negated statement ("the answer is not metformin but insulin") the first option
   it does not reject is the answer.
   The statements must agree ("The answer is C. ... The answer is C." is C). Different answers
   (a loop: "The answer is: A. ... The answer is: E.", "答案是A。答案是B。") are none, method
   "ambiguous": neither the first nor the last is taken. One change of mind that the response
   marks is allowed ("The answer is B. Wait, no: the answer is D." is D; "but", "actually",
   "on second thought", "不对", "但是", ...); a second one, or an unmarked one, is ambiguous.
2. method "letter": a standalone option letter with nothing stating it is the answer:
   the whole response is one letter ("C", "(c)."), a bracketed letter "(C)" / "[C]",
   "option C", a line that starts "C." / "C)" / "C:", "... is C." / "... it's C.", or "C项".
   When every option starts a line of its own, the response repeats the option list:
   those lines are ignored by this rule and the next.
3. method "option_text": the text of an option appears in the response (case and
   spacing ignored, whole Latin words only); the option mentioned last wins, and a mention
   inside a longer option's text counts for the longer option only.
4. method "none": nothing found; `letter` is None.
Evaluation counts "none" and "ambiguous" alike as unparsed (UNPARSED).

Rejected options never count, in any rule: a mention that the response negates or rules out
is not a choice. Before it, in the same part of the sentence (parts end at punctuation and at
"but", "however", "so", ...): "not", "no", "never", "neither/nor", "rule out", "exclude",
"avoid", "stop", "rather than", "instead of", "other than", "unlike", "不是", "排除", ..., up to
the option before it (whose own predicate may have used the negation: "metformin is not safe,
insulin is"); or right after another option: "insulin over metformin", "insulin is better than
metformin".
After it, as its predicate: "metformin is not / isn't / would not be ...", "is contraindicated",
"is ruled out", "can be excluded", "is incorrect / wrong / unlikely / less likely / a
distractor", "metformin: incorrect", "metformin, which is contraindicated", "二甲双胍是错误的".
The options of one list ("aspirin, heparin or metformin") share a rejection before or after it
("neither aspirin nor heparin", "tuberculosis and lymphoma are unlikely"). Double negatives are
not rejections ("cannot rule out metformin", "there is no doubt").

Letters must be options of the question. An upper-case letter always counts; a lower-case
one only when bracketed or followed by punctuation, the end of the text or a non-Latin
character ("the answer is c." yes, "the answer is a benign tumour" no).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

from medo1.verify.rejections import (
    COMMA,
    LIST_GLUE,
    NOT_A_REJECTION,
    PART_END,
    PREFERRED_OVER,
    REJECT_AFTER,
    REJECT_BEFORE,
)
from medo1.thinking import final_answer_text

METHODS = ("answer_is", "letter", "option_text", "none", "ambiguous")
UNPARSED = ("none", "ambiguous")  # the methods that found no answer


@dataclass(frozen=True)
class Extraction:
    letter: str | None  # the chosen option letter, None when nothing was found
    method: str  # one of METHODS: how the letter was found


# ---------------------------------------------------------------- patterns

_I = re.IGNORECASE
# A letter in answer position: optional bracket, the letter, optional bracket, then no word character.
_LETTER = r"[(\[]?\s*(?P<letter>[A-Za-z])\s*[)\]]?(?![A-Za-z0-9'’\-])"
_VERB = r"(?:is|was|would\s+be|will\s+be|should\s+be|must\s+be|seems\s+to\s+be|appears\s+to\s+be|=|:)"
_HEDGE = r"(?:\s+(?:most\s+likely|likely|probably|clearly|definitely|indeed|therefore|thus|then))?"
# What a question asks for: "the most likely diagnosis (of this patient) is ...".
_ASKED = (r"(?:option|choice|response|diagnosis|treatment|management|next\s+step|step|therapy|pharmacotherapy|drug|"
          r"medication|agent|antibiotic|cause|explanation|mechanism|finding|organism|pathogen|test|investigation|"
          r"intervention|approach)(?:\s+(?:of|in|for)\s+[^.;:\n]{1,60}?)?")

# Phrases after which the answer follows: (regex, may the answer be an option's text?).
_LEADS = [
    (re.compile(rf"(?<![a-z])answer(?:\s+(?:choice|option))?\s*{_VERB}{_HEDGE}\s*:?", _I), True),
    (re.compile(rf"(?<![a-z])(?:correct|right|best|final|most\s+appropriate|most\s+likely)\s+"
                rf"{_ASKED}\s*{_VERB}{_HEDGE}\s*:?", _I), True),
    (re.compile(r"(?<![a-z])(?:I\s+(?:would|will|'d|’d)\s+)?(?:choose|select|pick|go\s+with)\s*:?", _I), False),
    (re.compile(r"\\boxed\{\s*(?:\\text\{)?", _I), True),
    (re.compile(r"答案\s*(?:应该|应|應該|應)?\s*(?:是|为|為|:)\s*(?:选项|選項)?\s*:?"), True),
    (re.compile(r"最(?:可能|合适|合適|佳)的?(?:诊断|診斷|治疗|治療|选择|選擇|药物|藥物|处理|處理)\s*(?:是|为|為|:)\s*"), True),
    (re.compile(r"答案\s*(?:选项|選項)?"), False),
    (re.compile(r"(?:选择|選擇|选|選)(?:项|項)?\s*:?"), False),
]
# A letter in answer position; it may be numbered as in a list ("The answer is: 1. A. Aspirin").
_LETTER_AT = re.compile(rf"\s*(?:\d{{1,2}}[.)]\s+(?=[A-Za-z]\s*[.):](?:\s|$)))?(?:(?i:option|choice)\s*)?{_LETTER}")
# After a negated statement, the letter it turns to: "the answer is not A but C", "... not A, it's C".
_LETTER_AFTER_TURN = re.compile(
    r"(?:(?<![a-z])(?:but|rather|instead)(?![a-z])\s*,?|,)\s*(?:(?:it|this)\s*(?:is|['’]s)|the\s+answer\s+is)"
    r"|(?<![a-z])(?:but|rather|instead)(?![a-z])", _I)

# The letter comes first, then the statement that it is the answer.
_LETTER_FIRST = [
    re.compile(r"(?<![A-Za-z0-9])(?:(?i:option|choice)\s*)?[(\[]?(?P<letter>[A-Z])[)\]]?"
               r"(?i:\s+(?:is|would\s+be|seems\s+to\s+be)\s+(?:the\s+)?(?:most\s+)?"
               r"(?:correct|right|best|appropriate|likely\s+answer|answer))(?![a-z])"),
    re.compile(r"(?<![A-Za-z0-9])[(\[]?(?P<letter>[A-Za-z])[)\]]?\s*(?:选项|選項|项|項)?\s*(?:是|为|為)?\s*"
               r"(?:正确|正確|最佳|最合适|最合適)"),
]
# An option's text comes first, then the statement that it is the answer ("Insulin is the answer").
_IS_THE_ANSWER = re.compile(
    r"\s*(?:\([^()]{0,40}\)\s*)?(?:is|would\s+be|seems\s+to\s+be|appears\s+to\s+be|remains)"
    r"(?:\s+(?:therefore|thus|clearly|definitely|probably|likely|most\s+likely))?\s+"
    r"(?:(?:the|my)\s+(?:(?:most\s+)?(?:correct|right|best|final|likely|appropriate)\s+)?(?:answer|choice|option)"
    rf"|the\s+(?:most\s+likely|most\s+appropriate|best|correct)\s+{_ASKED}"
    r"|the\s+(?:drug|treatment|test|investigation|agent)\s+of\s+choice|(?:the\s+)?(?:correct|right)(?![a-z]))"
    r"(?![a-z])|\s*[:\-–—]\s*(?:the\s+)?(?:correct|right|best)(?:\s+(?:answer|choice|option))?(?=\s*(?:[.!;,)]|$))"
    r"|\s*(?:是|为|為)?\s*(?:正确|正確|最佳)(?:的)?(?:答案|选项|選項|选择|選擇)",
    _I,
)

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
NAMED_BY_LETTER = re.compile(
    r"(?:(?<![A-Za-z])(?i:vitamin|hepatitis|type|group|class|factor|protein|complex|phase|stage|grade|zone|"
    r"band|schedule|chain|lead|wave|cluster|serotype|strain)|维生素|維生素)\s*[(\[]?\s*$"
)
# A line that starts with an option letter ("C. Metformin"), to spot a repeated option list.
_LIST_LINE = re.compile(r"(?m)^[ \t>\-]*(?P<letter>[A-Z])\s*[.):](?:[ \t].*)?$")
AFTER_LOWER_OK = re.compile(r"\s*(?:[.,;:!?)\]]|$)|[^\x00-\x7f]")
_CLAUSE_END = re.compile(r"\n|[.;!?](?:\s|$)|。|；")
# Between two answer statements: the response marks that it changes its mind ("Wait, no: the answer is D").
_CHANGE_OF_MIND = re.compile(
    r"(?<![a-z])(?:but|however|wait|actually|no\s*[,:;.!]|on\s+(?:second\s+thought|reflection)|correction|"
    r"i\s+mean|scratch\s+that|let\s+me\s+reconsider|rather|instead)(?![a-z])"
    r"|不对|不對|等等|但是|但|然而|其实|其實|更正|改为|改為", _I)

# ---------------------------------------------------------------- helpers


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return text.replace("*", "").replace("`", "")


def _plain(text: str) -> str:
    """Lower case with runs of whitespace collapsed: the form option texts are compared in."""
    return re.sub(r"\s+", " ", _normalise(text)).strip().lower()


def letter_ok(text: str, m: re.Match, valid: dict[str, str]) -> str | None:
    """The option letter of a match, or None when it is not an option or reads as a word."""
    raw = m.group("letter")
    letter = raw.upper()
    if letter not in valid or NAMED_BY_LETTER.search(text, 0, m.start("letter")):
        return None
    if raw.islower():
        start, end = m.start("letter"), m.end("letter")
        bracketed = text[:start].rstrip().endswith(("(", "[")) and text[end:].lstrip().startswith((")", "]"))
        if not bracketed and not AFTER_LOWER_OK.match(text, end):
            return None
    return letter


def _option_mentions(text: str, options: dict[str, str]) -> list[tuple[int, int, str]]:
    """(start, end, letter) of whole-word mentions of option texts in `text`, case and spacing ignored.

    A mention inside a longer option's mention is dropped ("aspirin" inside "aspirin and heparin").
    """
    found = []
    for letter, option in options.items():
        words = _plain(option).rstrip(".").split(" ")
        if not words[0]:
            continue
        # Whole words in Latin script; Chinese has no spaces between words, so no boundary there.
        needle = r"\s+".join(re.escape(w) for w in words)
        pattern = re.compile(rf"(?<![a-z0-9]){needle}(?![a-z0-9])", _I)
        found += [(m.start(), m.end(), letter) for m in pattern.finditer(text)]
    found.sort(key=lambda hit: (hit[0], -hit[1]))
    kept, reach, reach_start = [], -1, -1  # the furthest end so far, and where that mention starts
    for start, end, letter in found:
        if end < reach or (end == reach and reach_start < start):
            continue  # inside a longer mention
        kept.append((start, end, letter))
        if end > reach:
            reach, reach_start = end, start
    return kept


class _Reading:
    """A normalised response with its option mentions, able to tell a rejected mention from a chosen one."""

    def __init__(self, text: str, options: dict[str, str]):
        self.text = text
        self.mentions = mentions = _option_mentions(text, options)
        # Same length as `text` (positions agree), double negatives blanked out.
        self._neutral = neutral = NOT_A_REJECTION.sub(lambda m: " " * len(m.group()), text)
        self._ends = sorted({e for _, e, _ in mentions})
        self._boundaries = [m.end() for m in PART_END.finditer(neutral)]
        # Where the rejecting predicate of a mention ends ("metformin is not"): that negation is used up.
        predicates = [REJECT_AFTER.match(neutral, e) for _, e, _ in mentions]
        self._used = sorted(m.end() for m in predicates if m)
        # listed[i]: mentions i and i + 1 are items of one list ("aspirin, heparin or metformin").
        n = len(mentions)
        listed = [False] * n
        for i in range(n - 2, -1, -1):
            gap = mentions[i][1], mentions[i + 1][0]
            listed[i] = bool(LIST_GLUE.fullmatch(neutral, *gap)) or (
                bool(COMMA.fullmatch(neutral, *gap)) and listed[i + 1])
        # A list shares its rejection: "neither aspirin nor heparin", "tuberculosis and lymphoma are unlikely".
        self._after = [False] * n
        for i in range(n - 1, -1, -1):
            self._after[i] = bool(predicates[i]) or (listed[i] and self._after[i + 1])
        self._before: list[bool] = []
        for i, (start, _, _) in enumerate(mentions):
            self._before.append(self._before[i - 1] if i and listed[i - 1] else self._rejected_before(start))
        self._index = {(s, e): i for i, (s, e, _) in enumerate(mentions)}
        self._by_start = {s: i for i, (s, _, _) in enumerate(mentions)}

    def rejected(self, start: int, end: int) -> bool:
        """Does the response reject the option mentioned (or the letter) at text[start:end]?"""
        i = self._index.get((start, end))
        if i is not None:
            return self._after[i] or self._before[i]
        return bool(REJECT_AFTER.match(self._neutral, end)) or self._rejected_before(start)

    def rejected_before(self, start: int) -> bool:
        i = self._by_start.get(start)
        return self._before[i] if i is not None else self._rejected_before(start)

    def _rejected_before(self, start: int) -> bool:
        """A negation earlier in its part of the sentence ("not metformin"), unless another option's predicate
        used it up ("metformin is not ..., insulin"); or another option is preferred to it ("insulin over metformin")."""
        floor = max(_last_at_most(self._used, start), _last_at_most(self._boundaries, start))
        previous = _last_at_most(self._ends, start)
        if previous and previous >= floor:
            if PREFERRED_OVER.fullmatch(self._neutral, previous, start):
                return True
            floor = previous
        return bool(REJECT_BEFORE.search(self._neutral, floor, start))


def _last_at_most(positions: list[int], limit: int) -> int:
    """The largest of sorted `positions` that is at most `limit`, or 0."""
    i = bisect.bisect_right(positions, limit)
    return positions[i - 1] if i else 0


# ---------------------------------------------------------------- the rules


def _token_end(text: str, m: re.Match) -> int:
    """Where the letter of a match ends, with its closing bracket."""
    end = m.end("letter")
    close = re.match(r"\s*[)\]]", text[end:])
    return end + close.end() if close else end


def _letter_at(text: str, pos: int, valid: dict[str, str]) -> tuple[int, int, str] | None:
    """(start, end, letter) of an option letter in answer position at `pos`, if there is one."""
    at = _LETTER_AT.match(text, pos)
    letter = letter_ok(text, at, valid) if at else None
    return (at.start("letter"), _token_end(text, at), letter) if letter else None


def _answer_statements(reading: _Reading, valid: dict[str, str]) -> list[tuple[int, str]]:
    text = reading.text
    hits: list[tuple[int, str]] = []
    for lead, text_ok in _LEADS:
        for m in lead.finditer(text):
            named = [_letter_at(text, m.end(), valid)]  # (start, end, letter): what the statement names
            stop = len(text)
            if text_ok:  # its clause, which may start on the next line ("The answer is:\nC.") or numbered ("1. C.")
                begin = named[0][0] if named[0] else len(text) - len(text[m.end():].lstrip())
                end = _CLAUSE_END.search(text, begin)
                stop = end.start() if end else stop
                named += [hit for hit in reading.mentions if m.end() <= hit[0] and hit[1] <= stop]
                named += [_letter_at(text, turn.end(), valid) for turn in _LETTER_AFTER_TURN.finditer(text, m.end(), stop)]
            chosen = sorted(hit for hit in named if hit and hit[0] < stop and not reading.rejected(hit[0], hit[1]))
            if chosen:  # the first option the statement names and does not reject is the one stated
                hits.append((chosen[0][0], chosen[0][2]))
    for pattern in _LETTER_FIRST:
        for m in pattern.finditer(text):
            letter = letter_ok(text, m, valid)
            if letter and not reading.rejected_before(m.start("letter")):
                hits.append((m.start("letter"), letter))
    for start, end, letter in reading.mentions:
        if _IS_THE_ANSWER.match(text, end) and not reading.rejected_before(start):
            hits.append((start, letter))
    return hits


def _stated_answer(text: str, hits: list[tuple[int, str]]) -> str | None:
    """The one answer the statements (position, letter) agree on, None when they state different ones.

    The same answer stated again is one answer; one marked change of mind keeps the later answer."""
    runs: list[list] = []  # [letter, first position, last position] of consecutive statements of one letter
    for pos, letter in sorted(hits):
        if runs and runs[-1][0] == letter:
            runs[-1][2] = pos
        else:
            runs.append([letter, pos, pos])
    if len(runs) == 1:
        return runs[0][0]
    if len(runs) == 2 and _CHANGE_OF_MIND.search(text, runs[0][2], runs[1][1]):
        return runs[1][0]
    return None


def _standalone_letters(reading: _Reading, valid: dict[str, str]) -> list[tuple[int, str]]:
    text, hits = reading.text, []
    for pattern in _STANDALONE:
        for m in pattern.finditer(text):
            letter = letter_ok(text, m, valid)
            if letter and not reading.rejected(m.start("letter"), _token_end(text, m)):
                hits.append((m.start("letter"), letter))
    return hits


def _without_option_list(text: str, valid: dict[str, str]) -> str:
    """`text` less its lines that start with an option letter, when every option has one (a repeated list)."""
    letters = {m.group("letter") for m in _LIST_LINE.finditer(text)}
    return _LIST_LINE.sub("", text) if set(valid) <= letters else text


def extract_answer(response: str, options: dict[str, str]) -> Extraction:
    """The option letter `response` chose among `options` ({letter: text}), and how it was found."""
    valid = {str(k).strip().upper(): str(v) for k, v in options.items()}
    text = _normalise(final_answer_text(response or "") or "").strip()
    if not text or not valid:
        return Extraction(None, "none")
    hits = _answer_statements(_Reading(text, valid), valid)
    if hits:
        letter = _stated_answer(text, hits)
        return Extraction(letter, "answer_is") if letter else Extraction(None, "ambiguous")
    reading = _Reading(_without_option_list(text, valid), valid)
    hits = _standalone_letters(reading, valid)
    if hits:
        return Extraction(max(hits, key=lambda hit: hit[0])[1], "letter")
    mentions = [(s, letter) for s, e, letter in reading.mentions if not reading.rejected(s, e)]
    if mentions:
        return Extraction(max(mentions, key=lambda hit: hit[0])[1], "option_text")
    return Extraction(None, "none")
