"""The words that tell whether a sentence commits to what it names, in English and Chinese.

Vocabulary only (compiled patterns); `medo1.verify.answer` applies them. Each family:

    negation     "not X", "no evidence of X", "X is absent / unlikely / excluded", "I doubt it is X",
                 "it is false that …"; 不是X, 排除X, X可能性小, X除外
    possibility  "could / may / might be X", "possibly X", "consider X", "X is possible / should be
                 considered / cannot be excluded"; 可能是X (but 最可能是X commits), 考虑X, 不除外X
    weighed      "X is a consideration / a concern / tempting", "initially X"
    doubt        "I cannot be confident", "both remain on the table", "… before committing", "I won't give a
                 final diagnosis"; 无法确定, 难分主次, 不会给出最终诊断
    alternative  "PE is also possible", "pericarditis would fit too" (unless a contrast dismisses it); 也可能
    withdrawn    "I withdraw that conclusion"; 收回, 撤回
    deferral     "further workup is needed", "pending the biopsy", "depending on …"; 待排除, 需进一步检查
    joiners      what joins list items: , and plus + & "as well as" "along with" ; / or vs; 、和与及或
    clause       what starts a clause rather than another list item ("and requires", "and it is")
    answer cues  "the answer is", "the most likely diagnosis is", "thus / therefore X", "X is the
                 diagnosis"; 答案是, 诊断为, 因此
"""

from __future__ import annotations

import re

I = re.IGNORECASE
AUX = (r"is|was|are|were|be|been|being|has|have|had|can|could|should|would|will|may|might|must|seems?|appears?|"
       r"looks?|very|highly|also|clearly|definitely|therefore|thus|much|far|then|here|now|does|do|did|fairly|"
       r"quite|rather|safely|reliably|effectively|essentially|largely|probably|still|certainly|almost|deemed|so|"
       r"considered|thought|felt|judged|actually|really|in\s+fact|ultimately|definitively|already|completely")

# ---------------------------------------------------------------- negation

_DOUBT = r"(?<!\bno\s)(?<!\bwithout\s)(?<!\bbeyond\s)(?<!\bwithout\sa\s)(?<!\bbeyond\sa\s)doubt"
NEGATION_WORDS = (
    r"not(?!\s+only)(?!\s+(?:be\s+)?(?:delayed|withheld|missed|overlooked|postponed|forgotten|interrupted))|"
    r"no(?!\s+doubt)|never|nor|neither|none|cannot|can't|\w+n't|unlikely|improbable|implausible|"
    r"less\s+(?:likely|probable|plausible)|against|exclud\w*|ruled?\s+out|rules\s+out|ruling\s+out|contraindicated|"
    r"avoid\w*|inappropriate(?!\s+(?!(?:to|for|here|in|as|because|since|given|and|or|at|now|there|this|that|with|"
    r"unless|if|when|during|until)\b)[a-z])|incorrect|wrong|doubtful|" + _DOUBT +
    r"(?:s|ed|ing)?|false|untrue|discard\w*|"
    r"dismiss\w*|eliminat\w*|inconsistent|rejected|refut\w*|disprov\w*")
NEGATION_ZH = r"不是|并非|并不是|不像|不考虑|排除|没有|否认|不支持|不符合|不太可能|不可能|未见|而非|而不是|不应|不宜|禁用|忌用"
NEGATION = re.compile(rf"\b(?:{NEGATION_WORDS})\b|{NEGATION_ZH}", I)
_NEAR = r"(?:\W+\w+){0,6}\W*$"  # the rest of the clause, up to six words
# before what it negates: "no evidence of X", "I doubt it is X", "not X"; 不是X, 非X (a prefix)
NEGATED_BEFORE = re.compile(
    rf"\b(?:{NEGATION_WORDS})\b(?:\W+\w+){{0,3}}\W*$|"
    r"(?:\b(?:not|n't)\s+(?:true|the\s+case|correct|right|accurate)|\bfalse|\buntrue|\bincorrect|\bwrong|"
    r"\bunlikely|\bimprobable|" + _DOUBT + r"\w*)\s+(?:to\s+say\s+)?(?:that|whether|if)\b" + _NEAR + "|"
    r"\bno\s+(?:evidence|sign|signs|indication|suggestion|features?|reason)\s+(?:of|for|that|to)\b" + _NEAR + "|"
    r"(?:不是|并非|并不是|不像|不考虑|排除了?|无|没有|否认|不支持|不符合|不太可能是?|不可能是?|未见|而非|而不是|不应|不宜|禁用|忌用)"
    r"[^，,。；;]{0,4}$|非$", I)
