"""The words that reject an option in a response, for answer extraction (medo1.verify.extract): a
negation before a mention in its part of the sentence, a rejecting predicate after it, a preference for
another option, the glue of a list of options, and the double negatives that reject nothing."""

from __future__ import annotations

import re

_I = re.IGNORECASE

# Where a part of a sentence ends: a negation before it does not reach past.
PART_END = re.compile(
    r"[.;:!?,\n。；：！？，]|(?<![a-z])(?:but|however|whereas|while|although|though|yet|so|thus|hence|therefore|"
    r"instead(?!\s+of)|rather(?!\s+than))(?![a-z])|但|而是|所以|因此|然而", _I)
# Negations and rejections before a mention, in its part of the sentence.
REJECT_BEFORE = re.compile(
    r"(?<![a-z])(?:not|no|never|nor|neither|cannot|except|excluding|exclude[sd]?|rule[sd]?\s+out|ruling\s+out|"
    r"eliminat(?:e|es|ed|ing)|avoid(?:s|ed|ing)?|stop(?:s|ped|ping)?|discontinu(?:e|es|ed|ing)|withh(?:o|e)ld(?:s|ing)?|"
    r"unlikely\s+to\s+be|(?:argues?|speaks?|points?)\s+against|unlike|rather\s+than|instead\s+of|other\s+than|"
    r"as\s+opposed\s+to|in\s+preference\s+to)(?![a-z])|n['’]t(?![a-z])"
    r"|不是|并非|並非|而非|不选|不選|排除|不考虑|不考慮|不应|不應|不能|不宜|避免|停用|禁用", _I)
# Between two mentions: the second one loses ("insulin over metformin", "insulin is better than metformin").
PREFERRED_OVER = re.compile(
    r"\s*,?\s*(?:(?:is|are|would\s+be|seems)\s+)?(?:(?:preferred|favou?red|chosen|better|superior|preferable|"
    r"more\s+[a-z]+)\s+(?:over|to|than)|over|rather\s+than)\s+(?:the\s+|an?\s+)?", _I)
AUX = (r"(?:is|are|was|were|be|been|being|would|should|could|can|will|must|may|might|does|do|did|has|have|had|"
        r"seems?|appears?|looks?|remains?|to|wo|ca)(?=n['’]t(?![a-z])|(?![a-z]))")
ADVERB = (r"(?:also|clearly|definitely|certainly|probably|likely|therefore|thus|then|really|actually|simply|still|"
           r"now|here|obviously|usually|typically|generally|absolutely|just|even|all|both)(?![a-z])")
# The predicate right after a mention that rejects it: "is not", "isn't", "is contraindicated", ": wrong".
REJECT_AFTER = re.compile(
    r"\s*(?:\([^()]{0,40}\)\s*)?(?:[:\-–—]\s*|,?\s*(?:which|that|as\s+it|since\s+it|because\s+it|it)(?=\s))?"
    rf"(?:(?:\s*(?:{AUX}|{ADVERB}))*?\s*{AUX}\s*(?:not|never|no\s+longer)(?![a-z])|(?:\s*(?:{AUX}|{ADVERB}))*\s*"
    r"(?:n['’]t|cannot|contraindicated|ruled\s+out|excluded|eliminated|avoided|discarded|rejected|unlikely|"
    r"less\s+likely|incorrect|wrong|inappropriate|unsuitable|inferior|ineffective|inadequate|insufficient|"
    r"fails?\s+to|a\s+distractor|no\s+(?:role|place|indication|benefit))(?![a-z]))"
    r"|\s*(?:是|为|為|则|則|也|并|並)?\s*(?:不是|不正确|不正確|不对|不對|错误|錯誤|禁忌|禁用|不合适|不合適|不适用|"
    r"不適用|被排除|可排除|可以排除|不太可能|不选|不選|不宜)", _I)
# What joins the options of one list: "aspirin, heparin or metformin", "neither aspirin nor heparin".
COMMA = re.compile(r"\s*,\s*")
LIST_GLUE = re.compile(r"\s*,?\s*(?:and|or|nor|and/or|/)(?![a-z])\s*(?:the\s+|an?\s+)?", _I)
# Double negatives and set phrases that reject nothing; blanked out before looking for rejections.
NOT_A_REJECTION = re.compile(
    r"(?<![a-z])(?:(?:not|never|cannot|can['’]t|could\s*n['’]?o?t|no\s+reason\s+to)\s+(?:be\s+|been\s+)?"
    r"(?:rule[sd]?\s+out|ruling\s+out|exclude[sd]?|excluding|eliminated?|unlikely|avoid(?:ed)?|wrong|incorrect|"
    r"contraindicated)|(?:no|without(?:\s+a)?)\s+(?:doubt|question)|no\s+contraindications?|not\s+only|no\s+matter|"
    r"if\s+not)(?![a-z])"
    r"|不能排除|无法排除|無法排除|不排除", _I)
