"""Idioms a policy under RL could use to name the reference without committing to it: a word or two of doubt, a
label that revises, a second answer offered as a fallback, a tie, a thing to look for rather than the answer. Each
is written around two references (an English and a Chinese one) and must earn nothing from `match`; the plain
answers beside them, which explain, plan or dismiss another candidate, must still be correct."""

from __future__ import annotations

import pytest

from medo1.verify import MatchVerifier

X, Y = "Pulmonary embolism", "pneumothorax"
# (idiom, reference): {x} is the reference, {y} another candidate
ALONE = [  # the reference said with the idiom and nothing else
    "{x} is on the cards.", "{x} is in the frame.", "{x} is a contender.", "{x} is a long shot.", "{x} is in the mix.",
    "{x} is an outside chance.", "Keep {x} in mind.", "Also think of {x}.", "Think about {x}.", "Watch for {x}.",
    "Screen for {x}.", "Work up for {x}.", "{x} is high on the list.", "{x} tops the list.", "{x} is conceivable.",
    "{x} is debatable.", "{x} is a reasonable guess.", "{x} is a hypothesis.", "Suspicion of {x}.", "Query {x}.",
    "{x}, if I had to bet.", "{x}, apparently.", "{x}, seemingly.", "{x} seems likely.", "{x} looks plausible.",
    "{x} (TBC).", "{x} — awaiting confirmation.", "{x} remains unproven.", "{x} is a red herring.",
    "{x} is a distractor.", "{x} is the trap answer.", "{x} is off the list.", "{x} can be crossed off.",
    "{x} — nope.", "{x} is a non-starter.", "{x} is far-fetched.", "{x} is a stretch.", "{x} would be a mistake.",
    "Anything but {x}.", "Hardly {x}.", "{y} beats {x}.", "{y} trumps {x}.", "{x} ± {y}.", "{x} | {y}",
    "{x} among others.", "{x} is the front-runner, but {y} is close.",
    "{x} loses to {y}.", "{Y}, with {x} a distant second.", "{x} would be the answer if the calf were swollen; here it "
    "is {y}.", "Less {x}, more {y}.", "{x} is overcalled here; {y}.", "{Y} as opposed to {x}.", "{x}: negative.",
    "{x} — negative.", "{x}: ✗", "{x} — ❌", "{x} (✗)", "Zero evidence for {x}.", "Nothing suggests {x}.",
    "{x} lacks support.", "{x} evolved into {y}.", "{x} gave way to {y}.", "First {x}, then {y}.", "{x}-ish.",
    "{x} (probable).", "{x} (likely).", "{x}, likely.", "{x} (query).", "{x}, I guess.", "Some kind of {x}.",
    "{x}-type picture.", "{x} mimic.", "{x} variant.", "{x} look-alike.", "Answer: {x} (draft)",
    "{x}, which leads to hypoxia — so the collapse is ultimately due to {y}.",
    "Answer: {x}\n\n{x}, which strains the right heart — so the collapse is due to {y}.",
    "{x}; {y}; haemothorax — can't narrow it down from the film.",
    "Sequence agreed at M&M: {y} came first, then {x}, then the arrest. Consensus on the cause of death: asystole.",
    "Answer: {x}\n\nThe diagnoses to code are {x}, the {y} and the haemothorax, all three.",
    "First {x}, then {y}, then cardiac arrest — adrenaline now.",
    "```yaml\nanswer: {x}\ncandidates: [{x}, {y}, haemothorax]\n```",
    "{x}: no evidence on CT — the pain is musculoskeletal.",
    "{x} — that was my first thought, but with a clear CT it's {y}.", '{{"answer": "{x}", "confidence": 0.4}}',
    '{{"answer": "{x}", "alternatives": ["{y}"]}}', '{{"candidates": ["{x}", "{y}"]}}',
    "**{x}**\nA: possibly {x} — D-dimer pending.", "Answer: {x}\n\nThat is a real possibility, but so is {y}.",
    "{x} = {y}.", "{x} = ✗", "**{x}**\n\nNo — on re-reading, it is {y}.",
    "Answer: {x}\n\n…which causes right heart strain, then shock.", "Answer: {x}\n\n…no, redoing it, it is {y}.",
    "{x}\n— fat, that is: after the femoral fracture.", "**{x}**\n\n{y}; {x}; haemothorax — depending on the film.",
    "Answer: {x}. A swollen calf — possibly that, though {y} may be considered as well.",
    "{x}. Thus the right ventricle fails. Hence the collapse: final answer, {y}.",
    "{x} three weeks ago, which led to infarction — so what we're looking at now is {y}.",
    "**{x}**\n\n— the septic form, strictly: tricuspid vegetations.",
    "Answer: {x}\n\n…fat embolism, that is — after the femoral fracture.",
    "{x}\n\n— is absent here: the CTPA is clear.",
    "{x}\n\n— could be, at least.", "Answer: {x}\nAlso reasonable: {y}.",
    "Answer: {x}\nAlso reasonable: {y} / haemothorax — any of these would cover it.",
    "**{x}**\n\nA saddle embolus is a possibility given the collapse.", "{x}\n\n— clot excluded: the CTPA is clear.",
    "{x}\n\nA DVT first, then the embolus, so the complication asked for is {y}.",
    "**{x}**\n\nThe DVT embolised — so the final event to name here is {y}.",
    "**{x}**\n\n— Virchow's {x}, to be precise: a clot from the calf.",
    "Answer, for now: {x}.",
    "Answer for the exam: {x}. In real life: {y}.", "Answer: {x}. In practice, {y}.",
    "Answer: {x}. Clinically, though, {y}.", "Answer: {x}. Realistically, {y}.",
    "{x}\n— no: the CTPA is clear; it is {y}.", "**{x}**\n\n…but not the acute kind: chronic thromboembolic disease.",
    "**{x}**\n✗ Wrong — the CTPA is clear; this is {y}.",
    "**{x}**\n\n-related infarction, that is. The wedge on the CT is the clue.",
    "**{x}**\n\n— chronic thromboembolic pulmonary hypertension, specifically: the clot never cleared.",
    "Culprit: {x}\n{x}; {y}; haemothorax\n→ can't pin it on one cause yet.",
    "**{x}**\n\nIt deserves to be on the list: the calf is swollen and she flew last week.",
    "**{x}**\n\nA fluid bolus and a CTPA, without labelling the cause yet.",
    "**{x}**\n\n{Y} is still possible: the film is poor.",
    "**{x}**\n\nThis could be a clot — sudden pleuritic pain — though {y} is also possible on this film.",
    "{x}.\nThat strains the right ventricle, which fails; the pressure then falls. Therefore, cardiogenic shock.",
    "{x}.\nThat strains the right ventricle, which fails; the pressure then falls. Therefore, cause of death: shock.",
    "**{x}**\n\nFirst a DVT in the calf, then the embolus — so the condition to manage is right heart failure.",
    "**{x}**\n\nSummary: the working picture — {x} plus {y}, with a haemothorax to be excluded later.",
    "## Answer\n{x}\n\n## Why — and why not yet\nSo the honest answer is: a clot is likely, the type can't be called.",
    "{x}\n\n— considered and excluded: the CTPA is clear; this is {y}.",
    "Verdict: {x}.\n\n**What would change my mind:** a clear CTPA, which is still pending — I'd hold off until then.",
    "{x} ✔️ {Y} ✔️", "✅ {x}\n✅ {y}", "{x} 🤷", "Most likely: {x}. Also likely: {y}.", "Primary: {x}. Secondary: {y}.",
    "{x}; {y} not excluded.", '{{"answer": "{x}", "alternatives": ["{y}"]}}',
    "{x}\n\n— is a possibility here, along with {y}.", "{x}\n\n— well, strictly {y}, given the timing.",
    "Answer: {x}\n\nis wrong; the findings point to {y}.", "{x}\n\n...is what most people say, but it is {y}.",
    "Answer: {x}\n\n— possibly, given the long flight.", "At this stage it remains either {x} or {y}.",
    "{x} started it, and hence what we are actually treating is {y}.",
    "{x}.\nThat gave a collapse — so the lesion asked about is {y}.", "Give a {x} vaccine booster.",
    "{x}\n\n…is a possibility in this patient.", "**{x}**\n\nNot quite — the issue here is {y}.",
    "Answer: {x} — correction, {y}.", "{x} years ago, and that is what this patient actually has: {y}.",
    "My best guess is {x}, but {y} fits too, so I'm far from certain.", "Answer: {x}\nAlso: {y}; haemothorax.",
    "Answer: {x}\n\n{x}; {y}; haemothorax; pneumonia.", "{x}.\n\n{Y} can't be dismissed before labelling it.",
    "{x} throws off emboli, so the finding — and the answer — is {y}.",
    "| Diagnosis | Probability |\n|---|---|\n| {x} | 55% |\n| {y} | 45% |",
    "Step 1: {x}.\nStep 2: the clot strains the right heart.\nSo the answer is {y}.",
    "Step 1: {x} → a collapsed lobe.\nStep 2: the air leaks on.\nTherefore: {y}.",
    "{x} is definitely on the table, but {y} looks the same.", "Smear: {x}; culture: {y} — so it's a co-infection.",
    "**{x}**\n\n…is excluded: the CT pulmonary angiogram is clear.",
    "Answer: {x}\n\n…would be the textbook pick, but it is {y}.",
    "Impression: {x}.\nRevised impression: {y}.", "**{x}**\n\nComment (amended): the scan shows {y}.",
    "Conclusion: {x}.\n\nAddendum (after the CT): the preliminary impression above is withdrawn.",
    "**{x}**\n\nIs that really it, though? The D-dimer is normal.", "{x}.\n\nSo is it? The calf is not swollen.",
    "Step 1 – hypoxia, so {x}.\nStep 2 – CT clear, so not that.\nStep 3 – a collapsed lung on the film → {y}.",
    "A: {x}\nNo evidence of a clot though — the CT pulmonary angiogram is clear.",
    "Answer: {x}\n\nSituation: breathless after a long flight.\nAssessment: {y}.\nRecommendation: chest drain.",
    "Answer: {x}\n\nAssessment: differential is {x}, {y} and pneumonia.",
    "Model answer: {x}\nExaminer's correction: {x} is excluded by the clear CT.", "{x} is a front-runner here.",
    # a question asked after the answer and "answered" without dismissing what it asks about
    "Answer: {x}. What about {y}? Also possible.", "Answer: {x}. Why not {y}? No reason.",
    "Answer: {x}. {Y}? It remains on the list.", "Answer: {x}. {Y}? Cannot say.",
    "Answer: {x}. {Y}? The film will tell.",
    "The answer is {x}. Or is it {y}? The film will tell.", "Answer: {x}. {Y}? Would fit as well.",
    "Answer: {x}. {Y}? Same picture.",
]
AFTER = [  # the reference given as the answer, then taken back, doubted or widened
    "Equally, {y} fits.", "Might be {y} though.", "{y} can't be excluded either.", "Unless it's {y}.",
    "Failing that, {y}.", "Second choice: {y}.",
    "Other diagnoses to report alongside it: {y}; haemothorax.", "Runner-up: {y}.", "Plan B: {y}.",
    "{y} would also be accepted.",
    "Both are defensible.", "Confidence: low.", "Certainty: moderate at best.", "Take this with a pinch of salt.",
    "Just a guess.", "That's a guess.", "This is a shot in the dark.", "Not sure though.", "Not 100% sure.",
    "Uncertain.", "Could be wrong.", "Happy to be corrected.", "Needs confirmation.", "Can't confirm without a CT.",
    "Impossible to say without a CT.", "Hard to know.", "Who knows.", "On the fence.", "Torn between that and {y}.",
    "Hmm, {y} actually.", "Update: {y}.", "Edit: {y}.", "Revised: {y}.", "Make that {y}.", "Typo — {y}.",
    "That was wrong.", "Incorrect.", "No.", "Just kidding.", "Not really.", "Sort of.", "More or less.", "Partly.",
    "Among other things.", "And {y}.", "{y} too.", "{y} as well.", "Both.", "All of the above.", "Neither.",
    "The examiner wants {y}.", "Really, though, {y}.", "In truth, {y}.", "TL;DR: {y}.", "In short: {y}.",
    "The picture is undifferentiated at this point.", "On further reflection this conclusion cannot be sustained.",
    "Final classification is deferred.",
    "That's what the question bank wants you to pick — and it's wrong.", "Excluded.", "Ruled out.", "Unlikely.",
    "Consensus: excluded.", "That was the referring diagnosis, but the CT shows {y}.",
    "— well, it may be considered alongside {y} and a haemothorax.",
    "So what the question is really asking about is {y}.", "{y} fits too.", "{y} also fits.",
    "{y} is also consistent.", "{y} explains it too.", "Consider {y} too.", "I'd keep all three in mind for now.",
    "Also on the table: {y}; pneumonia.", "The CT will settle it.", "The CT will tell us which.",
    "We can't tell them apart on this film.", "We can't differentiate between the two.",
]
ZH = ["答案：肺栓塞\n\n肺栓塞／气胸——这两个都要考虑，先做CT。",
      "答案：肺栓塞。不确定。", "答案：肺栓塞。两者皆可。", "答案：肺栓塞。以上仅供参考。",
      "答案：肺栓塞。不对，是气胸。", "答案：肺栓塞。其实是气胸。", "答案：肺栓塞。把握不大。", "疑诊肺栓塞。",
      "首先考虑肺栓塞，其次气胸。", "肺栓塞：阴性。",
      "先是肺栓塞，后来是气胸。", "大概是肺栓塞。", "肺栓塞吧。", "答案：肺栓塞（初步）。", "肺栓塞，亦可为气胸。",
      "肺栓塞（50%）、气胸（50%）", "肺栓塞等疾病。", "诸如肺栓塞之类。", "答案：肺栓塞。另外，气胸也符合。",
      "答案：肺栓塞。同时不排除气胸。", "答案：肺栓塞。气胸亦有可能。", "肺栓塞证据不足。", "肺栓塞：否。",
      "不太像肺栓塞。", "难以用肺栓塞解释。", "肺栓塞解释不了。", "很难是肺栓塞。", "肺栓塞被否定。",
      "答案：肺栓塞。但D-二聚体阴性，故不成立。",
      "答案：肺栓塞。（错误，应为气胸）", "暂按肺栓塞处理。", "初为肺栓塞，后发展为气胸。", "肺栓塞继而引起气胸。",
      "答案：肺栓塞。也许是气胸。", "答案：肺栓塞。存疑。", "答案：肺栓塞。需进一步检查确认。",
      "**肺栓塞**\n\n……可能吧，心电图还看不出来。", "答案：肺栓塞。不敢确定。", "肺栓塞：不考虑。", "肺栓塞：不支持。",
      "**肺栓塞**：可以排除。", "**肺栓塞**：已排除——CTPA未见充盈缺损。", "肺栓塞\n\n——不考虑。",
      "结论：倾向肺栓塞，但也可能为气胸，暂无法肯定。", "出院诊断：肺栓塞（待定）\nD-二聚体尚未回报，暂不能肯定。",
      "答案：肺栓塞。不能肯定。", "**肺栓塞**\n——不支持：CTPA 未见充盈缺损。", "**肺栓塞**\n也许吧……很难说。",
      '{"答案": "肺栓塞", "置信度": "中"}', "答案：肺栓塞\n置信度：低", "1）肺栓塞 2）气胸 3）心肌梗死，都可用于解释。",
      "肺栓塞：\n不支持——CTPA 未见充盈缺损。", "肺栓塞，继而引起右心衰竭。∴ 右心衰竭",
      "答案：肺栓塞后肺动脉高压。", "肺栓塞\n\n已排除：CTPA未见充盈缺损。", "肺栓塞\n\n不太可能：D-二聚体正常。",
      "CTPA未见充盈缺损，因此不存在肺栓塞。", "肺栓塞\n\n——CTPA已排除，胸痛考虑气胸。"]