# after what it negates: "X is absent", "X was ruled out", "X: unlikely", "X (excluded)"; X可能性小, X除外
NEGATED_AFTER = re.compile(
    rf"^\W*(?:(?:{AUX})\s+){{0,4}}(?:{NEGATION_WORDS}|absent|lacking|negative\s+for)\b|"
    r"^\W*off\s+the\s+table\b|^\s*[✗✘❌✕×]|"
    r"^[\s，,：:（(—–]*(?:的?可能性?(?:很|较|极)?(?:小|低|不大)|不太可能|不(?:成立|支持|考虑|正确|对)|"
    r"(?:已|已经|可以|可|被|予以)?排除|除外|是错误的|错误|否(?!则))", I)

# a whole part after ":" or " - " that only dismisses or doubts what comes before ("MI: unlikely")
DISMISS = re.compile(r"^\W*(?:unlikely|improbable|implausible|doubtful|excluded|ruled\s+out|absent|false|wrong|"
                     r"incorrect|"
                     r"not\s+likely|no|possible|possibly|maybe|perhaps|a\s+possibility|(?:cannot|can't)\s+be\s+"
                     r"(?:excluded|ruled\s+out)|less\s+likely|uncertain|unclear|questionable|not\s+sure)"
                     r"(?:\W*$|\s*[(（]|[\s,]+(?:given|because|as|since|with|due|in\s+view)\b)|"  # "ruled out (CSF …)"
                     r"^\W*(?:unlikely|improbable|doubtful|excluded|ruled\s+out|absent|not\s+likely|less\s+likely)\s*[,;—–]|"
                     r"^\W*(?:不太可能|可能性小|可能性不大|已?排除|除外|可能|不确定)\W*$", I)

# ---------------------------------------------------------------- possibility, weighing, deferral

POSSIBLE_BEFORE = re.compile(
    r"(?:^|\s)\?\s*$|"  # "?acute cholangitis": a query
    r"\b(?:could|might|may|possibly|possible|perhaps|maybe|potentially|conceivably|possibilit(?:y|ies)|"
    r"(?:consider|considering)(?!\s+(?:[\w'-]+\s+){0,5}?(?:as\s+|to\s+be\s+)?the\s+(?:most|answer|diagnosis|best)))"
    r"\b(?:\W+\w+){0,4}\W*$|"
    r"(?<![最很极更])(?<!最有)(?<!很有)(?<!极有)(?:可能)[^，,。；;]{0,4}$|(?:或许|也许|疑似|不除外|待排除?|鉴别)[^，,。；;]{0,4}$|"
    r"(?<!首先)(?<!首先应)(?<!应首先)考虑(?!为)[^，,。；;]{0,4}$", I)
POSSIBLE_AFTER = re.compile(
    r"^\W*(?:(?:is|are|was|were|remains?|seems?|also|still|very|quite|certainly|definitely)\s+){0,3}"
    r"(?:could|might|may|possibly|possible|perhaps|maybe|potentially|plausible|"
    r"a\s+(?:possibility|consideration|candidate|differential|concern|possible)|"
    r"(?:to\s+be\s+|be\s+)?considered(?!\s+(?:to\s+be\s+)?(?:the|a\s+classic|most))|worth\s+considering|"
    r"(?:in|on)\s+the\s+differential|(?:cannot|can't|can\s+not)\s+be\s+(?:excluded|ruled\s+out))\b|"
    r"^[\s，,：:（(]*(?:也?有?可能|待排|不能排除|不除外|需(?:要)?(?:排除|鉴别|考虑)|待查)", I)
WEIGHED = re.compile(r"\b(?:consideration|considered|tempting|first\s+thought|initially|at\s+first|concern|worry|"
                     r"raises?\s+(?:the\s+)?(?:question|possibility|concern|suspicion)|"
                     r"also\s+(?:be\s+)?(?:considered|possible))\b|需要?鉴别|鉴别诊断", I)
