"""The words that take back an answer already given, in English and Chinese: doubt about it, a turn against it, a
sentence that backs off it, a revision, a second answer offered with it, a word or two that withdraws it. Vocabulary
only (compiled patterns), as `medo1.verify.cues` is for what a sentence commits to; `medo1.verify.answer` applies
both.

    doubt        "I cannot be confident", "Confidence: low", "Just a guess", "Y can't be excluded either", "… remains
                 genuinely open", "**X** — provided …"; 无法确定, 都不能排除, 把握不大
    first person the writer speaking after the answer ("Without the ACTH I would hold off"), not a plan ("I would
                 start it at 25 mg")
    together     others given with it ("I'm submitting all three", "Second choice: Y", "Y would also be accepted")
    alternative  "PE is also possible", "pericarditis would fit too" (unless a contrast dismisses it); 也可能
    turn         "However, the scan is incomplete", "That said, …"
    backs off    a sentence that opens "Without …", "Until …", "Unless …", "Only if …", 目前…, 需要…
    fragment     "No.", "Sort of.", "Both." after the answer
    withdrawn    "I withdraw that conclusion", "Update: Y", "— no wait, …"; 收回, 不对，是Y
    tentative    "Tentative answer: X", "presumably X", "X, I'd guess"; 暂定
    deferral     "further workup is needed", "pending the biopsy"; 待排除, 需进一步检查
"""

from __future__ import annotations

import re

__all__ = ["ALTERNATIVE", "BACKS_OFF", "DEFERRAL", "DOUBT", "FIRST_PERSON", "FRAGMENT", "QUOTED", "SETTLED", "STANDS_BY",
           "TENTATIVE", "TOGETHER", "TURN", "UNDECIDED", "WITHDRAWN"]

I = re.IGNORECASE

