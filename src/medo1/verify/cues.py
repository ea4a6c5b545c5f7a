"""The words that tell whether a sentence commits to what it names, in English and Chinese.

Vocabulary only (compiled patterns); `medo1.verify.answer` applies them. What takes back an answer already given
(doubt, a turn, a revision, a second answer with it): `medo1.verify.doubts`. Each family:

    negation     "not X", "no evidence of X", "X is absent / unlikely / excluded", "I doubt it is X",
                 "it is false that …"; 不是X, 排除X, X可能性小, X除外
    possibility  "could / may / might be X", "possibly X", "consider X", "X is possible / should be
                 considered / cannot be excluded"; 可能是X (but 最可能是X commits), 考虑X, 不除外X
    weighed      "X is a consideration / a concern / tempting", "initially X"
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
    r"(?:s|ed|ing)?|false(?![\s-]+(?:positive|negative)s?\b)|untrue|discard\w*|"
    r"dismiss\w*|eliminat\w*|inconsistent|rejected|refut\w*|disprov\w*")
NEGATION_ZH = r"不是|并非|并不是|不像|不考虑|排除|没有|否认|不支持|不符合|不太可能|不可能|未见|而非|而不是|不应|不宜|禁用|忌用|不存在"
NEGATION = re.compile(rf"\b(?:{NEGATION_WORDS})\b|{NEGATION_ZH}", I)
_NEAR = r"(?:\W+\w+){0,6}\W*$"  # the rest of the clause, up to six words
# before what it negates: "no evidence of X", "I doubt it is X", "not X"; 不是X, 非X (a prefix)
NEGATED_BEFORE = re.compile(
    rf"\b(?:{NEGATION_WORDS})\b(?:\W+\w+){{0,3}}\W*$|"
    r"(?:\b(?:not|n't)\s+(?:true|the\s+case|correct|right|accurate)|\bfalse|\buntrue|\bincorrect|\bwrong|"
    r"\bunlikely|\bimprobable|" + _DOUBT + r"\w*)\s+(?:to\s+say\s+)?(?:that|whether|if)\b" + _NEAR + "|"
    r"\bno\s+(?:evidence|sign|signs|indication|suggestion|features?|reason)\s+(?:of|for|that|to)\b" + _NEAR + "|"
    r"(?:不是|并非|并不是|不像|不考虑|排除了?|无|没有|否认|不支持|不符合|不太可能是?|不可能是?|未见|而非|而不是|不应|不宜|禁用|忌用|"
    r"不存在)"
    r"[^，,。；;]{0,4}$|非$|"
    r"\b(?:anything\s+but|hardly|(?:chosen\s+)?over|beats?|trumps?|edges?\s+out|as\s+opposed\s+to|less)\s+$|"
    r"\b(?:zero|little|scant)\s+(?:evidence|support)\s+(?:for|of)\s+$|\bnothing\s+(?:suggests|supports|points\s+to|"
    # "Y beats X", "Hardly X", "Nothing suggests X", "I'd reject X"
    r"favou?rs)\s+$|\b(?:reject(?:ing)?|unlike)\s+$|(?:不太像|很难是|难以用|不像是)$", I)
# after what it negates: "X is absent", "X was ruled out", "X: unlikely", "X (excluded)"; X可能性小, X除外
NEGATED_AFTER = re.compile(
    rf"^\W*(?:(?:{AUX})\s+){{0,4}}(?:{NEGATION_WORDS}|absent|lacking|negative\s+for|"
    r"negative(?!\s+(?:predictive|pressure|feedback|inotrop\w*|symptoms|selection)))\b|"
    r"^\W*off\s+the\s+table\b|^[\s:：(（—–=-]*[✗✘❌✕×]|"
    # "X is a red herring", "X can be crossed off", "X — nope"
    r"^\W*(?:(?:is|was|would\s+be|looks\s+like)\s+)?(?:(?:a|an|the|just)\s+)?(?:red\s+herring|distractor|decoy|"
    r"trap(?:\s+answer)?|non-?starter|(?:bit\s+of\s+a\s+)?stretch|mistake|wrong\s+answer|far-?fetched)\b|"
    r"^\W*(?:is|was)\s+(?:off\s+the\s+list|out)\b|^\W*(?:(?:can|could)\s+be\s+|is\s+|was\s+)?(?:crossed|struck)\s+off\b|"
    r"^\W*nope\b|^\W*(?:loses\s+(?:out\s+)?to|is\s+overcalled|lacks\s+support|would\s+be\s+(?:the\s+)?(?:answer|"
    r"diagnosis)\s+if)\b|"
    r"^[\s，,：:（(—–]*(?:的?可能性?(?:很|较|极)?(?:小|低|不大)|不太可能|不(?:成立|支持|考虑|正确|对)|"
    r"(?:已|已经|可以|可|被|予以)?排除|除外|是错误的|错误|否(?!则)|阴性|未见|未发现|证据不足|依据不足|不成立|被否定|被排除|解释不了|"
    r"解释不通)", I)

# a whole part after ":" or " - " that only dismisses or doubts what comes before ("MI: unlikely")
DISMISS = re.compile(r"^\W*(?:unlikely|improbable|implausible|doubtful|excluded|ruled\s+out|absent|false|wrong|"
                     r"negative|"
                     r"incorrect|"
                     r"not\s+likely|no|possible|possibly|maybe|perhaps|a\s+possibility|(?:cannot|can't)\s+be\s+"
                     r"(?:excluded|ruled\s+out)|less\s+likely|uncertain|unclear|questionable|not\s+sure)"
                     r"(?:\W*$|\s*[(（;；]|\W+(?:given|because|as|since|with|due|in\s+view)\b)|"  # "ruled out (CSF …)"
                     r"^\W*(?:worth\s+considering|a\s+consideration)\b|"
                     # "X: no evidence on echo"
                     r"^\W*no\s+(?:evidence|signs?|features?)\b(?!\s+of\s+(?!(?:it|this|that)\b))|"
                     r"^\W*(?:unlikely|improbable|doubtful|excluded|ruled\s+out|absent|not\s+likely|less\s+likely)\s*[,;—–]|"
                     r"^\W*(?:不太可能|可能性小|可能性不大|(?:已|可以?|予以)?排除|除外|可能|不确定|阴性|未见|未发现|否|不考虑|不支持|不成立)"
                     r"(?:\W*$|\s*(?:——|—|，|,|；|;))|"
                     r"^\s*[✗✘❌✕×]\W*$", I)

# ---------------------------------------------------------------- possibility, weighing, deferral

POSSIBLE_BEFORE = re.compile(
    r"(?:^|\s)\?\s*$|"  # "?acute cholangitis": a query
    r"\b(?:could|might|may|possibly|possible|perhaps|maybe|potentially|conceivably|possibilit(?:y|ies)|"
    r"(?:consider|considering)(?!\s+(?:[\w'-]+\s+){0,5}?(?:as\s+|to\s+be\s+)?the\s+(?:most|answer|diagnosis|best)))"
    r"\b(?:\W+\w+){0,4}\W*$|"
    r"(?<![最很极更])(?<!最有)(?<!很有)(?<!极有)(?:可能)[^，,。；;]{0,4}$|(?:或许|也许|疑似|不除外|待排除?|鉴别)[^，,。；;]{0,4}$|"
    r"(?<!首先)(?<!首先应)(?<!应首先)考虑(?!为)[^，,。；;]{0,4}$|疑诊$|"
    # "Think about X", "Watch for X", "Screen for X", "Suspicion of X", "Query X": something to look for, not the answer
    r"(?:^|\W)(?:(?:also\s+)?think\s+(?:about|of)|watch\s+(?:out\s+)?for|screen\s+for|work\s+(?:it\s+)?up\s+for|"
    r"look\s+out\s+for|suspicion\s+of|query|some\s+(?:kind|sort|form)\s+of)\s+$|(?:大概|估计)是?$", I)
POSSIBLE_AFTER = re.compile(
    r"^\W*(?:(?:is|are|was|were|remains?|seems?|also|still|very|quite|certainly|definitely)\s+){0,3}"
    r"(?:could|might|may|possibly|possible|perhaps|maybe|potentially|plausible|"
    r"a\s+(?:possibility|consideration|candidate|differential|concern|possible)|"
    r"(?:to\s+be\s+|be\s+)?considered(?!\s+(?:to\s+be\s+)?(?:the|a\s+classic|most))|worth\s+considering|"
    r"(?:in|on)\s+the\s+differential|(?:cannot|can't|can\s+not)\s+be\s+(?:excluded|ruled\s+out))\b|"
    r"^[\s，,：:（(]*(?:也?有?可能|待排|不能排除|不除外|需(?:要)?(?:排除|鉴别|考虑)|待查)|"
    # "X is on the cards", "X is a long shot", "X tops the list", "X, if I had to bet", "X (TBC)", "Keep X in mind"
    r"^\W*(?:(?:is|are|remains?|stays?)\s+)?(?:still\s+)?(?:on\s+the\s+cards|in\s+the\s+(?:frame|mix|running)|"
    r"an?\s+(?:contender|long\s+shot|hypothesis|reasonable\s+guess|outside\s+chance)|high\s+on\s+the\s+list|"
    r"conceivable|arguable|debatable|unproven|unconfirmed|(?:yet\s+)?to\s+be\s+confirmed(?!\s+(?:on|by|with|via|at|in))|tbc|(?:the\s+)?front-?runner)\b|"
    r"^\W*(?:tops|heads|leads)\s+the\s+(?:list|differential)\b|^\W*in\s+mind\b|"
    r"^\W*(?:if\s+i\s+had\s+to\s+(?:bet|guess|choose|pick)|apparently|seemingly|awaiting\s+confirmation)\b|"
    r"^\W*(?:seems?|appears?|looks?)\s+(?:very\s+|quite\s+)?(?:likely|plausible|probable)\b|"
    r"^\W*(?:,\s*likely\W*$|\((?:likely|probable|query|draft|provisional|\?)\)|-ish\b|(?:，|,)?吧)", I)
WEIGHED = re.compile(r"\b(?:consideration|considered|tempting|first\s+thought|initially|at\s+first|concern|worry|"
                     r"raises?\s+(?:the\s+)?(?:question|possibility|concern|suspicion)|"
                     r"also\s+(?:be\s+)?(?:considered|possible))\b|需要?鉴别|鉴别诊断", I)
# what dismisses a candidate named with it ("PE could explain the pain, but the D-dimer is normal")
CONTRAST = re.compile(r"\b(?:but|however|although|though|yet|not|no|never|unlikely|less|against|unlike|rather|without|"
                      r"lacks?|absent|argues?|excludes?|excluded|ruled|wrong)\b|\w+n't\b|但|然而|不|无|未|排除", I)

# ---------------------------------------------------------------- several candidates

# the arrow between the steps of a course of conditions ("A → X → C")
ARROW = re.compile(r"→|⟶|⇒|\s->\s|\s=>\s")
# where an arrow after the answer leads to what is done about it: "torsion → theatre, now", "→ needle decompression"
TO_CARE = re.compile(r"\W*(?:(?:urgent|emergency|immediate)\s+)?(?:theatre|surgery|resus|icu|itu|"
                     r"needle\s+decompression|(?:iv|im)\s+\w+|give|start|call|admit|refer|treat)\b", re.IGNORECASE)

# A list item follows a joiner; "or" / "vs" / "/" join alternatives (hedges) and the others join a list.
OR = (r"(?:\bor\b|\bvs\b\.?|\bversus\b|\band/or\b|±|\+/-|\s\|\s|或者?|还是|"
      # "/" but not in a value ("32/40", "120/80")
      r"(?<!\bmg)(?<!\bmcg)(?<!\bml)(?<!\bU)(?<!\bunits)/(?!(?<=\d\d/)\d)(?!(?<=\d/)\d\d)"
      r"(?!(?:kg|min|h|hr|hour|day|d|dl|l|ml|m2|mmol|mol|s|sec|week|wk|24\s*h)\b)"
      r"(?![\w-]+\s+(?:type|subtype|variant|form|pattern)\b)"  # "binge-eating/purging type": one subtype
      r"(?!\s*\())")  # "TP/(TP+FN)": a formula
# a refinement after a comma, not another item ("Mobitz type II", "posterior limb", "M3 subtype")
REFINES = re.compile(r"\b(?:right|left)-sided\b|^\s*(?:left|right|bilateral)\s+[a-z]+\s*$|"  # ", left leg"
                     r"\bin\s+this\s+(?:case|patient)\b|\b(?:type|subtype|variant|form|pole|"
                     r"limb|segment|stage|grade|class|pattern|lobe|branch|division|side|leg|arm|eye|portion|part|"
                     r"region|phase|variety|kind|a?etiology|episode|origin|onset|target|dose)\b|型|期|级", I)
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
    r"rises?|rose|falls?|fell|drops?|dropped|climbs?|climbed|improves?|improved|worsens?|worsened|"
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

# the words that open a question about the answer: "What is it?", "— so which drug?"
WH_WORDS = r"(?:what|which|who|whom|whose|why|how|where|when)"
SLOT = (r"answer|diagnosis|dx|course|approach|principle|option|choice|cause|etiology|aetiology|organism|"
        r"pathogen|culprit|treatment|management|(?:pharmaco)?therapy|drug|medication|test|investigation|step(?!s?\s*\d)|"
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
    r"[\s,:]+)?(?:the\s+|my\s+|our\s+|his\s+|her\s+|its\s+|their\s+)?" + _GRADE + rf"(?P<slot>{SLOT}|antidote)s?\b"
    r"(?:\s+(?!is\b|would\b|will\b|remains\b)[\w'-]+){0,5}?(?:\s+(?:is|would\s+be|will\s+be|remains|must\s+be|"
    r"should\s+be)\b|\s*[:=]|\s+[-–—])\s*(?P<np>.*)$", I)
# "the findings make X the most likely diagnosis"
STATEMENT_MAKES = re.compile(r"\bmak(?:e|es|ing)\s+(?P<np>.+?)\s+the\s+" + _GRADE + rf"(?:{SLOT})\b", I)
# "thus X", "therefore, X" (a bare conclusion)
STATEMENT_SO = re.compile(r"^\W*(?:(?:so|thus|therefore|hence|ergo|in\s+conclusion|in\s+summary|to\s+conclude|"
                          r"ultimately|finally|overall)[\s,:]+|∴\s*|(?:因此|所以|故|综上(?:所述)?|总之)[，,：:\s]*(?:是|为)?)"
                          r"(?P<np>.+)$", I)
# "so the polyuria is due to nephrogenic DI": the cause a conclusion names
STATEMENT_DUE = re.compile(r"^\W*(?P<so>(?:so|thus|therefore|hence)[\s,:]+)?(?:the|his|her|this|its|their)\s+"
                           r"(?:[\w'-]+\s+){1,3}(?:is|are|was|were)\s+(?:(?:ultimately|therefore|thus|probably|mainly)\s+)?"
                           r"(?:due\s+to|caused\s+by|secondary\s+to|(?:the|a)\s+result\s+of)\s+(?P<np>.+)$", I)
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