# Doubt about the answer as a whole, said with it or after it: "I cannot be confident without a biopsy",
# "I would not favor one over the other", "Y could equally account for it", 无法确定
DOUBT = re.compile(
    r"\b(?:cannot|can't|could\s+not|not)\b[^.;]{0,30}\bwith\s+(?:any\s+|full\s+|real\s+)?(?:confidence|certainty)\b|"
    r"\b50\s*/\s*50\b|\bfifty[- ]fifty\b|\bcoin[- ](?:toss|flip)\b|"  # a tie: none of 2,131 correct responses says so
    r"\b(?:is|are)\s+(?:possibly|perhaps|maybe|conceivably)\b|"  # "… is possibly what's going on": none of 2,008 correct
    # none of these in the 2,008 correct tuned responses either: a question left open, "'No' is just as defensible",
    # an answer that holds only under a condition ("**X** — provided …", "X — assuming …"), 以上三者都不能排除
    r"\b(?:remains?|is|stays?)\s+(?:genuinely\s+|still\s+|wide\s+)?open\b|"
    r"\bbefore\s+(?:anyone|we|i|one)\s+can\s+(?:call|say|decide|commit|name)\b|"
    r"\bjust\s+as\s+(?:defensible|valid|reasonable|likely|good|correct|plausible|right)\b|"
    r"\bthe\s+answer\s+(?:changes|would\s+change|is\s+different)\b|"
    r"[—–,:]\s*(?:provided(?:\s+that)?|assuming|as\s+long\s+as|on\s+(?:the\s+)?condition)\b|"
    r"(?:都|均)不能排除|并列考虑|均不除外|"
    r"\b(?:cannot|can't|can\s+not|could\s+not|couldn't)\s+(?:be\s+)?(?:fully\s+|entirely\s+|completely\s+)?"
    r"(?:confident|certain|sure)\b|\b(?:i\s+am|i'm|we\s+are|we're)\s+not\s+(?:\w+\s+)?(?:confident|certain|sure)\b|"
    r"\bwould\s+not\s+favou?r\s+(?:one|either)\b|\b(?:could|might|may)\s+equally\b|"
    r"\bequally\s+(?:likely|possible|plausible|probable)\b|\bgo(?:es|ing)?\s+either\s+way\b|"
    r"\b(?:could|might|may)\s+(?:also\s+|instead\s+|well\s+)?be\s+the\s+(?:intended|correct|right|real|actual|better)\s+"
    r"answer\b|\b(?:cannot|can't)\s+say\s+(?:with\s+(?:any\s+)?(?:confidence|certainty)|for\s+(?:sure|certain)|which)\b|"
    r"\bboth\s+(?:are|remain|seem|look|stay)\s+(?:equally\s+)?(?:possible|plausible|likely|on\s+the\s+table|in\s+play|"
    r"open|viable)\b|\bno\s+longer\s+(?:sure|certain|confident)\b|\bwhich\s+of\s+the\s+two\b|"
    r"\bbefore\s+(?:committing|saying\s+so|being\s+(?:sure|certain)|settling|concluding|deciding|"
    r"i\s+(?:commit|decide|conclude))\b|"
    r"\bequally\s+(?:well|valid|good|reasonable|appropriate|acceptable|correct|defensible)\b|"
    r"\b(?:stays?|remains?|still)\s+(?:in\s+play|on\s+the\s+table|in\s+contention|in\s+the\s+running)\b|"
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
    r"无法(?:确定|区分|判断|鉴别)|不能确定|难以(?:确定|区分|鉴别|取舍)|[均都皆]有可能|不好说|说不准|难分主次|"
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
    r"把握|再定|(?:后|才能|再下)(?:定论|结论)|倾向性|很难区分|难以区分|都说得通|前提是|"
    # the answer only as far as it goes: "the most I can commit to is …", "I would keep both diagnoses open"
    r"\b(?:the\s+most|all)\s+(?:that\s+)?(?:i|we)\s+(?:can|could|would|will)\s+(?:commit\s+to|say|conclude|offer)\b|"
    r"\bkeep\s+(?:both|the\s+two|them\s+both|all\s+(?:two|three)|these|them)(?:\s+[\w-]+){0,2}\s+open\b|"
    # doubt put on the answer by pointing back at it: "It cannot be excluded", "I'd suspect it"
    r"(?:^\W*|\bbut\s+|\band\s+|[,;—–]\s*)(?:it|this|that)\s+(?:still\s+|only\s+)?(?:cannot|can't|can\s+not)\s+be\s+"
    r"(?:excluded|ruled\s+out)\b|"
    r"(?:^\W*|\bbut\s+|\band\s+|[,;—–]\s*)(?:it|this|that)\s+(?:is|remains|seems)\s+(?:still\s+|only\s+|merely\s+|just\s+)?(?:possible|a\s+possibility|"
    r"plausible)\b(?!\s+to\b)|\b(?:put|place|rate)\s+(?:it|this|that)\s+at\s+(?:roughly\s+|about\s+|around\s+)?\d{1,2}\s?%|"
    r"\bclose\s+behind\b|^\W*(?:it|this|that)\s+(?:may|might|could)\s+be\s*(?:,|[—–]|\bat\s+least\b|$)|"
    r"\bi\s+suspect\s+(?:it|this|that)\b|\bbefore\s+(?:i'd|i\s+would|i\s+could|i\s+can|we\s+can)\s+(?:say|commit|call)\b|"
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
    r"confirmed|proven)\b|\b(?:can't|cannot|can\s+not)\s+tell\s+which\b|\b(?:it|this|the\s+answer)\s+(?:is|would\s+be)\s+"
    r"either\b|\b(?:i'd|i\s+would|i'll|i\s+will)\s+suspect\s+(?:it|this|that)\b", I)