# Doubt about the answer as a whole, said with it or after it: "I cannot be confident without a biopsy",
# "I would not favor one over the other", "Y could equally account for it", 无法确定
DOUBT = re.compile(
    r"\b(?:cannot|can't|could\s+not|not)\b[^.;]{0,30}\bwith\s+(?:any\s+|full\s+|real\s+)?(?:confidence|certainty)\b|"
    r"\b50\s*/\s*50\b|\bfifty[- ]fifty\b|\bcoin[- ](?:toss|flip)\b|"  # a tie: none of 2,131 correct responses says so
    r"\b(?:will|would|should)\s+(?:settle|decide)\s+(?:it|this|which)\b|\bwill\s+tell\s+(?:us\s+)?which\b|"  # left to a test
    r"\b(?:cannot|can't|can\s+not|could\s+not|couldn't|unable\s+to)\s+narrow\s+(?:it|this|them|things)\s+down\b|"
    # "X — … — though walled-off necrosis is also possible on this CT": the sentence ends on another candidate
    r"\b(?:though|although|while|but)\s+[^.;,]{1,80}?\b(?:is|are|remains?)\s+(?:also|still)\s+(?:\w+\s+)?"
    r"(?:possible|plausible|likely|a\s+possibility)\b[^,;]*$|"
    # "SAH is the one not to miss and sits high on the DDx" (not "… the one not to miss, but it causes …")
    r"\bsits?\s+high\s+on\s+the\s+(?:ddx|differential|list)\b|\bthe\s+one\s+not\s+to\s+miss\b(?![^.;]*\bbut\b)|"
    # "lymphoma is likely, the type can't be called"
    r"\b(?:type|cause|diagnosis|organism|subtype|answer|lesion|drug)\s+(?:can't|cannot|can\s+not|couldn't)\s+(?:yet\s+)?"
    r"be\s+(?:called|named|pinned\s+down|determined|said|given|specified)\b|"
    # "can't pin it on one drug yet", "It deserves to be on the list", "… without labelling the cause yet"
    r"\b(?:cannot|can't|can\s+not|couldn't|unable\s+to)\s+pin\s+(?:it|this|that)\s+(?:on|down)\b|"
    r"\bdeserves?\s+(?:to\s+be\s+|a\s+place\s+)?on\s+the\s+(?:list|differential)\b|"
    r"\bwithout\s+(?:labell?ing|naming|committing\s+to)\s+(?:the|a|any)\s+(?:cause|diagnosis|answer)\b|"
    # a labelled answer given as only possible: "A: possibly refeeding", "Impression: ?cholangitis"
    r"^\W*(?:a|assessment|impression|diagnosis|dx|answer)\s*[:：]\s*(?:possibly|probably|maybe|perhaps|query|\?|"
    r"could\s+be|suspected|presumed)|很难说|难说清|"
    r"\bbut\s+so\s+(?:is|are|does|do|could|might|may|would)\b|"  # "X is a real possibility, but so is Y"
    r"\bis\s+a\s+(?:real\s+|distinct\s+|strong\s+)?possibility\b|"  # "A PCA infarct is a possibility given …"
    r"\bpossibly\s+(?:that|this|it)\b|\bmay\s+be\s+considered\s+(?:as\s+well|too)\b|"  # "— possibly that, though …"
    # "… is possibly what's going on": none of 2,008 correct
    r"\b(?:is|are)\s+(?:possibly|perhaps|maybe|conceivably)\b|"
    # none of these in the 2,008 correct tuned responses either: a question left open, "'No' is just as defensible",
    # an answer that holds only under a condition ("**X** — provided …", "X — assuming …"), 以上三者都不能排除
    r"\b(?:remains?|is|stays?)\s+(?:genuinely\s+|still\s+|wide\s+)?open\b|"
    r"\bbefore\s+(?:anyone|we|i|one)\s+can\s+(?:call|say|decide|commit|name)\b|"
    r"\bjust\s+as\s+(?:defensible|valid|reasonable|likely|good|correct|plausible|right)\b|"
    r"\bthe\s+answer\s+(?:changes|would\s+change|is\s+different)\b|"
    r"[—–,:]\s*(?:provided(?:\s+that)?|assuming|as\s+long\s+as|on\s+(?:the\s+)?condition)\b|"
    r"(?:都|均)不能排除|并列考虑|均不除外|\banything\s+but\b|\bamong\s+others\b|\bet\s+al\b|\band\s+(?:so\s+on|others)\b|"
    r"其次|^\W*\?\s*(?=\w)|"  # 首先考虑X，其次Y; "? X"
    # doubt said in so many words, low confidence, a guess, another candidate not excluded, a tie: none of these in
    # the 2,187 correct tuned responses (a battery of such shapes: tests/test_verify_after_answer.py)
    r"^\W*(?:(?:i'?m|i\s+am)\s+)?(?:not\s+(?:\d+%\s+|entirely\s+|completely\s+|totally\s+|fully\s+|really\s+|that\s+|"
    r"too\s+)?(?:sure|certain|confident)|unsure|uncertain|who\s+knows|hard\s+to\s+(?:know|say|tell)|impossible\s+to\s+"
    r"(?:say|tell|know)|on\s+the\s+fence)\b|\b(?:could\s+be\s+wrong|(?:i\s+)?may\s+be\s+wrong|happy\s+to\s+be\s+corrected|"
    r"open\s+to\s+(?:other\s+)?(?:views|suggestions|correction)|just\s+a\s+guess|(?:that|this)(?:'?s|\s+is)\s+(?:just\s+|only\s+)?"
    r"a\s+guess|shot\s+in\s+the\s+dark|(?:pinch|grain)\s+of\s+salt|don'?t\s+quote\s+me)\b|"
    r"^\W*(?:confidence|certainty)\s*[:：=]\s*(?:low|moderate|medium|modest|\d{1,2}\s*%|0?\.\d+|fair|limited)|"
    r"^\W*(?:置信度|可信度|确定性|把握)\s*[:：=]\s*(?:低|中|一般|较低|不高|有限|\d{1,2}\s*%|0?\.\d+)|"
    r"\d{1,2}\s*%\s*(?:sure|certain|confident)|^\W*(?:needs?|requires?)\s+(?:\w+\s+){0,3}confirm|^\W*(?:can'?t|cannot)\s+"
    r"confirm\b|\b(?:can'?t|cannot|can\s+not)\s+(?:yet\s+)?be\s+(?:excluded|ruled\s+out)\b|\b(?:torn|split)\s+between\b|"
    r"\btoss-?up\b|🤔|🤷|不排除|存疑|需进一步[^。]{0,10}(?:确认|证实|明确)|^\W*if\b[^;\n]*;\s*(?:but\s+)?if\b|否则|不然的话|\bnot\s+(?:be\s+)?(?:excluded|ruled\s+out)\b|"
    r"[（(]\s*\d{1,2}\s*%\s*[)）]|\b(?:distant|close)\s+second\b|\b(?:examiners?|question\s+writers?|they|the\s+question)\s+(?:wants?|expects?|(?:is|are)\s+looking\s+"
    r"for)\b|\bwhat\s+(?:they|the\s+examiners?)\s+want\b|不确定|不太确定|没把握|把握不大|仅供参考|"
    # … "or at least it could be", "Hard to call either way", "if it doesn't, think about Y" (none correct either)
    r"\bor\s+at\s+least\b|[—–;,]\s*it\s+(?:could|might|may)\s+be\b|\bhard\s+to\s+(?:call|say|tell)\b|\beither\s+way\b|"
    r"\bif\s+(?:it|they|this|that|so)\s+(?:doesn't|does\s+not|don't|do\s+not|isn't|is\s+not|aren't|fails?)\b|"
    r"\bif\s+not\b\s*[,;]|"
    r"\b(?:cannot|can't|can\s+not|could\s+not|couldn't)\s+(?:be\s+)?(?:fully\s+|entirely\s+|completely\s+)?"
    r"(?:confident|certain|sure)\b|\b(?:i\s+am|i'm|we\s+are|we're)\s+not\s+(?:\w+\s+)?(?:confident|certain|sure)\b|"
    r"\bwould\s+not\s+favou?r\s+(?:one|either)\b|\b(?:could|might|may)\s+equally\b|"
    r"\bequally\s+(?:likely|possible|plausible|probable)\b|\bgo(?:es|ing)?\s+either\s+way\b|"
    r"\b(?:could|might|may)\s+(?:also\s+|instead\s+|well\s+)?be\s+the\s+(?:intended|correct|right|real|actual|better)\s+"
    r"answer\b|\b(?:cannot|can't)\s+say\s+(?:with\s+(?:any\s+)?(?:confidence|certainty)|for\s+(?:sure|certain)|which)\b|"
    r"\bboth\s+(?:are|remain|seem|look|stay)\s+(?:equally\s+)?(?:possible|plausible|likely|on\s+the\s+table|in\s+play|"
    r"open|viable)\b|\bno\s+longer\s+(?:sure|certain|confident)\b|\bwhich\s+of\s+the\s+two\b|"
    r"\bbefore\s+(?:committing|saying\s+so|being\s+(?:sure|certain)|settling|concluding|deciding|labell?ing|calling\s+it|"
    r"i\s+(?:commit|decide|conclude))\b|"
    r"\bequally\s+(?:well|valid|good|reasonable|appropriate|acceptable|correct|defensible)\b|"
    r"\b(?:stays?|remains?|still)\s+(?:in\s+play|on\s+the\s+table|in\s+contention|in\s+the\s+running)\b|"
    r"\b(?:is|are)\s+(?:\w+\s+)?on\s+the\s+table\b|\b(?:picture|presentation|case)\s+is\s+(?:still\s+)?undifferentiated\b|"
    r"\b(?:yes|no)\s*,?\s+(?:if|provided|unless|only\s+if|as\s+long\s+as|where)\b|"
    r"\bbefore\s+(?:standing\s+behind|signing\s+off\s+on|calling)\s+it\b|"
    r"暂定|另作考虑|暂不下|若[^。；;]{1,30}?则(?:需|应|可能|为|是)|确诊(?:尚|还|仍)?需|尚需[^。；;]{0,12}(?:确诊|明确|证实)|"
    r"初步印象|各有道理|难以断然|\b(?:cannot|can't|can\s+not)\s+be\s+(?:settled|decided|answered|resolved)\b|"
    r"\bif\b[^.;]{3,120}?,\s*(?:then\s+)?(?:the\s+(?:\w+\s+)?(?:answer|diagnosis)\s+(?:is|would\s+be|will\s+be)|"
    r"this\s+(?:is|would\s+be)\s+(?!\w+ly\b|fatal|serious|urgent|an?\s+emergency))|"
    r"\b(?:provided|assuming)\s+(?:that\s+)?(?:the|it|this|there)\b|\bas\s+long\s+as\s+the\b|"
    r"拟诊|待[^。；;]{1,24}?(?:后再|再)(?:确定|确诊|明确|诊断)|究竟是|到底是|"
    r"\b(?:will\s+not|won't|cannot|can't|would\s+not|wouldn't)\s+(?:give|make|commit\s+to|offer)\s+(?:a\s+)?"
    r"(?:final|definitive|firm)\s+(?:diagnosis|answer)\b|"
    r"无法(?:确定|区分|判断|鉴别|肯定)|不能(?:确定|肯定)|难以(?:确定|区分|鉴别|取舍)|[均都皆]有可能|不好说|说不准|难分主次|"
    r"不(?:会|能|宜)(?:给出|下)(?:最终)?(?:诊断|结论)|"
    # a figure or a tie put on the answer: "confidence about 55%", "60% HUS and 40% TTP", "I'm split evenly between",
    # "Y fits almost as well", "both deserve equal weight", 把握大约六成, 两种都说得通
    r"\bconfiden(?:ce|t)\b[^.;]{0,30}?\b\d{1,2}\s?%|\b\d{1,2}\s?%\s+(?:confident|sure|certain)\b|"
    r"\bweigh\w*\s+(?:this|it|them)\s+at\b|\b\d{1,2}\s?%\s+(?!(?:of|in|at|on|for|with|among)\b)[^.;%]{1,40}\band\s+"
    r"\d{1,2}\s?%\s+(?!(?:of|in|at|on|for|with|among)\b)|"
    r"\bsplit\s+(?:\w+\s+)?between\b|\bequal\s+weight\b|\b(?:fits?|explains?|works?)\s+(?:almost|nearly|just)\s+as\s+well\b|"
    r"\b(?:sits?|sitting|stands?|standing)\s+level\s+with\b|\blevel\s+with\s+each\s+other\b|"
    r"\b(?:couldn't|could\s+not|can't|cannot)\s+choose\b|\bopen\s+to\s+revision\b|\bfirst[\s-]+pass\b|"
    r"\bworking\s+impression\b|^\W*provisionally\b|\b(?:that|this|it)\s+(?:only\s+)?holds\s+(?:only\s+)?if\b|"
    r"\b(?:doesn't|does\s+not|don't|do\s+not|cannot|can't)\s+let\s+(?:me|us)\s+(?:settle|decide|choose|tell)\b|"
    r"\b(?:answer|diagnosis)\s+(?:\w+\s+)?(?:hinges|turns)\s+on\b|"
    r"\b(?:that's|that\s+is|it's|it\s+is)\s+(?:only\s+)?the\s+(?:exam|textbook|test|board)\s+answer\b|"
    r"\bthe\s+answer\s+an?\s+(?:exam|test|board)\b|"
    r"\b(?:i'll|i\s+will)\s+finali[sz]e\b|\b(?:wouldn't|would\s+not|won't|will\s+not|can't|cannot)\s+commit\b|"
    r"\bleave\s+(?:the\s+answer|it)\s+open\b|\b(?:i|we)\s+(?:can't|cannot|couldn't|could\s+not)\s+(?:settle|separate|"
    r"distinguish|decide)\b|^\W*suspect\s|\b(?:can't|cannot|couldn't)\s+give\s+(?:a\s+)?(?:single|one|definitive|final)\s+answer\b|"
    r"初步判断|只是初步|待[^。；;]{1,30}?才能(?:确定|明确|诊断|定)|\bfinali[sz]e\s+(?:once|when|after)\b|\b(?:stays?|remains?)\s+live\b|"
    r"把握(?!程度?\s*[:：]\s*(?:★{5}|很?高|充分|100\s*%))|再定|可能吧|不敢(?:确定|肯定|下结论)|(?:后|才能|再下)(?:定论|结论)|倾向性|很难区分|难以区分|都说得通|前提是|"
    # the answer only as far as it goes: "the most I can commit to is …", "I would keep both diagnoses open"
    r"\b(?:the\s+most|all)\s+(?:that\s+)?(?:i|we)\s+(?:can|could|would|will)\s+(?:commit\s+to|say|conclude|offer)\b|"
    r"\bkeep\s+(?:both|the\s+two|them\s+both|all\s+(?:two|three)|these|them)(?:\s+[\w-]+){0,2}\s+open\b|"
    # doubt put on the answer by pointing back at it: "It cannot be excluded", "I'd suspect it"
    r"(?:^\W*|\bbut\s+|\band\s+|[,;—–]\s*)(?:it|this|that)\s+(?:still\s+|only\s+)?(?:cannot|can't|can\s+not)\s+be\s+"
    r"(?:excluded|ruled\s+out)\b|"
    r"(?:^\W*|\bbut\s+|\band\s+|[,;—–]\s*)(?:it|this|that)\s+(?:is|remains|seems)\s+(?:still\s+|only\s+|merely\s+|just\s+)?(?:possible|a\s+possibility|"
    r"plausible)\b(?!\s+to\b)|"
    # the answer made only possible by a line or a dash after it: "X\n\n…is a possibility in …", "X — is a possibility"
    r"^\W*(?:is|remains)\s+(?:a\s+possibility|possible|plausible|a\s+consideration|worth\s+considering)\b|"
    r"[—–]\s*(?:is|remains|seems)\s+(?:still\s+|only\s+|merely\s+|just\s+|also\s+)?(?:possible|"
    r"a\s+possibility|plausible|a\s+consideration|an\s+option)\b(?!\s+to\b)|\b(?:put|place|rate)\s+(?:it|this|that)\s+at\s+(?:roughly\s+|about\s+|around\s+)?\d{1,2}\s?%|"
    r"\bclose\s+behind\b|^\W*(?:it|this|that)\s+(?:may|might|could)\s+be\s*(?:,|[—–]|\bat\s+least\b|$)|"
    r"\bi\s+suspect\s+(?:it|this|that)\b|^\W*(?:possibly|perhaps|maybe|conceivably)\s*,|\bfar\s+from\s+(?:certain|sure|"
    r"confident)\b|\bbest\s+guess\b|\b(?:cannot|can't|can\s+not)\s+be\s+(?:dismissed|discounted)\b|\bbefore\s+(?:i'd|i\s+would|i\s+could|i\s+can|we\s+can)\s+(?:say|commit|call)\b|"
    r"\b(?:either|both)\s+(?:answer|diagnosis|one|option)s?\s+(?:could|might|may)\s+be\s+(?:right|correct)\b|"
    r"\b(?:everything|it\s+all)\s+hinges\s+on\b|\bbefore\s+choosing\b|\b(?:two|three)\s+(?:main\s+|real\s+|competing\s+)?possibilities\b|^\W*(?:possibly|perhaps|maybe|probably|conceivably)\W*(?:[—–-]|$)|"
    r"\b(?:can't|cannot|couldn't|could\s+not)\s+(?:assign|attribute|pin|narrow)\s+(?:it|this|them)\s+(?:down\s+)?to\s+"
    r"(?:a\s+|one\s+)?(?:single|one|any\s+one)\b|\b(?:does\s+not|doesn't|do\s+not|don't)\s+say\s+which\b|"
    r"\b(?:answer|diagnosis|design|cause|question|type|source|origin)\s+(?:cannot|can't|can\s+not)\s+be\s+(?:fixed|"
    r"determined|settled|decided|pinned\s+down|established|assigned)\b|"
    r"\b(?:cannot|can't|can\s+not)\s+(?:yet\s+)?be\s+(?:confirmed|proven|proved|assigned)\b|"
    r"\b(?:just|equally)\s+as\s+(?:likely|probable|plausible)\b|\b(?:answer|decision|diagnosis|choice)\s+(?:\w+\s+){0,2}"
    r"depends\s+on\b|\b(?:low|little|limited|modest)\s+confidence\b|\bstake\s+much\s+on\b|\bcoin[\s-]+(?:flip|toss)\b|"
    r"\btoss-?up\b|\bfifty-fifty\b|^\W*consider\s+(?:it|this|that)\b|\b(?:are|remain|stay)\s+both\s+(?:on\s+the\s+table|"
    r"in\s+play|possible|plausible|open)\b|\bwhich\b[^.;]{0,40}\bdepends\s+on\b|"
    r"^\W*(?:this|it|that)\s+is\s+(?:only\s+)?(?:provisional|tentative|preliminary)\b|\bsuspected\s*,\s*not\s+(?:established|"
    r"confirmed|proven)\b|\b(?:can't|cannot|can\s+not)\s+tell\s+which\b|\b(?:it|this|the\s+answer)\s+(?:is|would\s+be|remains?)\s+"
    r"either\b|\b(?:i'd|i\s+would|i'll|i\s+will)\s+suspect\s+(?:it|this|that)\b", I)