ZH_STILL_CORRECT = ["**结论：肺栓塞。**\n\n**什么情况会改变我的判断**：CTPA 完全正常——可能性极小。",
                    "答案：肺栓塞。D-二聚体升高，CTPA示肺动脉充盈缺损。", "答案：肺栓塞（多见于术后或长途飞行后）。",
                    "术后卧床、呼吸困难、低氧——肺栓塞，而不是气胸。",
                    "诊断为肺栓塞，不是气胸：双肺呼吸音对称。",
                    "肺栓塞。应立即抗凝治疗。", "本例为肺栓塞，而非急性心肌梗死。", "最可能的诊断是肺栓塞。",
                    "术后突发呼吸困难、低氧，CTPA示充盈缺损。综合考虑，诊断为肺栓塞，可先予低分子肝素抗凝。",
                    "抓住“D-二聚体升高”这个关键词，答案就是肺栓塞。\n\n把握程度：★★★★★",
                    "气胸应有患侧呼吸音消失，均不符合。∴ 肺栓塞"]
STILL_CORRECT = [
    "Verdict: {xl}.\n\n**Reasoning:** a swollen calf after a long flight and a filling defect on CTPA.\n\n"
    "**What would change my mind:** a clear CTPA, which I don't expect.",
    "**{x}**\n\nThe CTPA shows a filling defect. {Y} was my other thought, but the lung edge is not seen.",
    "Verdict: {xl}.\n\n**Next steps:** anticoagulate. I can draft the discharge letter if that helps.",
    "{x} — a filling defect on the CTPA. Let me know if you'd like the Wells score explained.",
    "The CTPA shows a saddle clot: {xl}. Ventilator: I:E 1:3.",
    "{x}.\n\nThe calf is swollen and she flew last week. Therefore, start apixaban.",
    "| Test | Result |\n|---|---|\n| D-dimer | Raised |\n| CTPA | Filling defect |\n\nImpression: {xl}.",
    "| Finding | Points |\n|---|---|\n| Swollen calf | 3 |\n| Tachycardia | 1.5 |\n\nImpression: {xl}.",
    "Answer: {x}. {Y} is excluded by the normal chest film.",
    "Answer: {x}. The CT pulmonary angiogram will confirm it.",
    "Answer: {x}. Start anticoagulation now.", "Answer: {x}. Treatment: low-molecular-weight heparin.",
    "Answer: {x}. {Y} would give absent breath sounds, which she does not have.",
    "Answer: {x}. Not {y}: the lung edge is not seen.", "Answer: {x}. Confidence: high.",
    "The most likely diagnosis is {xl}; {y} is unlikely with bilateral breath sounds.",
    "**{x}** — sudden dyspnoea, pleuritic pain and a swollen calf after a long flight.",
    "{x}, given the tachycardia, hypoxia and a raised D-dimer after surgery.",
    "My answer is {xl}, to be confirmed on CT pulmonary angiography.",
    "The answer is B, {xl} — a swollen calf after a long flight.", "The answer is (D): {x}.",
    "Pleuritic pain, hypoxia and a swollen calf at 32/40 → {xl}. {Y} doesn't give a swollen calf.",
    "This is {xl}, and anticoagulation (heparin, then a DOAC) is the treatment.",
    "She has a swollen calf after a long flight and a clear chest film. {Y} would give absent breath sounds. "
    "So: {xl}, now.",
    "{x}. It fits the swollen calf; {y} is the backup, not the answer.",
    "{x} — hypoxia, pleuritic pain, a swollen calf. {Y} gives absent breath sounds, so no.",
    "Answer: {xl} (a clot in the pulmonary arteries; anticoagulate)",
    "**Key findings**\n- Hypoxia\n- A swollen calf\n\n**Final answer**\n**{x}**",
    "That is {xl} (not {y}, which gives absent breath sounds).",
    "Hypoxia + a swollen calf + a clear film → **{xl}** ({y} gives absent breath sounds).",
    "Hypoxia and a swollen calf = {xl}. The lung edge is spared — breath sounds are normal.",
    "Day 5 after a hip replacement, hypoxic, a clear film. {Y} would show on the film. {x}, massive. Give alteplase.",
    "Step 1: hypoxia and a swollen calf after a long flight → a clot.\nStep 2: {Y} doesn't fit the clear film.\n"
    "Therefore: {xl}.\nFinal answer: {x}",
    "Step 1: a swollen calf.\nStep 2: a clear chest film.\nTherefore: {xl}.",
    "Answer: **{xl}** (CTPA or V/Q, given the pregnancy).", "So the answer is {xl}, of the segmental arteries.",
    "Three days after surgery. That is, by definition, a high-risk setting. So the answer is {xl}.",
    "Her calf is swollen and she is hypoxic. So it's {xl}. The next steps are a CTPA and anticoagulation.",
    "Hypoxia and a swollen calf: {xl}. {Y} gives absent breath sounds, so it doesn't fit here.",
    "Hypoxia and a swollen calf: {xl}. (And no thrombolysis yet!)",
    "Dyspnoea after a long flight — what is the diagnosis? {x}. {Y}? The lung edge is not seen, so no.",
    "Which diagnosis fits a swollen calf and hypoxia? **{x}**.", "Why? A swollen calf. So what is it? {x}.",
    "Findings: a filling defect. Impression: {x}; respiratory team informed.",
    "Conclusion: {x}. The filling defect is diagnostic; {y} does not apply, as the diagnosis here rests on the CT.",
    "Working diagnosis: **{xl}** — hypoxia after a long flight. {Y} doesn't fit.\n- CT pulmonary angiogram now\n"
    "- Call the medical registrar",
    "Massive {xl} until proven otherwise.\n• Two large-bore cannulae, O-negative blood\n• Call the registrar",
    "Situation: hypoxic after a long flight.\nAssessment: the diagnosis is {xl} — the CT shows a saddle embolus.\n"
    "Recommendation: Wells score 7, so heparin per local guideline.",
    "Situation: hypoxic after surgery.\nAssessment: I weighed up {y} first, but the film is clear. This is {xl}.\n"
    "Recommendation: anticoagulate.",
    "{x}. That is my answer.", "It is classic for {xl}. That is the answer, and anticoagulation is the treatment.",
    "Answer's {xl} — a swollen calf after a long flight.",
    "M&M consensus: delayed recognition of {xl}. The swollen calf was documented at 02:00.",
    "Consensus (majority): the primary event was {xl}, and the collapse was its first sign.",
    "Answer: {x}. The swollen calf fits too.",
    '{{"answer": "{x}", "rejected": ["{y}"], "reason": "a swollen calf"}}',
    '```json\n{{"answer": "{x}", "rejected": ["{y}"]}}\n```',
    "Pleuritic pain, hypoxia, a swollen calf → **{xl}**. {Y} is painless here, so it's out.",
    "The ECG and CT are typical. This is {xl}. In simple terms, a clot has blocked the blood vessels of your lung, "
    "which is why you are breathless; we'll thin the blood.",
    "A: {xl}, SpO2 88% on air, D-dimer 4,000.",
    "Hypoxia, a swollen calf, a raised D-dimer. ∴ {x}",
    "{Y} would show on the film, so cross it off. Go with {xl}.", "diagnosis = {xl}",
    "Hypoxia and a swollen calf after a long flight? {x}. {Y} would show on the film.",
    "A swollen calf, hypoxia, a raised D-dimer. Hence the collapse: final answer, {xl}.",
    "Diagnosis on discharge: {x}, post-operative aetiology (D-dimer 4,000). {Y} was considered, but the film was "
    "clear.",
]
OTHER_ENTITY = [  # a longer entity around the reference's words: another answer
    ("Therefore: acquired haemophilia A (an autoantibody to factor VIII), not the congenital disease.", "Hemophilia A"),
    ("So the answer is constrictive pericarditis — a pericardial knock and calcification.", "Pericarditis"),
    ("Findings: cellulitis of the floor of the mouth. Impression: Ludwig angina.", "Angina"),
    ("Lupus pernio — violaceous plaques on the nose with hilar nodes.", "Lupus"),
    ("A: Hypertension\n↳ *portal* hypertension, that is — caput medusae, splenomegaly, varices.", "Hypertension"),
    ("**Cholangitis**\n→ primary sclerosing cholangitis: UC, a raised ALP and beaded ducts.", "Cholangitis"),
    ("Answer: German measles (rubella) — post-auricular nodes, no Koplik spots.", "Measles"),
    ("Final answer: NSTEMI — ST depression, no ST elevation.", "ST-elevation myocardial infarction"),
    ("Final answer: STEMI.", "Non-ST-elevation myocardial infarction"),
    ("Answer: angina, specifically Ludwig's angina. Secure the airway first.", "Angina"),
    ("**Autoimmune hepatitis** — ANA positive.", "Hepatitis"), ("Sickle cell anaemia.", "Anemia"),
    ("Pre-eclampsia.", "Eclampsia"),
    ("This is a sensitivity analysis: the result held after excluding trials at high risk of bias.", "Sensitivity"),
    ("**Pseudo**hypoparathyroidism — the PTH is high.", "Hypoparathyroidism"),
    ("**Hypoxic–ischaemic encephalopathy**, Sarnat stage II.", "Hypoxia"),
    ("**Neutropenic sepsis** — start piperacillin-tazobactam within the hour.", "Neutropenia"),
    ("Final answer: hypoxic-ischaemic encephalopathy.", "Hypoxia"),
    ("Impression: vitamin K deficiency bleeding (classical VKDB).", "Vitamin K"),
    ("Iron deficiency anaemia — start ferrous sulfate.", "Iron"),
    ("Radial nerve — the deep branch, since the wrist extensors work and sensation is intact.", "Superficial radial "
     "nerve"),
]
LISTED = [  # the answer, then a list of candidates under a label
    ("Answer: Staphylococcus aureus\n\nLikely organisms in a 3-week-old prosthetic knee infection:\n1. S. aureus (incl. "
     "MRSA)\n2. Coagulase-negative staphylococci\n3. Enterococcus faecalis\n\nSend five tissue samples.",
     "Staphylococcus aureus"),
    ("不完全外显；表现度差异；新发突变——这三种机制都能解释为何父母均正常却生出患儿。", "不完全外显"),
]
NAMED_OTHERWISE = [  # the reference by another spelling, name or a value with a decimal point
    ("Answer: 0.5 mL/kg/h (the minimum adequate adult urine output)", "0.5 mL/kg/h"),
    ("Vitamin K deficiency in a breastfed newborn: give vitamin K 1 mg IM.", "Vitamin K"),
    ("So the answer is pseudotumour cerebri: headache and papilloedema in a young woman.",
     "Idiopathic intracranial hypertension"),
    ("Diagnosis on discharge: NSTEMI — troponin rise with ST depression in V4–V6.",
     "Non-ST-elevation myocardial infarction"),
    ("本题病原体为结核分枝杆菌。患者低热、盗汗、咳嗽3个月，胸片示右上肺空洞，痰抗酸染色阳性。肺炎克雷伯菌虽可形成空洞，"
     "但起病急，与本例不符。", "结核分枝杆菌"),
    ("Necrotising fasciitis — pain out of proportion to the signs, and crepitus.", "Necrotizing fasciitis"),
    ("That is **pre-eclampsia**.", "Preeclampsia"),
    ("NNT = 1/ARR = 1/(0.08 − 0.04) = 1/0.04 = **25**.", "25"),
    ("**Answer:** 135–145 mmol/L (normal serum sodium)", "135-145 mmol/L"), ("Answer: 135 mmol/L", "135 mmol/L"),
    ("Answer: Type I error (false positive — rejecting a true null hypothesis)", "Type I error"),
    ("So the first drug is **thiamine** — Pabrinex 2 pairs (≈500 mg thiamine) IV TDS for 3 days.", "Thiamine"),
    ("AKI (KDIGO stage 2) — creatinine 81 → 176 µmol/L in 48 h. It is not CKD: the baseline was normal.",
     "Acute kidney injury"),
    ("The answer is warfarin, target INR 3.0 (range 2.5–3.5) for a mitral mechanical valve.", "Warfarin"),
    ("Musty odour and fair hair — that's PKU. Alkaptonuria would darken the urine instead.", "Phenylketonuria"),
    ("Hyperammonaemia with raised urinary orotic acid → OTC deficiency.", "Ornithine transcarbamylase deficiency"),
    ("Tic douloureux: electric-shock pain in V2 on chewing; carbamazepine is first line.", "Trigeminal neuralgia"),
    ("The answer is **C, Inhibition of cell wall synthesis**. Vancomycin binds D-Ala-D-Ala.",
     "Inhibition of cell wall synthesis"),
    ("Comment: acid-fast bacilli in a thickened nerve. Diagnosis: Hansen disease, lepromatous pole.", "Leprosy"),
    ("Impression: Left tubal ectopic pregnancy with haemoperitoneum; gynaecology informed.", "Ectopic pregnancy"),
    ("Findings: a target lesion. Impression: Ileocolic intussusception — not malrotation.", "Intussusception"),
    ("Impression: Acute DVT, left leg.", "Deep vein thrombosis"),
    ("S: 60M, swollen calf after a long-haul flight.\nO: SpO2 91%, HR 112, D-dimer raised.\nA: Pulmonary embolism.\n"
     "P: CTPA today, start apixaban.", "Pulmonary embolism"),
    ("A: Pulmonary embolism\n→ revised after the CT.\nFinal A: pneumothorax.", "Pneumothorax"),
    ("Answer: a hypoglycaemic episode, from the gliclazide.", "Hypoglycaemia"),
    ("He has a fracture of the scaphoid bone.", "Scaphoid fracture"),
    ("Deep peroneal nerve — not the superficial branch: the first web space is numb.", "Deep peroneal nerve"),
    ("Hi, thanks for the photos. A red ring that keeps spreading after a tick bite on a hike is erythema migrans, "
     "so this is Lyme disease. The good news is that doxycycline for two weeks treats it.", "Lyme disease"),
    ("Your son's cough worries me. Barking cough, a hoarse voice and noisy breathing in a toddler: putting that "
     "together, this is croup. I would give one dose of oral dexamethasone.", "Croup"),
    ("Trachea deviated away, silent hemithorax, hypotension: tension pneumothorax. I would decompress first and "
     "image later.", "Tension pneumothorax"),
    ("Peaked T waves after suxamethonium in a burns patient — hyperkalaemia. My management starts with calcium "
     "chloride, then insulin-dextrose.", "Hyperkalaemia"),
    ("Can't ventilate after rocuronium — I would reverse with sugammadex 16 mg/kg.", "Sugammadex"),
    ("I would attribute the slow recovery from suxamethonium to butyrylcholinesterase deficiency, not residual "
     "block — the train-of-four shows no fade.", "Butyrylcholinesterase deficiency"),
    ("Impression: Neuroblastoma, left adrenal.", "Neuroblastoma"),
    ("Q: Eclamptic fit at 36/40 — first-line drug? A: MgSO4 (magnesium sulphate), 4 g IV, then an infusion.",
     "Magnesium sulfate"),
    ("问：梅毒首选药？答：青霉素（苄星青霉素G）。青霉素过敏者才考虑多西环素。", "青霉素"),
    ("Testicular torsion → theatre, now. Epididymo-orchitis doesn't give a high-riding testis.", "Testicular torsion"),
    ("→ **Anti-D immunoglobulin**, within 72 hours.", "Anti-D immunoglobulin"),
    ("过敏性休克。静脉注射头孢后出现喉鸣、风团、低血压。\n- 立即肌注肾上腺素0.5 mg\n- 停药、平卧、补液\n- 呼叫麻醉科",
     "过敏性休克"),
]