# The writer speaking after the answer: of 1,819 correct labelled responses, two do ("I'm confident this is coeliac
# disease"), against 186 of 2,402 wrong ones ("I'd say both are on the table", "I would hold off"). Unless it stands
# by the answer or gives a plan, it qualifies it.
FIRST_PERSON = re.compile(r"(?<![-–\w])(?:(?<![Tt]ype\s)(?<![Bb]ipolar\s)(?<![Cc]lass\s)(?<![Gg]rade\s)(?<![Ss]tage\s)"
                          r"(?<![Pp]hase\s)(?<![Mm]obitz\s)(?<![Cc]ategory\s)(?<![Ss]chedule\s)(?<![Ff]actor\s)"
                          r"(?<![Tt]ier\s)(?<![Ll]evel\s)(?<![Zz]one\s)(?<![Gg]roup\s)I(?![-–\w])|I'd|I'm|I've|I'll|"
                          r"[Mm]y|me)\b|我(?!国|院|科)")
QUOTED = re.compile(r"[\"“][^\"”]{1,120}[\"”]|(?:^|(?<=\s))['‘][^'’]{1,120}['’](?=\s|[,.;:]|$)")  # a patient's words
STANDS_BY = re.compile(r"\b(?:I\s+am|I'm)\s+(?:\w+\s+)?(?:confident|certain|sure)\b"
                       r"(?![^.;]*\b(?:not|but|although|though)\b)|"
                       r"\b(?:I\s+would|I'd|I\s+will|I'll|I)\s+(?:\w+\s+)?(?:start|give|treat|prescribe|order|refer|"
                       r"arrange|admit|check|repeat|monitor|recommend|suggest|add|stop|continue|begin|avoid|request|"
                       r"send|book|offer|counsel|advise|reassure|follow)\b(?![^.;]*\b(?:answer|diagnos\w*|both|either|"
                       r"or)\b)|我(?:会|将)?(?:建议|给予|开始|安排)")
# Candidates left undecided after the answer, with nothing to settle it in the same sentence: "Without a biopsy,
# the two cannot be told apart" (but not "… cannot be told apart on CT, but the biopsy shows X")
UNDECIDED = re.compile(r"\b(?:cannot|can't|can\s+not|could\s+not|couldn't)\s+(?:yet\s+|reliably\s+|really\s+)?be\s+"
                       r"(?:told\s+apart|separated|distinguished|differentiated)\b(?!\s+from\b)", I)