# The writer speaking after the answer: of 1,819 correct labelled responses, two do ("I'm confident this is coeliac
# disease"), against 186 of 2,402 wrong ones ("I'd say both are on the table", "I would hold off"). Unless it stands
# by the answer or gives a plan, it qualifies it.
FIRST_PERSON = re.compile(r"(?<![-–\w])(?:(?<![Tt]ype\s)(?<![Bb]ipolar\s)(?<![Cc]lass\s)(?<![Gg]rade\s)(?<![Ss]tage\s)"
                          r"(?<![Pp]hase\s)(?<![Mm]obitz\s)(?<![Cc]ategory\s)(?<![Ss]chedule\s)(?<![Ff]actor\s)"
                          r"(?<![Tt]ier\s)(?<![Ll]evel\s)(?<![Zz]one\s)(?<![Gg]roup\s)(?<!II,\s)(?<![Ll]ead\s)(?<![Ll]eads\s)"
                          r"(?<![A-Z][A-Z]\s)(?<![Cc]omplex\s)"  # "CPS I deficiency", "complex I"
                          r"I(?![-–\w])(?![,、]?\s*(?:and\s+)?(?:II|aV[LRF]|V\d))(?!:[A-Z])|I'd|I'm|I've|I'll|"  # not lead I, I:E
                          r"(?<!change\s)[Mm]y|me)\b|(?<!改变)我(?!国|院|科)")  # "What would change my mind:" heads a section