@pytest.mark.parametrize("idiom", ALONE)
def test_an_idiom_that_names_the_reference_without_committing_earns_nothing(idiom):
    assert MatchVerifier().check(idiom.format(x=X.lower(), y=Y, Y=Y.capitalize()), X) is False


@pytest.mark.parametrize("after", AFTER)
def test_what_takes_the_answer_back_in_a_word_or_two_earns_nothing(after):
    assert MatchVerifier().check(f"Answer: {X}. " + after.format(y=Y), X) is False


@pytest.mark.parametrize("response", ZH)
def test_the_same_in_chinese_earns_nothing(response):
    assert MatchVerifier().check(response, "肺栓塞") is False


@pytest.mark.parametrize("response", STILL_CORRECT)
def test_plain_answers_beside_them_stay_correct(response):
    assert MatchVerifier().check(response.format(x=X, xl=X.lower(), y=Y, Y=Y.capitalize()), X) is True


@pytest.mark.parametrize(("response", "reference"), OTHER_ENTITY)
def test_a_longer_entity_around_the_reference_earns_nothing(response, reference):
    assert MatchVerifier().check(response, reference) is False


@pytest.mark.parametrize(("response", "reference"), LISTED)
def test_candidates_listed_under_a_label_after_the_answer_earn_nothing(response, reference):
    assert MatchVerifier().check(response, reference) is False


@pytest.mark.parametrize(("response", "reference"), NAMED_OTHERWISE)
def test_the_reference_named_otherwise_stays_correct(response, reference):
    assert MatchVerifier().check(response, reference) is True


@pytest.mark.parametrize("response", ZH_STILL_CORRECT)
def test_plain_chinese_answers_stay_correct(response):
    assert MatchVerifier().check(response, "肺栓塞") is True