SETTLED = re.compile(r"\b(?:but|however|although|though|yet|so|therefore|thus|until|which\s+is\s+why)\b|但|然而", I)
# Several answers given together after the answer: "I'm submitting all three", 三者都符合，我一并作为答案
TOGETHER = re.compile(r"\bsubmit\w*\s+(?:all|both)\b|\bsame\s+answer\s+line\b|"
                      r"\b(?:a|the)\s+combined\s+(?:one|picture)\b|"
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
    r"\b(?:is|are|remains?|seems?)\s+(?:also|equally|another|an\s+alternative)\s+(?:\w+\s+)?(?:possible|possibility|"
    r"plausible|likely|option|candidate|consideration|contender)\b|"
    r"\b(?:could|might|may)\s+(?:also|equally|just\s+as\s+well)\s+(?:\w+\s+)?(?:be|fit|explain|account|cause|"
    r"produce|give)\b|\b(?:would|could|might|may)\s+(?:fit|work|explain\s+(?:this|it|the\s+\w+))\s+(?:too|as\s+well)\b|"
    r"\banother\s+(?:option|possibility|candidate|contender)\b|也(?:有)?可能|亦可能|也(?:需|要|应)考虑", I)
CONTRAST = re.compile(r"\b(?:but|however|although|though|yet|not|no|never|unlikely|less|against|unlike|rather|without|"
                      r"lacks?|absent|argues?|excludes?|excluded|ruled|wrong)\b|\w+n't\b|但|然而|不|无|未|排除", I)
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
BACKS_OFF = re.compile(r"^\W*(?:(?:strictly|technically|realistically|frankly)(?:\s+speaking)?\s*,\s*)?"
                       r"(?:(?:without|until|whether|before(?!\s+(?:surgery|(?:the\s+|any\s+)?(?:operation|procedure)|"
                       r"operating|discharge|induction|an(?:a|ae)esthesia|starting|giving))|or|either|honestly|only|"
                       r"provisional|tentative|"
                       r"preliminary|unconfirmed)\b|it\s+depends\b|"
                       r"if\s+(?:it|this|that)\b|目前|需要|请先|或者?)|"
                       r"^\s*(?:[¹²³⁴⁵†‡]|\[\^\d+\])", I)  # … or a footnote to it
# Withdrawing an answer: "I withdraw that conclusion", "scratch that", "Correction: …", 收回上述结论
WITHDRAWN = re.compile(r"(?:…|\.\.\.)\s*(?:well|or\s+rather|i\s+mean)\b|"  # "Insulin… well, an insulinoma"
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
                       r"not\s+(?:seen|found|shown|visible|detected|demonstrated|evident|there)|"  # "**X** — not seen."
                       r"(?:can|could|should|must|may)\s+(?:safely\s+)?be\s+(?:set\s+aside|put\s+aside|dismissed|discarded|"
                       r"excluded|ruled\s+out|dropped)|"
                       r"not\s+(?:the\s+)?(?:case|answer|"
                       r"diagnosis))\b|^\W*(?:excluded|ruled\s+out|unlikely|not\s+so)\s*[—–]|\bor\s+rather\b|"
                       r"\bon\s+(?:reflection|second\s+thought)\s*,?\s*no\b|\s[—–]\s*no\s*[,:;—–]|^\W*actually\s*,?\s*no\b|^\W*i\s+mean\b|并非如此|"
                       r"^\W*[—–]+\s*(?:已经?|可以?|予以)?排除|收回|撤回|更正|改答|"
                       # a label on the answer: "Excluded: the Doppler flow is normal, …", "Status: negative"
                       r"^\W*(?:excluded|ruled\s+out)\s*[:：](?=[^,;]*\b(?:is|are|was|were|has|have|shows?|showed|negative|"
                       r"normal|present|absent)\b)|^\W*(?:status|verdict)\s*[:：]\s*(?:negative|excluded|ruled\s+out|"
                       r"unlikely|not\b|suspected|unconfirmed|doubtful|withdrawn|rejected)|(?:应|就应|则应|我把答案)?改为|这才是|"
                       r"(?:以上|上述|前述)[^。；;]{0,6}(?:并非|不是|错误)", I)