QUOTED = re.compile(r"[\"“][^\"”]{1,120}[\"”]|(?:^|(?<=\s))['‘][^'’]{1,120}['’](?=\s|[,.;:]|$)")  # a patient's words
_NOT_THE_ANSWER = r"(?![^.;]*\b(?:answer|diagnos\w*|both|either|or)\b)"  # a plan, not the answer put off
STANDS_BY = re.compile(r"\b(?:I\s+am|I'm)\s+(?:\w+\s+)?(?:confident|certain|sure)\b"
                       r"(?![^.;]*\b(?:not|but|although|though)\b)|"
                       # what would change it, "which I don't expect", "I don't expect it"
                       r"\bwhich\s+I\s+(?:don't|do\s+not)\s+expect\b|\bI\s+(?:don't|do\s+not)\s+expect\s+(?:it|that|this|one)\b|"
                       r"\bwas\s+my\s+other\s+thought\b[^.;]*\bbut\b|"  # "Y was my other thought, but …"
                       r"\b(?:I\s+would|I'd|I\s+will|I'll|I)\s+(?:\w+\s+)?(?:start|give|treat|prescribe|order|refer|"
                       r"arrange|admit|check|repeat|monitor|recommend|suggest|add|stop|continue|begin|avoid|request|"
                       r"send|book|offer|counsel|advise|reassure|follow|not\s+exceed|aim|target|correct|limit|keep|"
                       r"decompress|reverse|intubate|ventilate|resuscitate|drain|debride|transfuse|hyperventilate|"
                       r"suction|elevate|immobili[sz]e|splint|excise|escalate|insert|cannulate|catheteri[sz]e|"
                       r"perform|maintain|stabili[sz]e)\b" + _NOT_THE_ANSWER
                       + r"|\b[Mm]y\s+(?:management|treatment|plan)\s+(?:is|would\s+be|starts|begins)\b"
                       + _NOT_THE_ANSWER + r"|我(?:会|将)?(?:建议|给予|开始|安排)|"
                       r"(?i:^\W*(?:and\s+)?(?:that|this|it)(?:'s|\s+is)\s+my\s+(?:final\s+)?(?:answer|diagnosis)\W*$)")
# Candidates left undecided after the answer, with nothing to settle it in the same sentence: "Without a biopsy,
# the two cannot be told apart" (but not "… cannot be told apart on CT, but the biopsy shows X")
UNDECIDED = re.compile(r"\b(?:cannot|can't|can\s+not|could\s+not|couldn't)\s+(?:yet\s+|reliably\s+|really\s+)?(?:be\s+"
                       r"(?:told\s+apart|separated|distinguished|differentiated)\b(?!\s+from\b)|"
                       # "can't distinguish yet", "can't tell which" (not "pulse oximetry can't distinguish COHb")
                       r"(?:distinguish|differentiate)\s+(?:yet|between\s+(?:them|these|the\s+two)|them|the\s+two)\b|"
                       r"tell\s+(?:them\s+apart|which)\b)", I)
SETTLED = re.compile(r"\b(?:but|however|although|though|yet|so|therefore|thus|until|which\s+is\s+why)\b|但|然而", I)
# Several answers given together after the answer: "I'm submitting all three", 三者都符合，我一并作为答案
TOGETHER = re.compile(r"\bsubmit\w*\s+(?:all|both)\b|^\W*candidates\s*[:：=]|"
                      r"\bany\s+of\s+(?:these|them|those)\s+would\b|"
                      r"^\W*also\s+(?:reasonable|acceptable|correct|fine|valid)\s*[:：]|[都均皆]可(?:用于|使用|选用|作为)|"
                      # "alternatives: Y" beside the answer, not rejected ("alternatives: STEMI — rejected (…)")
                      r"^\W*alternatives\s*[:：=](?![^\n]*\b(?:rejected|excluded|ruled\s+out|unlikely|less\s+likely|no|not)\b)|"
                      r",\s*(?:all\s+(?:three|four|five|of\s+them)|both(?:\s+of\s+them)?)\W*$|\b(?:report|list|give|record|code)\w*\s+alongside\b|"
                      r"\bother\s+diagnos[ei]s\s+to\s+(?:report|list|include|add|record)\b|\bsame\s+answer\s+line\b|"
                      # "I'd keep all four in mind", "Also on the table: Y; Z", 这三个都要考虑
                      r"\bkeep\s+(?:all|both)\s+(?:\w+\s+)?(?:in\s+mind|open|on\s+the\s+(?:list|table))\b|"
                      r"^\W*also\s+on\s+the\s+(?:table|list|cards)\s*[:：]|[两三四几]个都要考虑|都要考虑|均需考虑|都需要?考虑|"
                      r"都可能(?:由|是|引起)|这[两三四五几]种|[都均]能解释|[都均]可(?:以)?解释|"
                      # "X ✔️ Y ✔️", "Also likely: Y", "Secondary: Y" (none in correct responses)
                      r"(?:✔|✅)[^\n]*(?:✔|✅)|[、,，][^。；;]{1,20}均可|[\u4e00-\u9fff]等(?:疾病|病|情况)?\W*$|诸如|之类|"
                      r"^\W*(?:also(?:\s+(?:likely|possible|considered?))?|secondary)\s*[:：]|"
                      r"\bwould\s+also\s+be\s+(?:accepted|acceptable|correct)\b|^\W*(?:second\s+choice|backup(?:\s+answer)?|"
                      r"alternative(?:\s+answer)?|runner-?up|plan\s+b|fallback)\s*[:：]|\bboth\s+(?:are|would\s+be)\s+(?:defensible|"
                      r"acceptable|correct|valid|reasonable)\b|两者(?:皆|均)可|两个都可以|"
                      r"\b(?:a|the)\s+combined\s+(?:one|picture)\b|\bdifferential\s+(?:diagnosis\s+)?(?:is|are|includes?)\b|"
                      # two organisms: "so it's a co-infection"
                      r"\b(?:it's|this\s+is|it\s+is)\s+an?\s+(?:\w+\s+)?(?:co-?|mixed\s+|dual\s+)infection\b|"
                      r"\bboth\s+need\s+(?:addressing|treating|treatment)\b|一并(?:作为|列入|列为|给出)|(?:两|二|三)者(?:都|均)(?:符合|成立|作为)|都作为(?:最终)?答案|"
                      r"同样成立|^\W*(?:plus|along\s+with|together\s+with|as\s+well\s+as|and\s+also)\b|"
                      r"\bany\s+(?:one\s+)?(?:of\s+(?:them|these|those|the\s+\w+)\s+)?(?:could|can|may|might)\s+(?:explain|be|account|"
                      r"cause)\b|"
                      r"也都可以|也都可|[均都]可作为(?:本题|最终)?答案|"
                      r"\balso\s+(?:acceptable|correct|valid|right)\b|\b(?:correct|acceptable|valid|right)\s+answers\b|\b(?:any|all|each)\s+(?:of\s+)?(?:these|them|three|"
                      r"two|both)\s+(?:\w+\s+){0,2}(?:fits?|acceptable|correct|valid|appropriate|reasonable|suitable)\b|"
                      r"\bany\s+of\s+(?:these|the)\s+(?:two|three|four|several)\b|"
                      r"\b(?:all|any)\s+(?:three|four|five|of\s+(?:these|them|the\s+above))\s+(?:can|could|may|might)\s+"
                      r"(?:produce|cause|explain|give|fit|account|present)\b|"
                      r"\bother\s+(?:likely|possible|plausible|probable|candidate)\s+\w+\s+(?:are|include)\b|"
                      r"^\W*(?:以及|(?:此外)?还有)|[两三]者都(?:是|可以?|可能)|无法只选(?:一个|其一)|(?:同样|也|亦|均|都)是(?:正确的?)?答案|任选其一|"
                      r"\bequally\s+(?:correct|valid|acceptable)\b|\beither\s+(?:one\s+|answer\s+)?(?:is|would\s+be)\s+"
                      r"(?:fine|acceptable|correct|right)\b", I)