# An answer given only for now, in the committed part: "Tentative answer: X", "presumably X", "X, I'd guess"
TENTATIVE = re.compile(r"\b(?:tentative(?:ly)?|provisional(?:ly)?|preliminary|presumptive(?:ly)?|presumably|"
                       r"(?<!most\s)probably|i\s+suspect|(?<!\bi\s)(?<!initially\s)(?<!first\s)suspected|"
                       r"i\s+reckon|my\s+hunch|working\s+diagnosis|^\W*suspect|(?<=[:：;] )suspect|(?<=[:：;])suspect|"
                       r"to\s+be\s+revisited|"
                       r"working\s+(?:hypothesis|assumption)|i'd\s+guess|i\s+would\s+guess|"
                       r"(?:my\s+)?(?:best\s+)?guess\s+is|my\s+(?:best\s+)?(?:estimate|guess)|"
                       r"at\s+a\s+guess)\b|,\s*i\s+(?:think|believe|suppose|reckon|feel)\W*$|暂定|拟诊", I)
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

# ---------------------------------------------------------------- several candidates

# A list item follows a joiner; "or" / "vs" / "/" join alternatives (hedges) and the others join a list.
OR = (r"(?:\bor\b|\bvs\b\.?|\bversus\b|\band/or\b|或者?|还是|(?<!\bmg)(?<!\bmcg)(?<!\bml)(?<!\bU)(?<!\bunits)/"
      r"(?!(?:kg|min|h|hr|hour|day|d|dl|l|ml|m2|mmol|mol|s|sec|week|wk|24\s*h)\b)"
      r"(?![\w-]+\s+(?:type|subtype|variant|form|pattern)\b)"  # "binge-eating/purging type": one subtype
      r"(?!\s*\())")  # "TP/(TP+FN)": a formula
# a refinement after a comma, not another item ("Mobitz type II", "posterior limb", "M3 subtype")
REFINES = re.compile(r"\b(?:right|left)-sided\b|\bin\s+this\s+(?:case|patient)\b|\b(?:type|subtype|variant|form|"
                     r"limb|segment|stage|grade|class|pattern|lobe|branch|division|"
                     r"portion|part|region|phase|variety|kind)\b|型|期|级", I)
_JOINERS = (r"\s*(?:,|;|&|、|，|；)\s*(?:and\s+|or\s+|plus\s+|和|与|或者?)?|\s+\+\s+|\s+(?:and|plus|or|and/or|vs\.?|"
            r"versus|as\s+well\s+as|along\s+with|together\s+with|in\s+addition\s+to|combined\s+with)\s+|\s*/\s*|"
            r"\s*(?:和|与|及|以及|或者?|还是|加)\s*")
JOINER = re.compile(rf"(?:{_JOINERS})$", I)  # a joiner that ends a text
JOINER_AFTER = re.compile(rf"^(?:{_JOINERS})", I)  # a joiner that starts one
# Words that start a clause, an explanation or a refinement, not another candidate.
CLAUSE = re.compile(
    r"^(?:it|this|that|these|those|he|she|they|we|you|i|there|which|who|whose|what|where|when|while|if|so|then|"
    r"thus|therefore|hence|because|since|as|given|due|with|without|from|after|before|by|for|to|in|on|at|not|no|"
    r"such|specifically|namely|i\.e|e\.g|including|especially|particularly|likely|probably|most|more|less|"
    r"though|although|but|yet|however|even|also|only|ideally|typically|usually|often|all|both|each|the\s+patient|"
    r"his|her|their|its|our|my)\b|^\w+(?:ly|ed|ing)\b|^[\d(]|"
    r"^(?:由|因|经|伴|并|且|但|而|所以|因此|需|应|可|给予|予|建议|考虑|其|该|此|这|患者|用于|用以|直至|直到|同时|以便|以免|"
    r"定期|监测|注意)", I)