# Another candidate left open after the answer, said without a contrast: "MI. PE is also possible.", "Pericarditis
# would fit too", 也可能是X (but "PE could also explain the pain, but the D-dimer is normal" dismisses it)
ALTERNATIVE = re.compile(
    r"\b(?:is|are|remains?|seems?)\s+(?:also|equally|still|another|an\s+alternative)\s+(?:\w+\s+)?(?:possible|possibility|"
    r"plausible|likely|option|candidate|consideration|contender)\b|"
    r"\b(?:could|might|may)\s+(?:also|equally|just\s+as\s+well)\s+(?:\w+\s+)?(?:be|fit|explain|account|cause|"
    r"produce|give)\b|\b(?:would|could|might|may)\s+(?:fit|work|explain\s+(?:this|it|the\s+\w+))\s+(?:too|as\s+well)\b|"
    # "Y fits too", "Y also works", "Y is equally consistent" (a short name, not a finding: "the rash fits as well")
    r"^\W*(?!(?:the|his|her|this|that|these|those|its|it|their)\b)[a-z][\w'-]*(?:\s+[\w'-]+){0,3}\s+(?:also\s+"
    r"(?:fits|works)|(?:fits|works)\s+(?:too|as\s+well)|(?:is|are)\s+(?:also|equally)\s+(?:consistent|compatible)"
    r"(?:\s+with\s+(?:it|this|the\s+picture))?|explains\s+(?:this|it|the\s+\w+)\s+(?:too|as\s+well))\W*$|"
    r"^\W*(?:also\s+)?consider\s+[^.;]{1,60}?\s+(?:too|as\s+well|also)\W*$|"  # "Consider vestibular migraine too."
    r"\banother\s+(?:option|possibility|candidate|contender)\b|也(?:有)?可能|亦可能|也(?:需|要|应)考虑|亦可(?:为|是)|也符合|亦符合|也可以解释|亦有可能|也许是|或许是|"
    r"也可(?:为|以是)", I)
# A turn after the answer that dismisses nothing: "But cyclothymia is also possible …", "However, the scan is
# incomplete", "It could be …", "That said, …". Of 1,755 correct labelled responses none turns so after its answer,
# against 87 of 2,278 wrong ones (a "but" / "however" that dismisses — "However, the absence of fever argues against
# Y" — is not one: `CONTRAST` after the opener).
TURN = re.compile(r"^\W*(?:but|however|though|yet|still)\b\W*(?P<rest>.*)|"
                  r"^\W*(?:但是?|不过(?!敏)|然而)[，,]?(?P<zrest>.*)|"
                  r"\b(?:it|this|that)\s+(?:could|might|may)\b|"
                  r"(?P<always>\bon\s+the\s+other\s+hand\b|\bthen\s+again\b|\bthat\s+said\b|\balternatively\b)", I)
# A sentence after the answer that opens by backing off it: "Without the biopsy …", "Until the CT is back …",
# "Whether this is …", "Before committing …", "Or Y", "Either …", "Honestly, …", "It depends …", "Only if …", "If it
# is …", "Provisional: …", 目前…, 需要…, 请先…, 或者…. Of the 2,131 correct responses of the tuned rows none has a
# sentence after its answer that opens so, against 142 of the 2,742 wrong ones.
BACKS_OFF = re.compile(r"^\W*(?:equally|unless|except|failing\s+that|otherwise|then|"
                       r"(?:might|could|may)\s+(?:also\s+)?be)\b|"
                       r"^\W*(?:(?:strictly|technically|realistically|frankly)(?:\s+speaking)?\s*,\s*)?"
                       r"(?:(?:without(?!\s+(?:those|these|them|any\s+of\s+(?:those|these))\b)|until|whether|before(?!\s+(?:surgery|(?:the\s+|any\s+)?(?:operation|procedure)|"
                       r"operating|discharge|induction|an(?:a|ae)esthesia|starting|giving))|or|either|honestly|only|"
                       r"provisional|tentative|"
                       r"preliminary|unconfirmed)\b|it\s+depends\b|"
                       r"if\s+(?:it|this|that)\b(?!\s+(?:is|comes\s+back|returns|shows)\s+(?:positive|negative|normal|abnormal)\b)|"
                       r"目前|需要|请先|或者?)|"
                       r"^\s*(?:[¹²³⁴⁵†‡]|\[\^\d+\])", I)  # … or a footnote to it
# A sentence after the answer that is only a word or two taking it back or widening it: "No.", "Sort of.", "Both."
FRAGMENT = re.compile(r"^\W*(?:(?:consensus|verdict|status|outcome|conclusion)\s*[:：]\s*)?"  # "Consensus: excluded."
                      r"(?:no|nope|false|incorrect|wrong|not\s+really|not\s+quite|(?:well,?\s*)?not\s+exactly|"
                      r"excluded|ruled\s+out|(?:highly\s+|very\s+)?unlikely|improbable|doubtful|rejected|dismissed|"
                      r"discounted|not\s+it|just\s+kidding|sort\s+of|kind\s+of|more\s+or\s+less|partly|in\s+part|"
                      r"among\s+other\s+things|both|neither|"
                      r"either|none\s+of\s+(?:these|them|the\s+above)|all\s+of\s+the\s+above|"
                      r"any\s+of\s+(?:these|them)|不考虑|可以?排除|已排除|不支持|不成立|予以排除)\W*$", I)