VERB = re.compile(
    r"(?<![\w-])(?:is|are|was|were|be|been|being|has|have|had|do|does|did|can|could|should|would|will|shall|may|might|"
    r"must|need|needs|needed|requires?|required|explains?|explained|fits?|shows?|showed|causes?|caused|leads?|"
    r"results?|presents?|presented|develops?|developed|suggests?|indicates?|confirms?|confirmed|points?|remains?|"
    r"seems?|appears?|makes?|means?|warrants?|includes?|included|treats?|treated|responds?|occurs?|affects?|"
    r"involves?|reflects?|represents?|accounts?|supports?|favou?rs?|give|given|start|begin|administer|perform|"
    r"obtain|order|check|consider|refer|admit|continue|stop|avoid|prescribe|use|add|switch|initiate|arrange|"
    r"monitor|repeat|measure|send|reassure|observe|schedule|treat|manage|fit|match(?:es|ed)?|explain|argues?|lacks?|"
    r"helps?|distinguish|differentiate|rules?|ruled|excluded|likely|unlikely|possible|consistent|compatible|"
    r"raises?|leans?|thinks?|think|looks?|sounds?|comes?|lies|arises?|needs?|stems?|follows?|gets?|got|becomes?|became|"
    r"characteristic|typical|classic|suggestive|diagnostic|indicative)(?![\w-])|是|为|有|可|应|需|诱发|引起|导致|所致|继发|伴|"
    r"合并|出现|表现|提示|符合|考虑|给予|治疗|进行|行", I)
# Several candidates named as such.
CANDIDATES = re.compile(
    r"\b(?:differentials?|candidates?|possibilities|alternatives|either)\b|"
    r"\b(?:can|could|may|might|are|were)\s+both\b|\bboth\s+(?:of\s+)?(?:these|them|conditions|diagnoses|are|could|"
    r"can|may|might)\b|\bcannot\s+(?:be\s+)?(?:distinguish|differentiat|separat|tell|decide)\w*|"
    r"\bcan't\s+(?:distinguish|tell|decide)|"
    r"\b(?:diagnoses|causes|options|organisms|possibilities|considerations|etiologies|"
    r"answers)\b,?(?:\s+[\w'-]+){0,4}?\s+"
    r"(?:are|include\w*)\b|\b(?:several|multiple|many|various|a\s+number\s+of|a\s+few)\s+(?:conditions|diagnoses|"
    r"causes|possibilities|etiologies|disorders|diseases|entities)\b|"
    r"(?<!\bis\s)(?<!\bare\s)(?<!\bwas\s)(?<!\bbe\s)\bboth\s+[\w\s'-]{1,40}?\s+and\b|"
    r"\bone\s+of\s+(?:the\s+)?(?:following|these|them)\b|\b(?:would|could|can|may|might|do)\s+all\s+(?:fit|explain|"
    r"account|cause|produce|present|be)\b|\b(?:each|any)\s+of\s+(?:these|them|the\s+\w+)\s+(?:could|might|may|would)\b|"
    r"^\W*both\s+(?:warrant|need|require|are|remain|could|can|may|might|should|deserve)\b|"
    r"\bheads?\s+(?:the|my)\s+(?:list|differential)|\btop\s+of\s+(?:the|my)\s+(?:list|differential)|"
    r"\bleading\s+(?:candidate|contender)|"
    r"鉴别诊断|之一|两者|二者|均有可能|既有[^。；;]{1,30}?也有", I)

# A label that names several answers: "Diagnoses: …", "Diagnoses to act on: …", "Possibilities include: …"
CANDIDATES_LABEL = re.compile(r"\b(?:diagnoses|causes|options|organisms|possibilities|considerations|etiologies|"
                              r"answers|differentials|differential(?:\s+diagnosis)?)(?:[\s,]+[\w'-]+){0,14}\s*[:：]|"
                              r"(?<!最)可能的?[^：:，,。；;]{0,6}[：:]|"
                              r"(?:可选|备选|候选)(?:药物|答案|诊断|方案|病原体?)?\s*[：:]|的(?:用药|药物)\s*[：:]", I)

# ---------------------------------------------------------------- answer statements and chains

SLOT = (r"answer|diagnosis|dx|course|approach|principle|option|choice|cause|etiology|aetiology|organism|"
        r"pathogen|culprit|treatment|management|(?:pharmaco)?therapy|drug|medication|test|investigation|step|"
        r"mechanism|finding|lesion|site|location|structure|nerve|artery|enzyme|agent|vessel|type|condition|disease|"
        r"disorder|anticoagulant|antibiotic|procedure|intervention|imaging|study|hormone|tumou?r|complication|"
        r"explanation|design|picture|vitamin|vaccine|gene|receptor|muscle|bone|virus|parasite")