# Withdrawing an answer: "I withdraw that conclusion", "scratch that", "Correction: …", 收回上述结论
WITHDRAWN = re.compile(r"(?:…|\.\.\.)\s*(?:well|or\s+rather|i\s+mean)\b|"  # "Insulin… well, an insulinoma"
                       # "Answer: X\n\n…is the adult dose, but …": the answer line only opens a sentence about it
                       r"^[^\w…]*(?:…|\.\.\.)\s*(?:is|was|would|could|might|may|are|isn't|which|that|causing|leading|"
                       r"then|no|but)\b|"  # "Answer: X\n\n…which causes Y, then Z": a course from it; "…no, redoing it", "…but not …"
                       # "X\n— portal, that is", "X\n— circumscripta, to be precise": a longer name for it; 不支持——…
                       r"^[^\w…]*(?:[—–]+|…|\.\.\.|-(?=[a-z]))\s*[\w'-]+(?:\s+[\w'-]+){0,3},\s*(?:to\s+be\s+(?:precise|exact)|strictly|"
                       r"(?:more\s+)?specifically|more\s+precisely|"
                       # "X\n— is absent here"
                       r"that\s+is)\b|^\W*[—–]+\s*(?:is|was|are|isn't|would|could|might|may)\b|"
                       r"^\W*[—–]+\s*(?:[\w-]+\s+){0,2}(?:excluded|ruled\s+out)\b|"  # "X\n— injury excluded: …"
                       r"^\W*(?:不支持|不成立|已排除|可以?排除|不考虑|不太可能)(?:——|[—–，,：:])|"
                       # "The preliminary impression above is withdrawn", "… cannot be sustained", "… is deferred"
                       r"\b(?:is|was|has\s+been)\s+withdrawn\b|\bcannot\s+be\s+sustained\b|\b(?:is|are|remains?)\s+deferred\b|"
                       r"无法肯定|暂无法|也可能为|"
                       r"^\W*(?:no|not|nothing)\b[^.\n]{0,60}\bthough\b|"  # "A: X\nNo evidence of torsion though — …"
                       # "Examiner's correction: …", "X is a front-runner"
                       r"^\W*(?:examiner'?s?\s+)?correction\s*[:：]|\ba\s+front-?runner\b|"
                       r"\bno\s+wait\b|\bwait\s*[,—–]?\s*no\b|\bsorry\b|"  # "X — no wait, …", "X… sorry, …"
                       # "X\n— well, strictly Y"
                       r"(?:^\W*|[—–;]\s*)well,?\s+(?:strictly|technically|properly|more\s+precisely)\b|"
                       # "Answer: X\n\nis wrong; …", "…is what most people say, but …"
                       r"^\W*(?:is|was)\s+(?:wrong|incorrect|not\s+(?:it|right|correct)|a\s+trap|the\s+wrong\s+answer)\b|"
                       r"^\W*(?:wrong|incorrect)\b(?!\s+(?:answers?|options?|choices?)\b)|"  # "**X**\n✗ Wrong — no urticaria, …"
                       r"^\W*is\s+what\s+(?:most\s+people|everyone|many|most|students|people|most\s+candidates)\b|"
                       # "That's what the question bank wants you to pick — and it's wrong.", "That was the referring
                       # diagnosis, but …", "X\n— well, …"
                       r"^\W*(?:at\s+least,?\s+)?(?:that|this|it)\s+was\s+(?:only\s+|just\s+)?the\s+(?:referring|referral|"
                       r"initial|admitting|original|provisional|presumed|working)\s+(?:diagnosis|label|impression)\b|"
                       r"^\W*[—–]+\s*well\b|"
                       r"\b(?:that|this|it)(?:'s|\s+is|\s+was)\s+my\s+(?:first|initial)\s+(?:thought|instinct|guess|impression)\b|"
                       r"\b(?:and|but)\s+(?:it|that|this)(?:'s|\s+is)\s+(?:wrong|incorrect|a\s+trap)\b|"
                       r"\b(?:that|this|it)(?:'s|\s+is)\s+what\s+the\s+(?:question(?:\s+bank)?|exam|examiners?|stem|setters?)\s+"
                       r"(?:wants?|expects?|invites?)\s+you\s+to\s+(?:pick|think|choose|say|answer)\b|"
                       # "**X**\n\nNot quite — …", "X — correction, Y"
                       r"^\W*not\s+quite\b|[—–;,]\s*correction\s*[,:]|"
                       # "Update: Y", "Make that Y", "I meant Y", 不对，是Y
                       r"^\W*(?:update|edit|revised|revision|correction|amended?|erratum|typo)\s*[:：—–-]|"
                       r"^\W*(?:make\s+that|change\s+that\s+to|i\s+meant|ignore\s+that|scrap\s+that)\b|\bthat\s+was\s+wrong\b|"
                       r"^\W*不对[，,]|其实是|实际上是|最终(?:选用|选择|改为)|[（(]错误|(?:故|因此|所以)不成立|"
                       r"\bon\s+(?:reflection|second\s+thought|(?:a\s+)?second\s+(?:look|glance|reading|read)|review)\b[^.;:]{0,60}?,?"
                       r"\s*no\b|"
                       r"\b(?:(?:withdraw|withdrawing|retract|retracting)\s+(?:that|this|it|my|the|our)|"
                       r"take\s+(?:that|it)\s+back|scratch\s+that|strike\s+that|scrap\s+that|"
                       r"revis(?:e|ing)\s+(?:that|it|this|my\s+answer)|my\s+first\s+instinct)\b|^\W*correction\b|"
                       r"\brevised\s+(?:answer|diagnosis)\b|\bchang\w*\s+(?:my|the)\s+answer\b|"
                       r"\bchange[sd]?\s+(?:that|this|it)\s*(?:[:—–]|\bto\b)|"
                       # the answer set aside by pointing back at it: "That label can be set aside", 以上并非本例诊断
                       r"\b(?:that|this|the\s+above)\s+(?:label|answer|diagnosis|choice|line)\s+(?:can|should|must|is|would)\s+"
                       r"(?:be\s+)?(?:set\s+aside|put\s+aside|discarded|dropped|abandoned|wrong|incorrect)\b|"
                       r"\b(?:that|this)\s+(?:would\s+be|is)\s+(?:wrong|incorrect|a\s+mistake|the\s+trap|a\s+trap)\b|这是[^。；;]{0,10}陷阱|"
                       r"^\W*[—–]\s*(?:is|was|would\s+be)\b[^.;]*\b(?:exclud\w*|rule\w*\s+out|wrong|unlikely)\b|"
                       r"[—–]\s*(?:not\s+present|absent|excluded|ruled\s+out|unlikely|not\s+(?:supported|confirmed|consistent|likely)|"
                       # "**X** — not seen."
                       r"not\s+(?:seen|found|shown|visible|detected|demonstrated|evident|there)|nope|[✗✘❌✕×]|"
                       r"awaiting\s+confirmation|unconfirmed|unproven|tbc|"
                       r"(?:can|could|should|must|may)\s+(?:safely\s+)?be\s+(?:set\s+aside|put\s+aside|dismissed|discarded|"
                       r"excluded|ruled\s+out|dropped)|"
                       r"not\s+(?:the\s+)?(?:case|answer|"
                       r"diagnosis))\b|^\W*(?:excluded|ruled\s+out|unlikely|not\s+so)\s*[—–]|\bor\s+rather\b|"
                       r"\bon\s+(?:reflection|second\s+thought)\s*,?\s*no\b|(?:^\W*|\s)[—–]\s*no\s*[,:;—–]|^\W*actually\s*,?\s*no\b|^\W*i\s+mean\b|并非如此|"
                       r"^\W*[—–]+[^，,。；;]{0,8}?(?:已经?|可以?|予以)?(?:排除|不支持|不考虑|不成立)|收回|撤回|更正|改答|"
                       # a label on the answer: "Excluded: the Doppler flow is normal, …", "Status: negative"
                       r"^\W*(?:excluded|ruled\s+out)\s*[:：](?=[^,;]*\b(?:is|are|was|were|has|have|shows?|showed|negative|"
                       r"normal|present|absent)\b)|^\W*(?:status|verdict)\s*[:：]\s*(?:negative|excluded|ruled\s+out|"
                       r"unlikely|not\b|suspected|unconfirmed|doubtful|withdrawn|rejected)|(?:应|就应|则应|我把答案)?改为|这才是|"
                       r"(?:以上|上述|前述)[^。；;]{0,6}(?:并非|不是|错误)", I)
# An answer given only for now, in the committed part: "Tentative answer: X", "presumably X", "X, I'd guess"
TENTATIVE = re.compile(r"\b(?:tentative(?:ly)?|provisional(?:ly)?|preliminary|presumptive(?:ly)?|presumably|"
                       r"(?<!most\s)probably|i\s+suspect|(?<!\bi\s)(?<!initially\s)(?<!first\s)(?<!were\s)suspected|"
                       r"i\s+reckon|my\s+hunch|working\s+diagnosis(?!\s*[:：])|^\W*suspect|(?<=[:：;] )suspect|"
                       r"(?<=[:：;])suspect|"
                       r"to\s+be\s+revisited|"
                       r"working\s+(?:hypothesis|assumption)|i'd\s+guess|i\s+would\s+guess|"
                       r"(?:my\s+)?(?:best\s+)?guess\s+is|my\s+(?:best\s+)?(?:estimate|guess)|"
                       r"at\s+a\s+guess)\b|,\s*i\s+(?:think|believe|suppose|reckon|feel|guess)\W*$|暂定|拟诊|"
                       r"\bfor\s+now\b(?=\s*[:：,])|\(draft\)|\bdraft\s+answer\b|"
                       r"初步(?:考虑|判断|印象|答案)|[（(]初步[)）]|暂按", I)
DEFERRAL = re.compile(
    r"\bfurther\s+(?:work-?up|testing|tests|evaluation|investigation|imaging|studies)(?:\s+[\w-]+){0,4}?\s+"
    r"(?:is|are|would\s+be|will\s+be)\s+(?:needed|required|necessary|warranted)|"
    r"\bneeded\s+to\s+(?:decide|distinguish|differentiate|confirm|tell)|\b(?:will|would|can)\s+tell\b|"
    r"\bwould\s+(?:answer|settle|clarify)\s+(?:this|the\s+question|it)\b|才能(?:确定|明确|诊断)|以(?:明确|确诊)|"
    r"\bbefore\s+a\s+(?:definitive|final|firm)\s+diagnosis|"
    r"\bcannot\s+be\s+(?:determined|made|established|decided)|\b(?:pending|awaiting|depending\s+on|depends\s+on|"
    r"it\s+depends)\b|\bneeds?\s+to\s+be\s+(?:confirmed|excluded|ruled\s+out|distinguished)|"
    r"\b(?:would|will)\s+(?:help\s+)?(?:distinguish|differentiate|tell\s+apart)\b|"
    r"\btell\s+(?:them|the\s+two|these|those)\s+apart\b|\b(?:answer|diagnosis)\s+cannot\s+be\b|"
    r"\bcannot\s+say\s+which\b|\bremains\s+(?:uncertain|unclear)\b|\bnot\s+clear\s+from\b|"
    r"待(?:排除|查|定)|待[^。；;]{1,20}?(?:证实|确认|明确|确诊)|需(?:要)?进一步|尚不能确定|无法确定|取决于", I)