GRADE_WORDS = (r"final|correct|best|right|most|more|likely|likeliest|probable|definitive|working|single|"
               r"underlying|leading|"
               r"unifying|primary|appropriate|initial|next|causative|responsible|affected|involved|deficient|"
               r"least|clinical|first-line|first|second-line|preferred|recommended|standard|optimal|ideal|main|"
               r"long-term|short-term|immediate|empiric|empirical|pharmacologic|definitive|occluded|injured")
_GRADE = rf"(?:(?:{GRADE_WORDS})\s+)*"
# "the most likely diagnosis (in this patient) is X", "final answer: X", "so, the answer is X"
STATEMENT_FIRST = re.compile(
    r"^\W*(?:(?:so|thus|therefore|hence|overall|in\s+conclusion|in\s+summary|to\s+conclude|ultimately|finally)"
    r"[\s,:]+)?(?:the\s+|my\s+|our\s+|his\s+|her\s+|its\s+|their\s+)?" + _GRADE + rf"(?P<slot>{SLOT})s?\b"
    r"(?:\s+(?!is\b|would\b|will\b|remains\b)[\w'-]+){0,5}?(?:\s+(?:is|would\s+be|will\s+be|remains|must\s+be|"
    r"should\s+be)\b|\s*[:=]|\s+[-–—])\s*(?P<np>.*)$", I)
# "the findings make X the most likely diagnosis"
STATEMENT_MAKES = re.compile(r"\bmak(?:e|es|ing)\s+(?P<np>.+?)\s+the\s+" + _GRADE + rf"(?:{SLOT})\b", I)
# "thus X", "therefore, X" (a bare conclusion)
STATEMENT_SO = re.compile(r"^\W*(?:(?:so|thus|therefore|hence|ergo|in\s+conclusion|in\s+summary|to\s+conclude|"
                          r"ultimately|finally|overall)[\s,:]+|(?:因此|所以|故|综上(?:所述)?|总之)[，,：:\s]*(?:是|为)?)"
                          r"(?P<np>.+)$", I)
# "X is the most likely diagnosis"
STATEMENT_LAST = re.compile(
    r"^(?P<np>.+?)\s+(?:is|would\s+be|remains|seems\s+to\s+be|appears\s+to\s+be|must\s+be)\s+"
    r"(?:(?:therefore|thus|hence|clearly|certainly|definitely)\s+)?(?:the|my|our)\s+"
    + _GRADE + rf"(?:[a-z]+(?:ic|al|ar|ary|ive|ous|id)\s+)?(?P<slot>{SLOT})\b", I)  # "the preferred antithyroid drug"
STATEMENT_ZH = re.compile(r"^(?:因此|所以|故|综上(?:所述)?|总之)?[，,]?(?:本例|本病|该患者|此例|患者|[^，,。：:]{1,12}的)?"
                          r"(?:当前|目前|现在?)?"
                          r"(?:应|可|当)?(?:最可能的|最终的?|正确的?|最终|主要|根本|直接)?(?:[\u4e00-\u9fff]{1,3}性的?)?"
                          r"(?P<slot>答案|诊断|病因|原因|治疗|首选|结论|拮抗剂|解毒剂|解毒药|病原体|致病菌|病原菌|维生素)(?:药物?|用药|方案|措施|检查)?(?:应|可)?(?:是|为|：|:)"
                          r"\s*(?P<np>.+)$")
# The later of two statements revises the earlier ("actually, …"); the earlier was set aside ("at first …").
REVISION = re.compile(r"^\W*(?:actually|wait|on\s+reflection|correction|no[,:]|rather|instead|on\s+second\s+thought|"
                      r"however|but|on\s+closer|re-?considering|after\s+reconsidering|更正|不对|实际上|其实)", I)
SUPERSEDED = re.compile(r"\b(?:initially|at\s+first|first\s+thought|seemed|i\s+thought|was\s+(?:thought|considered)|"
                        r"previously|earlier|preliminary|provisionally)\b|起初|最初|一开始|初步", I)
# A "least likely" / "except" question: the answer is the one the response says does not fit.
INVERTED = re.compile(r"\bleast\s+(?:likely|probable|plausible|common|consistent|associated)\b|\bexception\b|"
                      r"\bexcept\b|\bnot\s+(?:a\s+)?(?:cause|feature|associated|seen|found|true)\b|最不可能|除外的是|不属于", I)
