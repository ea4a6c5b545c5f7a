"""What comes after the answer: a response that states the reference and then asks, puts a figure or a tie on it,
sets it aside, names a second answer or negates it is not correct (`match` and `match:strict`); the findings,
plans and dismissed alternatives a committed response goes on with stay correct."""

from __future__ import annotations

import pytest

from medo1.verify.answer import uncommitted
from medo1.verify.match import MatchVerifier
from medo1.verify.strict import StrictMatchVerifier

VERIFIERS = (MatchVerifier(), StrictMatchVerifier())


@pytest.mark.parametrize("response, reference, reason", [
    # a question back to the reader after the answer
    ("The answer is aortic stenosis.\n\nBefore you score it, was the murmur louder on standing?", "Aortic stenosis",
     "question"),
    ("Final answer: gout. Can you send me the joint aspirate result first?", "Gout", "question"),
    ("答案是急性胰腺炎。请问血淀粉酶是多少？如果正常我会换答案。", "急性胰腺炎", "question"),
    # a figure or a tie put on the answer
    ("The answer is sarcoidosis. My confidence is roughly 60%.", "Sarcoidosis", "hedge"),
    ("Diagnosis: Addison disease. I'd weigh this at 55% Addison and 45% secondary adrenal insufficiency.",
     "Addison disease", "hedge"),
    ("The answer is hypothyroidism. I'm split between that and depression until the TSH is back.", "Hypothyroidism",
     "hedge"),
    ("**Migraine**\n\nTension-type headache fits almost as well from this history.", "Migraine", "hedge"),
    ("The answer is lithium. Valproate sits level with it for this patient.", "Lithium", "hedge"),
    ("The answer is scabies. Treat this as a first pass, open to revision.", "Scabies", "hedge"),
    ("The answer is psoriasis.\n\nProvisionally — the biopsy will tell.", "Psoriasis", "hedge"),
    ("The answer is asthma. The history doesn't let me settle between it and vocal cord dysfunction.", "Asthma",
     "hedge"),
    ("The answer is asthma. That holds only if the spirometry reverses.", "Asthma", "hedge"),
    ("答案是甲状腺功能亢进症。把握大约七成，等甲状腺功能结果出来再定。", "甲状腺功能亢进症", "hedge"),
    ("答案是支气管哮喘。它与慢性阻塞性肺疾病很难区分，两种都说得通。", "支气管哮喘", "hedge"),
    # the answer set aside after it is given
    ("Answer: appendicitis.\n\nRevised answer on a second look: mesenteric adenitis.", "Appendicitis", "hedge"),
    ("**Gout**\n\nThat label can be set aside: the crystals are positively birefringent.", "Gout", "hedge"),
    ("It is tempting to write 'The answer is gout.' That would be wrong here.", "Gout", "hedge"),
    ("答案是胃溃疡。\n\n以上并非本例诊断，胃镜示十二指肠球部溃疡。", "胃溃疡", "hedge"),
    ("诊断为缺铁性贫血。\n\n——这是一个陷阱，铁蛋白升高。", "缺铁性贫血", "hedge"),
    ("答案是病毒性肝炎。若抗体阴性，就应改为药物性肝损伤。", "病毒性肝炎", "hedge"),
    # several answers given together after the answer
    ("The answer is tuberculosis. Histoplasmosis and sarcoidosis go on the same answer line: I'm submitting all "
     "three.", "Tuberculosis", "list"),
    ("答案是痛风。假性痛风也同样成立，两者都符合，我一并作为答案。", "痛风", "list"),
    ("Answer: ramipril.\nPlus losartan and amlodipine: all three are acceptable first choices.", "Ramipril", "list"),
    ("The answer is gout.\nAlso acceptable answers: pseudogout, septic arthritis.", "Gout", "list"),
    ("答案：金黄色葡萄球菌\n\n以及表皮葡萄球菌、链球菌——三者都是常见病原。", "金黄色葡萄球菌", "list"),
    # held back, left open, or struck down right after it is given
    ("**Sarcoidosis**\n\nA first-pass impression only; I wouldn't commit to it before the biopsy.", "Sarcoidosis",
     "hedge"),
    ("Lupus and drug-induced lupus both fit, so I would leave the answer open until the antibodies are back.",
     "Systemic lupus erythematosus", "hedge"),
    ("The answer is gout if the crystals are needle-shaped and pseudogout if rhomboid; I can't give a single answer.",
     "Gout", "hedge"),
    ("It is either migraine or cluster headache, and I can't settle it from this history.", "Migraine", "hedge"),
    ("答案：甲状腺癌。\n这只是初步判断，待病理回报后才能确定。", "甲状腺癌", "hedge"),
    ("The answer is pneumothorax — not present. The chest film shows lung markings to the edge.", "Pneumothorax",
     "hedge"),
    ("Appendicitis.\n\nExcluded — the ultrasound shows a normal appendix, so this is mesenteric adenitis.",
     "Appendicitis", "hedge"),
    ("Final answer: amiodarone\n\n…or rather sotalol, given her thyroid disease.", "Amiodarone", "hedge"),
    ("Pancreatitis. On reflection, no — the lipase is normal and the pain is from a perforated ulcer.",
     "Pancreatitis", "hedge"),
    ("答案是哮喘。\n\n——但并非如此：肺功能正常，激发试验阴性。", "哮喘", "hedge"),
    ("答案：类风湿关节炎\n——已排除：类风湿因子及抗CCP抗体均阴性。", "类风湿关节炎", "hedge"),
    # doubt put on the answer by pointing back at it, or the answer kept open beside another
    ("The answer is measles. It cannot be excluded yet, so I'd suspect it and isolate him.", "Measles", "hedge"),
    ("Final answer: Wilson disease.\nIt remains only a possibility until the slit-lamp examination.", "Wilson disease",
     "hedge"),
    ("Diagnosis: sarcoidosis. The most I can commit to is a granulomatous disease of unknown cause.", "Sarcoidosis",
     "hedge"),
    ("Answer: lymphoma.\n\nI would keep both diagnoses open until the node biopsy is read.", "Lymphoma", "hedge"),
    ("The answer is Crohn disease. Without a biopsy, Crohn disease and intestinal tuberculosis cannot be told apart.",
     "Crohn disease", "hedge"),
    ("答案是肺炎。另外，肺结核也应一并列入，二者都作为最终答案。", "肺炎", "list"),
    ("**Sarcoidosis**\n\nPerhaps — the hilar nodes fit, but it remains only a possibility until the biopsy.",
     "Sarcoidosis", "hedge"),
    ("Final answer: isoniazid.\n\nThe liver tests are mixed, so I can't pin it down to a single drug.", "Isoniazid",
     "hedge"),
    ("The answer is a cohort study.\n\nThe stem does not say which way the data were collected.", "Cohort study",
     "hedge"),
    ("The answer is pre-eclampsia. Both pre-eclampsia and HELLP syndrome are correct answers here.", "Pre-eclampsia",
     "list"),
    ("Penicillin.\n\nActually no — she is allergic, so give clarithromycin.", "Penicillin", "hedge"),
    ("Medial.\nI mean the lesion lies lateral to the midline.", "Medial", "hedge"),
    ("Gout — not supported; the crystals were positively birefringent.", "Gout", "hedge"),
    ("Yes.\n\nIt is yes or no depending on whether this was the primary outcome.", "Yes", "yes_no"),
    ("I'd put it at about 70% that this is sarcoidosis, with tuberculosis close behind.", "Sarcoidosis", "hedge"),
    ("The diagnosis is coeliac disease.\n\nBloating with iron deficiency raises two main possibilities, and serology "
     "is needed before choosing between them.", "Coeliac disease", "hedge"),
    ("The answer is Streptococcus pneumoniae.\n\nLikely organisms here: Streptococcus pneumoniae, Haemophilus "
     "influenzae, Moraxella catarrhalis.", "Streptococcus pneumoniae", "list"),
    ("答案是甲硝唑。\n\n可选药物：甲硝唑、克林霉素、替硝唑。", "甲硝唑", "list"),
    ("**Pancreatitis**\n\nI suspect it, and it cannot be excluded given the raised lipase.", "Pancreatitis", "hedge"),
    ("Answer: measles.\n\nIt may be, at least — the rash fits, but serology would be needed before I'd say so.",
     "Measles", "hedge"),
    ("Diagnosis: hyperthyroidism. Everything hinges on the TSH; for now either answer could be right.",
     "Hyperthyroidism", "hedge"),
    ("Answer: amoxicillin\n\nand also doxycycline and clarithromycin — any could be used here.", "Amoxicillin", "list"),
    ("答案是布地奈德。\n倍氯米松、氟替卡松也都可以。", "布地奈德", "list"),
    ("答案是阿司匹林。\n\n阿司匹林、氯吡格雷均可作为本题答案。", "阿司匹林", "list"),
    # round 7: doubt by other wordings, candidates under a longer label
    ("**Sarcoidosis**\n\nSarcoidosis cannot be confirmed until the node biopsy is back.", "Sarcoidosis", "hedge"),
    ("Answer: amyloidosis — suspected, not established, on the echo alone.", "Amyloidosis", "hedge"),
    ("The answer is paired t-test. With only twelve pairs I can't tell which is intended: it is either the paired "
     "t-test or the Wilcoxon signed-rank test.", "Paired t-test", "hedge"),
    ("Final answer: small cell carcinoma. Whether the source of the ACTH is the lung or the pituitary cannot be "
     "assigned yet.", "Small cell carcinoma", "hedge"),
    ("The answer is Escherichia coli.\n\nLikely organisms in a catheterised elderly woman with urosepsis: Escherichia "
     "coli, Klebsiella and Enterococcus.", "Escherichia coli", "list"),
    ("答案是奥美拉唑。\n\n本例三联疗法的用药：奥美拉唑、阿莫西林和克拉霉素。", "奥美拉唑", "list"),
    # rounds 8-9: the writer speaking after the answer, ties and dependence, candidates named after it
    ("The answer is sarcoidosis.\n\nWithout the biopsy I would hold off on calling it.", "Sarcoidosis", "hedge"),
    ("Final answer: lupus. I'd say lupus and drug-induced lupus are both on the table.", "Lupus", "hedge"),
    ("Answer: pneumonia. Tuberculosis is just as likely as pneumonia on this film.", "Pneumonia", "hedge"),
    ("The diagnosis is hypothyroidism. Which of the two it is depends on the TSH.", "Hypothyroidism", "hedge"),
    ("Final answer: malaria\nThis is provisional — a toss-up against dengue until the film is read.", "Malaria",
     "hedge"),
    ("**Gallstones**\n\nConsider it: an ultrasound would settle the matter.", "Gallstones", "hedge"),
    ("Answer: toxoplasmosis\nDifferential: toxoplasmosis, primary CNS lymphoma, PML.", "Toxoplasmosis", "list"),
    ("Final answer: ceftriaxone\n- Cefotaxime\n- Benzylpenicillin\nAny of these is reasonable for meningococcal "
     "disease.", "Ceftriaxone", "list"),
    ("The answer is Staphylococcus aureus. Other likely organisms are streptococci and Gram-negative bacilli.",
     "Staphylococcus aureus", "list"),
    ("答案：大肠埃希菌\n可能的病原体：大肠埃希菌、克雷伯菌、肠球菌。", "大肠埃希菌", "list"),
    # a turn after the answer that dismisses nothing
    ("The answer is lupus. However, the serology we have is incomplete.", "Lupus", "hedge"),
    ("Final answer: scabies.\n\nThat said, the burrows were never seen on dermoscopy.", "Scabies", "hedge"),
    ("**Cellulitis**\n\nIt could be early necrotising fasciitis; the pain is out of proportion.", "Cellulitis",
     "hedge"),
    ("答案是系统性红斑狼疮。不过也要看抗体结果。", "系统性红斑狼疮", "hedge"),
    # round 11: the answer listed again with others, others declared answers too, "suspect" after a colon
    ("Final answer: gout\n- Gout\n- Pseudogout\n- Septic arthritis\n\nEach gives a hot swollen knee.", "Gout",
     "list"),
    ("答案是阿莫西林。\n头孢呋辛、阿奇霉素同样是答案。", "阿莫西林", "list"),
    ("The answer is ibuprofen. Naproxen would do for her dysmenorrhoea as well; either one is fine.", "Ibuprofen",
     "list"),
    ("Night sweats, haemoptysis and an upper-lobe cavity: suspect tuberculosis and isolate him.", "Tuberculosis",
     "hedge"),
    # round 12: a label on the answer, others given with it, a sentence that opens by backing off
    ("Pancreatitis.\n\nExcluded: the lipase is normal and the CT shows free air under the diaphragm.", "Pancreatitis",
     "hedge"),
    ("Final answer: malaria\n\nStatus: negative. Three thick and thin films were clear.", "Malaria", "hedge"),
    ("答案：布洛芬\n\n或对乙酰氨基酚，两者都可以用于退热。", "布洛芬", "list"),
    ("Answer: Cryptococcus neoformans\n\nor Histoplasma capsulatum — any of these can cause it in advanced HIV.",
     "Cryptococcus neoformans", "list"),
    ("答案：金黄色葡萄球菌\n\n此外还有链球菌——三者都可能，无法只选一个。", "金黄色葡萄球菌", "list"),
    ("The answer is sarcoidosis.\n\nWhether the nodes are granulomatous decides it.", "Sarcoidosis", "hedge"),
    ("The answer is pertussis.\n\nOnly a PCR of a nasopharyngeal swab settles that.", "Pertussis", "hedge"),
    ("The answer is gout.\n\nUntil the aspirate is read, pseudogout stays on the list.", "Gout", "hedge"),
    ("答案是缺铁性贫血。\n\n目前还要看铁蛋白。", "缺铁性贫血", "hedge"),
    # round 13: a hidden comment, a footnote, a tie, a label, a list that names the answer, "— no, Y"
    ("**Coeliac disease** <!-- provisional: 50/50 with tropical sprue; hold until the biopsy is back -->\n\nWeight "
     "loss and iron deficiency in a traveller.", "Coeliac disease", "hedge"),
    ("Answer: Bell palsy.¹\n\n¹ The forehead is spared, which places the lesion above the facial nucleus.",
     "Bell palsy", "hedge"),
    ("**Pulmonary embolism**\nis unlikely here: the Wells score is 0 and the D-dimer is normal.", "Pulmonary embolism",
     "negation"),
    ("The answer is measles.\n\nDifferential for this unvaccinated child with a rash, cough and conjunctivitis: "
     "measles, rubella, Kawasaki disease.", "Measles", "list"),
    ("Final answer: psoriasis\n- Plaque psoriasis\n- Seborrhoeic dermatitis\n- Tinea corporis\n\nAll three can "
     "produce scaly plaques like these.", "Psoriasis", "list"),
    ("Answer: medial — no, lateral: the tenderness is over the lateral epicondyle.", "Medial", "hedge"),
    ("The answer is Cushing disease.\n\nProvisional: the petrosal sinus sampling is still awaited.", "Cushing disease",
     "hedge"),
    # round 15: "Strictly, it depends", doubt "with confidence", candidates right under the answer
    ("Yes.\n\nStrictly, it depends: stop it only if the eGFR is below 30.", "Yes", "hedge"),
    ("Final answer: Wilson disease\n\nWilson disease may explain the liver and the tremor, but this cannot be said "
     "with confidence before the copper studies.", "Wilson disease", "hedge"),
    ("Final answer: transient tachypnoea of the newborn\n- Respiratory distress syndrome\n- Congenital pneumonia",
     "Transient tachypnoea of the newborn", "list"),
    ("答案：前交叉韧带断裂\n- 内侧副韧带损伤\n- 半月板撕裂", "前交叉韧带断裂", "list"),
])
def test_what_follows_the_answer_can_take_it_back(response, reference, reason):
    assert uncommitted(response) == reason
    for verifier in VERIFIERS:
        assert verifier.check(response, reference) is False, verifier.name


@pytest.mark.parametrize("response, reference", [
    # a second statement of the answer that names something else
    ("The answer is rhabdomyolysis. The question asks about the kidney, though, and the answer to that is acute "
     "tubular necrosis.", "Rhabdomyolysis"),
    ("答案是幽门螺杆菌感染。它引起溃疡出血，所以本次的诊断归结为十二指肠溃疡出血。", "幽门螺杆菌感染"),
    ("诊断：广泛性焦虑障碍。近两个月已满足抑郁发作标准，所以最终诊断我会写为：抑郁发作。", "广泛性焦虑障碍"),
    # the reference negated after the answer
    ("答案是缺铁性贫血。铁蛋白升高，可以排除缺铁性贫血，本例应为慢性病贫血。", "缺铁性贫血"),
    ("The answer is gout. Gout is excluded by the negatively birefringent crystals being absent.", "Gout"),
    # the answer restated as something else, or the question answered being another one
    ("Answer: hypertension.\nSpecifically portal hypertension from cirrhosis.", "Hypertension"),
    ("Final answer: gastrin\n— more precisely gastrin-releasing peptide.", "Gastrin"),
    ("**Pneumonia**\n\nSo the answer to what killed him on day five is sepsis.", "Pneumonia"),
    ("The stem fits depression at first. This is bipolar II disorder, and that is my final answer.",
     "Major depressive disorder"),
    # the reference made only possible after the answer
    ("Final answer: Lyme disease\n\nLyme disease may be what explains the palsy.", "Lyme disease"),
    ("Answer: biliary atresia.\n\nPossibly biliary atresia, though neonatal hepatitis looks the same.",
     "Biliary atresia"),
    # a longer entity: what releases it, or the same syndrome by proxy
    ("The answer is growth hormone–releasing hormone.", "Growth hormone"),
    ("Munchausen syndrome by proxy.", "Munchausen syndrome"),
    ("Calcitonin gene-related peptide.", "Calcitonin"),
    ("The diagnosis is platelet-type (pseudo-) von Willebrand disease.", "Von Willebrand disease"),
    ("Subclinical hypothyroidism is the most likely diagnosis.", "Hypothyroidism"),
    ("The mediator of the hypercalcaemia is parathyroid hormone-related peptide.", "Parathyroid hormone"),
    ("The diagnosis is HIV-associated nephropathy.", "HIV"),
    ("Answer: Vincent's angina.", "Angina"),
    ("This is Brodie's abscess of the distal tibia.", "Abscess"),
    ("诊断为糖尿病足。", "糖尿病"),
    ("答案是高血压。\n\n左室肥厚、心功能下降，最终诊断为高血压性心脏病。", "高血压"),
    # another answer where the response comes down, or sums up
    ("Final answer: sinusitis.\n\nThe tooth is tender to percussion, so odontogenic infection is where I land.",
     "Sinusitis"),
    ("The answer is viral hepatitis. The transaminases rose a month after isoniazid was started. Overall this is "
     "drug-induced liver injury.", "Viral hepatitis"),
    ("Final answer: Graves disease.\n\nOn balance, the answer I would give is toxic multinodular goitre.",
     "Graves disease"),
    ("The answer is hypokalaemia.\n\nOverall, the picture is best labelled as Bartter syndrome.", "Hypokalaemia"),
    ("The answer is iron deficiency.\n\nIn other words, this is thalassaemia trait, and no iron is needed.",
     "Iron deficiency"),
    # the answer pointed back to, and a refinement of something else
    ("Anaemia with a low MCV means iron deficiency, and the stool microscopy makes the cause hookworm infestation — "
     "that is the final diagnosis.", "Iron deficiency"),
    ("Nephritic syndrome on the urine. In this child, that nephritic syndrome is due to IgA nephropathy, which is my "
     "final answer.", "Nephritic syndrome"),
    ("The answer is metoprolol. That is, a beta-blocker — in this setting, specifically carvedilol.", "Metoprolol"),
    # the answer statement names something else; the reference only in the findings after it
    ("The hormone is aldosterone. A woman with hypertension, low potassium and normal cortisol levels has Conn "
     "syndrome, so renin is suppressed.", "Cortisol"),
    # longer entities: past a named qualifier, a noun joined by a hyphen, what binds or carries it
    ("The diagnosis is pulmonary arterial hypertension.", "Hypertension"),
    ("Answer: white-coat hypertension.", "Hypertension"),
    ("The protein is thyroxine-binding globulin.", "Thyroxine"),
    ("The deficit is in the serotonin transporter.", "Serotonin"),
    ("The answer is tyrosine hydroxylase deficiency.", "Tyrosine"),
    # a restatement after the answer that names something else or holds the answer back
    ("The diagnosis is Crohn disease.\nMore precisely: Crohn disease may explain the fistula, but it remains "
     "unconfirmed until the biopsy.", "Crohn disease"),
    ("Final answer: Mycoplasma pneumoniae\n\nTo be accurate, I suspect Mycoplasma, and it may well be the cause.",
     "Mycoplasma pneumoniae"),
    ("Final answer: warfarin.\nIn other words, start apixaban 5 mg twice daily.", "Warfarin"),
    ("The answer is decreased.\nPut plainly: the compliance is increased in emphysema.", "Decreased"),
    ("Answer: hepatitis\n— i.e., alcoholic hepatitis: jaundice, a tender liver and an AST twice the ALT.", "Hepatitis"),
    ("Haemophilia B\n\nOn a second look, factor IX is normal and factor VIII is 3%, so this is haemophilia A.",
     "Haemophilia B"),
    ("Final answer: gonorrhoea.\n\nSumming up: this is chlamydia, and the gonorrhoea features are incidental.",
     "Gonorrhoea"),
    ("Final answer: dehydration.\nThe urine stays dilute after water deprivation. The diagnosis to report is therefore "
     "diabetes insipidus.", "Dehydration"),
    # another answer stated in a way the answer statements above do not have
    ("Final answer: Mobitz type I.\n\nThe PR interval is fixed before the dropped beat — Mobitz type II is what this "
     "ECG shows.", "Mobitz type I"),
    ("The answer is gout.\n\nOn reflection, the crystals are positively birefringent — final answer pseudogout.",
     "Gout"),
    ("Final answer: chi-square test.\n\nTwo cells have expected counts below 5, so the correct test here is Fisher's "
     "exact test.", "Chi-square test"),
    # round 7: a revision, a summary after a clause, a pointer after "so", a "final diagnosis"
    ("Answer: amiodarone. On second thought, the lung fibrosis started months before amiodarone — methotrexate is "
     "the drug to blame.", "Amiodarone"),
    ("Answer: cholecystitis.\n\nMore specifically, acalculous cholecystitis, given the ICU stay and no stones on "
     "ultrasound.", "Cholecystitis"),
    ("The answer is hypokalaemia.\n\nHaving reconsidered, the peaked T waves point the other way, so this is "
     "hyperkalaemia.", "Hypokalaemia"),
    ("Final answer: hyponatraemia.\n\nThe urine is dilute and she drinks little, so this is hypernatraemia.",
     "Hyponatraemia"),
    ("Measles was my first answer; the Koplik spots are absent and the rash started on the trunk, so the change is to "
     "roseola, so that is the final answer.", "Measles"),
    ("Iron deficiency leads to angular stomatitis and glossitis; final diagnosis: Plummer-Vinson syndrome.",
     "Iron deficiency"),
    ("溃疡性结肠炎病程长，出现了异型增生，最终诊断：结直肠癌。", "溃疡性结肠炎"),
    # round 7: the reference inside a longer entity, or split over two lines
    ("Answer: gonadotropin-releasing hormone\nagonist therapy, because the cancer is hormone sensitive.",
     "Gonadotropin-releasing hormone"),
    ("The factor involved is growth hormone-inhibiting hormone, that is somatostatin.", "Growth hormone"),
    ("Steroid-sparing agent: azathioprine, since she cannot come off prednisolone.", "Steroid"),
    # rounds 8-9: a second answer after the answer line
    ("Answer: hypokalaemia\nDiuretic use → hypokalaemia → metabolic alkalosis → arrhythmia. The cause of her "
     "palpitations is therefore ventricular ectopy.", "Hypokalaemia"),
    ("The answer is haemophilia A. The factor IX level is 2% with a normal factor VIII, so the answer is haemophilia "
     "B.", "Haemophilia A"),
    ("Nephrolithiasis.\nFinal answer for his colicky pain, fever and haematuria: pyelonephritis.", "Nephrolithiasis"),
    ("**Answer: hypertension**\n\nThe pressure tore the aorta, so what killed him was a dissection — that's the "
     "cause of death asked for.", "Hypertension"),
    ("The answer is iron deficiency anaemia. So the correct answer at this stage is iron deficiency or thalassaemia "
     "trait.", "Iron deficiency anaemia"),
    ("Answer: insulin\n-like growth factor binding protein 3, which acromegaly raises.", "Insulin"),
    ("Answer: dermatomyositis.\nOn review, the skin is clear, so the proximal myopathy is polymyositis.",
     "Dermatomyositis"),
    ("Migraine — though the jaw claudication changes that: this is giant cell arteritis.", "Migraine"),
    ("Final answer: gout\nGout / pseudogout: the aspirate will tell.", "Gout"),
    ("Answer: eczema. The plaques are silvery on the extensor surfaces, so strictly this is psoriasis.", "Eczema"),
    # round 11: a revision by re-checking, "it's" after a restatement, a conclusion by another noun
    ("Answer: hypercalcaemia\nOn checking the bloods again, the corrected calcium is low, so the cause is "
     "hypocalcaemia.", "Hypercalcaemia"),
    ("**Adenocarcinoma**\nOn second look it's a carcinoid tumour — central and well circumscribed.", "Adenocarcinoma"),
    ("The answer is Escherichia coli. He has a long-term catheter and alkaline urine with struvite crystals. So the "
     "most likely organism in this man is Proteus mirabilis.", "Escherichia coli"),
    # round 12: a name run on after a blank line, a second reading, "Actually, …"
    ("Answer: insulin\n\n-like growth factor 1, which acromegaly raises.", "Insulin"),
    ("Answer: Guillain-Barré syndrome\n\nOn second reading, the weakness descends and the pupils are fixed. That is "
     "botulism.", "Guillain-Barré syndrome"),
    ("Amoxicillin\n\nActually, the drug to give is clarithromycin, since she is allergic to penicillin.",
     "Amoxicillin"),
    # round 13: "the better answer", a class named after the reference, a check mark against it
    ("Final answer: lupus nephritis.\n\nThe biopsy shows subepithelial deposits and no full-house staining. Weighing "
     "everything, membranous nephropathy is the better answer.", "Lupus nephritis"),
    ("Final answer: vancomycin-class — i.e. a glycopeptide, specifically teicoplanin, given her renal function.",
     "Vancomycin"),
    ("Final answer: appendicitis ✗ — the appendix is normal on ultrasound.", "Appendicitis"),
    # the reference turned to its opposite, named after it and not dismissed
    ("Final answer: hyperkalaemia.\n\nThe ECG shows flattened T waves and U waves after the diuretic: this is "
     "hypokalaemia.", "Hyperkalaemia"),
    ("Answer: proximal weakness.\n\nShe cannot grip a pen or lift her toes, so the weakness is distal.",
     "Proximal weakness"),
    ("The answer is left ventricular failure. The oedema, raised JVP and tender liver point to right ventricular "
     "failure.", "Left ventricular failure"),
    ("答案是急性胰腺炎——可以排除。\n脂肪酶正常，上腹痛为胆囊炎所致。", "急性胰腺炎"),
    ("**Decreased**\n\n— no, on reflection: with the bile duct blocked, urinary urobilinogen is increased.",
     "Decreased"),  # a revision's "no" sets the answer aside, not the opposite
    # round 16: a "Final:" label, the reference as the first step of a course, a bare answer set aside by a dash or a
    # colon, a statement naming another answer with the reference only in its aside, a compound made of it, "is
    # possibly"
    ("Answer: pyelonephritis.\nThen the CT shows gas in the kidney, so it is emphysematous.\nFinal: urosepsis with "
     "septic shock.", "Pyelonephritis"),
    ("Initial read: metabolic acidosis. Next, the bicarbonate is too high for that alone. Final interpretation: a mixed "
     "disorder from aspirin poisoning.", "Metabolic acidosis"),
    ("Hypokalaemia → rhabdomyolysis → acute kidney injury. So what explains the creatinine is rhabdomyolysis.",
     "Hypokalemia"),
    ("**Pneumothorax** — not seen. Lung markings run to the chest wall on both sides.", "Pneumothorax"),
    ("Subarachnoid haemorrhage: ruled out (CT within six hours and the LP are both normal).",
     "Subarachnoid hemorrhage"),
    ("**Pulmonary embolism** — can be set aside: the CT pulmonary angiogram is clear.", "Pulmonary embolism"),
    ("Answer: membranous nephropathy (the adult counterpart of minimal change disease).", "Minimal change disease"),
    ("**Insulin**-resistant diabetes with acanthosis nigricans.", "Insulin"),
    ("Portal vein thrombosis — in other words a clot in the portal vein — is possibly what is going on.",
     "Portal vein thrombosis"),
    # round 17: a question left open, a condition on the answer, a tie, "X, then Y, then Z", a thing that acts on it,
    # the reference as an example of a class, "X: unlikely, …", ——否, "… well, Y", 都不能排除
    ("Answer → Graves disease\n\nThe uptake scan is patchy and the antibodies are negative, so Graves versus toxic "
     "multinodular goitre remains genuinely open.", "Graves disease"),
    ("**Metformin** — provided the eGFR is above 30. Below that the answer changes.", "Metformin"),
    ("Answer: Yes.\n\nThat said, many surgeons would stop it a week before, so 'No' is just as defensible.", "Yes"),
    ("Methotrexate, then leflunomide once the liver tests rose, then a TNF inhibitor.", "Methotrexate"),
    ("It's the heparin antibody complex: platelets fell by 60% on day 7.", "Heparin"),
    ("A loop diuretic like furosemide — specifically bumetanide, since absorption is poor with gut oedema.",
     "Furosemide"),
    ("Appendicitis: unlikely, the appendix is normal on ultrasound.", "Appendicitis"),
    ("答案：系统性红斑狼疮——否。抗核抗体阴性。", "系统性红斑狼疮"),
    ("Thyroxine… well, really the thyroid-stimulating hormone, which the screen measures.", "Thyroxine"),
    ("**诊断：胆囊炎**\n\n鉴别诊断同样需要考虑：\n- 胆管炎\n- 胰腺炎\n\n以上三者目前都不能排除，并列考虑。", "胆囊炎"),
    # round 18: "or at least it could be", the reference restated as a kind of it, "no wait", "sorry", "hard to call
    # either way" after a yes/no answer, an answer under a condition with another if not, "the diagnosis being asked for"
    ("**Gout** — or at least it could be; a hot first MTP joint after a binge suggests it, possibly.", "Gout"),
    ("Answer: anaemia — sickle cell anaemia, given the dactylitis in a toddler.", "Anemia"),
    ("Pneumonia — no wait, with a stony dull base and absent breath sounds this is a pleural effusion.", "Pneumonia"),
    ("**Escherichia coli**… sorry, it's Klebsiella: the colonies are mucoid and lactose-fermenting.", "Escherichia coli"),
    ("Answer: No.\n\n…although some guidelines would say yes here. Hard to call either way.", "No"),
    ("If the Tensilon test is positive, it's myasthenia gravis; if it doesn't help, think about botulism.",
     "Myasthenia gravis"),
    ("Answer: chronic kidney disease. That in turn comes from diabetes, so the underlying diagnosis being asked for is "
     "diabetic nephropathy.", "Chronic kidney disease"),
    # round 19: "what's asked", "I'd reject X", "— worth considering 🤔", where a course after the answer ends, "Then, …",
    # "unlike X"
    ("Answer: Cushing syndrome. Cortisol excess drives the insulin resistance, so the direct cause of her "
     "hyperglycaemia, which is what's asked, is steroid-induced diabetes.", "Cushing syndrome"),
    ("I'd reject asthma here: a smoker with fixed obstruction on spirometry has COPD.", "Asthma"),
    ("**Gout** — worth considering 🤔 with the hot first toe after a binge.", "Gout"),
    ("Answer: Streptococcus pneumoniae.\nGram-positive diplococci → optochin resistant → bile insoluble → *Viridans "
     "streptococci*.", "Streptococcus pneumoniae"),
    ("Amoxicillin first. Then, once the rash appears, stop it and give clarithromycin.", "Amoxicillin"),
    ("Bisoprolol — the cardioselective β1 blocker to use in asthma, unlike propranolol.", "Propranolol"),
    # round 20: "👉 possibly;", an en dash compound, 否则, 均可, 最终选用, "if …; if …", "-exacerbated", a second look
    # inside the sentence, 未见
    ("Brucellosis 👉 possibly; the fever, sweats and arthralgia after unpasteurised cheese may suggest it.",
     "Brucellosis"),
    ("**Vitamin K–dependent clotting factor deficiency** after a week of broad-spectrum antibiotics.", "Vitamin K"),
    ("如果胸片提示大片实变，那就是肺炎；否则还要再看。", "肺炎"),
    ("头孢曲松、阿奇霉素均可。", "头孢曲松"),
    ("答案：阿莫西林。\n皮疹出现后改用克拉霉素；随后又诉过敏，最终选用多西环素。", "阿莫西林"),
    ("If the ferritin is low, then iron deficiency anaemia; if it's normal, thalassaemia trait is the one to chase.",
     "Iron deficiency anemia"),
    ("Aspirin-exacerbated respiratory disease (Samter triad).", "Aspirin"),
    ("Histoplasma capsulatum — on a second look at the smear, no: broad-based budding yeasts are Blastomyces.",
     "Histoplasma capsulatum"),
    ("脾大：未见。腹部超声示脾脏大小正常。", "脾大"),
])
def test_a_second_answer_or_a_later_negation_is_not_correct(response, reference):
    for verifier in VERIFIERS:
        assert verifier.check(response, reference) is False, verifier.name


@pytest.mark.parametrize("response, reference", [
    # plans, findings, percentages and dismissed alternatives after a committed answer
    ("The answer is pulmonary embolism. Start heparin now, pending the CT pulmonary angiogram.", "Pulmonary embolism"),
    ("The answer is TTP. ADAMTS13 activity is below 10%, and 70–80% of untreated cases die.",
     "Thrombotic thrombocytopenic purpura"),
    ("The diagnosis is pernicious anemia. The treatment of choice is intramuscular vitamin B12.",
     "Intramuscular vitamin B12"),
    ("The answer is minimal change disease. Focal segmental glomerulosclerosis is excluded by the normal biopsy.",
     "Minimal change disease"),
    ("**诊断：原发性醛固酮增多症。** 下一步行肾上腺静脉采血，明确是否为单侧病变。", "原发性醛固酮增多症"),
    ("答案不是心肌梗死，而是肺栓塞。", "肺栓塞"),
    ("Myocardial infarction is the textbook answer here, but I'll go with pericarditis instead.", "Pericarditis"),
    ("This is carbon monoxide poisoning. Pulse oximeters cannot distinguish carboxyhaemoglobin from "
     "oxyhaemoglobin, so the saturation reads 99%.", "Carbon monoxide poisoning"),
    ("本例为前置胎盘。妊娠晚期无痛性反复阴道流血，超声示胎盘覆盖宫颈内口。", "前置胎盘"),
    ("The answer is syphilis. Specifically, secondary syphilis, given the palmar rash.", "Syphilis"),
    ("Why not a subarachnoid haemorrhage? The CT and the lumbar puncture were normal. The answer is migraine.",
     "Migraine"),
    ("It's measles, given the Koplik spots on the buccal mucosa.", "Measles"),
    ("Crohn's disease is the diagnosis, given the skip lesions.", "Crohn disease"),
    ("I'd call this scarlet fever: a sandpaper rash after a sore throat.", "Scarlet fever"),
    ("Ulcerative colitis, which is my answer, given the continuous rectal involvement.", "Ulcerative colitis"),
    ("The answer is giant cell arteritis. The two cannot be told apart on symptoms alone, but the temporal artery "
     "biopsy shows granulomas.", "Giant cell arteritis"),
    ("诊断：糖尿病。血糖控制差，需要筛查糖尿病肾病。", "糖尿病"),
    ("Overall this is Guillain-Barré syndrome, which needs IVIG.", "Guillain-Barré syndrome"),
    ("Non-Hodgkin lymphoma, specifically diffuse large B-cell lymphoma, is the diagnosis.", "Non-Hodgkin lymphoma"),
    ("The most likely diagnosis is subarachnoid haemorrhage, probably from a ruptured aneurysm.",
     "Subarachnoid haemorrhage"),
    ("Right-sided heart failure is the diagnosis.", "Heart failure"),
    ("The answer is long-standing hypertension.", "Hypertension"),
    ("The hormone is cortisol. A man with a moon face, striae and normal aldosterone levels has Cushing syndrome, "
     "so cortisol is in excess.", "Cortisol"),
    ("Life-threatening asthma is the diagnosis, given the silent chest.", "Asthma"),
    ("Pulmonary embolism, which is my answer: pleuritic pain, tachycardia and a swollen calf.", "Pulmonary embolism"),
    # the answer found where a reasoned response puts it
    ("The drug is vancomycin.\n\nRed man syndrome follows a fast infusion, so the rate should be slowed.",
     "Vancomycin"),
    ("The answer is aortic dissection. Tearing pain through to the back is the history that should trigger the "
     "diagnosis. The ECG is normal.", "Aortic dissection"),
    ("Her MCV is 66 fL and she has heavy periods. With a ferritin of 5 µg/L, this is iron deficiency anaemia.",
     "Iron deficiency anaemia"),
    ("Ptosis worsens through the day and improves with ice. Putting these together, this is myasthenia gravis.",
     "Myasthenia gravis"),
    ("In a child of this age with no haematuria, minimal change disease is my diagnosis.", "Minimal change disease"),
    ("In a 70-year-old smoker with hypercalcaemia, the likeliest tumour is squamous cell carcinoma.",
     "Squamous cell carcinoma"),
    ("Answer: lead-time bias.\n\nScreening moves the diagnosis earlier, so survival from diagnosis lengthens even "
     "though the date of death does not change.", "Lead-time bias"),
    ("Rigidity, fever and a CK of 18,000 after haloperidol. The picture is neuroleptic malignant syndrome. Serotonin "
     "syndrome would give clonus rather than rigidity.", "Neuroleptic malignant syndrome"),
    ("The diagnosis is intussusception, and in the absence of peritonitis or perforation an air enema is first-line.",
     "Intussusception"),
    ("Overall the picture is Boerhaave syndrome, a full-thickness oesophageal rupture.", "Boerhaave syndrome"),
    ("Propylthiouracil is the preferred antithyroid drug in the first trimester.", "Propylthiouracil"),
    ("The enzyme is HMG-CoA reductase, which statins inhibit.", "HMG-CoA reductase"),
    ("The answer is chi-square test. The correct test for two categorical variables with large counts is the "
     "chi-square test.", "Chi-square test"),
    # round 7: look-alikes of its rules that commit
    ("At 38 weeks with a seizure and a blood pressure of 170/110, so this is eclampsia. Phenytoin is inferior. So "
     "the answer is magnesium sulfate.", "Magnesium sulfate"),
    ("Answer: olanzapine — she has failed lithium and valproate, so this is refractory mania.", "Olanzapine"),
    ("The answer is warfarin. On reflection, warfarin remains right: the valve is mechanical.", "Warfarin"),
    ("Final answer: Wilcoxon's signed-rank test. The differences are paired and skewed, so a paired t-test would be "
     "wrong.", "Wilcoxon signed-rank test"),
    ("Ceftriaxone is the right choice; azithromycin alone does not fit because the Gram stain shows diplococci.",
     "Ceftriaxone"),
    ("Give glucagon. A beta-blocker overdose with bradycardia that atropine did not reverse needs it.", "Glucagon"),
    ("The reversal agent of choice is four-factor prothrombin complex concentrate.", "Prothrombin complex concentrate"),
    ("The diagnosis is bulimia nervosa, purging/binge type, with dental erosion.", "Bulimia nervosa"),
    ("The first-line drug is ramipril\nbecause he has diabetes with microalbuminuria and hypertension.", "Ramipril"),
    ("首选药物是甲巯咪唑，用于控制甲亢症状，并定期查血常规。", "甲巯咪唑"),
    # rounds 8-9: look-alikes that commit
    ("The diagnosis is Kawasaki disease. I am confident of it: five days of fever and a strawberry tongue.",
     "Kawasaki disease"),
    ("The answer is sertraline. I would start it at 25 mg, since panic patients feel jittery at first.", "Sertraline"),
    ("Answer: Mobitz I. The PR interval lengthens before the dropped beat, unlike Mobitz II.", "Mobitz I"),
    ("The answer is subarachnoid haemorrhage. A sudden 'worst headache of my life' is the classic history.",
     "Subarachnoid haemorrhage"),
    ("The drug of choice is adrenaline, 0.5 mg intramuscularly, repeated after 5 minutes if there is no improvement.",
     "Adrenaline"),
    ("Best next step: synchronized cardioversion. He is hypotensive and confused, so he is unstable.",
     "Synchronized cardioversion"),
    ("The measure is sensitivity — TP/(TP+FN), the share of diseased people the test catches.", "Sensitivity"),
    ("Motor neurone disease: upper and lower motor neurone signs, no sensory loss.", "Amyotrophic lateral sclerosis"),
    ("Fever, rigidity and a CK of 20,000 after haloperidol mean neuroleptic malignant syndrome; serotonin syndrome "
     "does not fit without clonus.", "Neuroleptic malignant syndrome"),
    ("The number needed to treat is 20. The event rate was 8% in the placebo arm and 3% in the treatment arm, an "
     "absolute risk reduction of 5%.", "20"),
    ("Answer: hemophilia a", "Haemophilia A"),
    ("The answer is lupus. However, the absence of proximal weakness argues against dermatomyositis.", "Lupus"),
    ("Final answer: gout. But pseudogout does not fit, since the crystals are negatively birefringent.", "Gout"),
    # round 11: "It's X: findings", another noun's statement, a caution after a turn, a Chinese dash
    ("It's Graves disease: diffuse goitre, exophthalmos, pretibial myxoedema and raised TRAb.", "Graves disease"),
    ("The deficient vitamin is niacin. Diarrhoea, dermatitis and dementia in a patient on isoniazid is pellagra, "
     "and niacin must be replaced.", "Niacin"),
    ("The first-line drug is lithium. However, use it with caution in renal impairment and check levels.", "Lithium"),
    ("有机磷中毒的特异性拮抗剂是阿托品。但大剂量时应注意阿托品化，以免中毒。", "阿托品"),
    ("**川崎病**——发热五天，草莓舌，手足硬肿，颈部淋巴结肿大。", "川崎病"),
    # round 12: 不过敏 is no turn, a new clause ends the answer, other names, 按是否 asks nothing, "make the
    # diagnosis" names nothing, a purpose ("to exclude …") negates nothing, a question in a heading asks no one,
    # "This is X." first, "make this", an aside between commas, "CT of the abdomen and pelvis"
    ("首选药物是阿莫西林，青霉素不过敏时口服即可。", "阿莫西林"),
    ("The diagnosis is acute cholecystitis, and ultrasound will show whether there are stones or sludge.",
     "Acute cholecystitis"),
    ("Hansen disease: anaesthetic hypopigmented patches and thickened nerves.", "Leprosy"),
    ("Hypernephroma — haematuria, a flank mass and polycythaemia.", "Renal cell carcinoma"),
    ("该研究属于队列研究：按是否吸烟分组后前瞻性随访。", "队列研究"),
    ("Pyloric stenosis is the most likely cause. Projectile non-bilious vomiting at four weeks and an olive-shaped "
     "mass make the diagnosis; reflux would not cause a mass.", "Pyloric stenosis"),
    ("Best initial test: tissue transglutaminase IgA (sent with a total IgA to exclude IgA deficiency).",
     "Tissue transglutaminase IgA"),
    ("### Which measure lets a negative result rule disease out?\nA test that rarely misses cases. That property is "
     "**sensitivity**.", "Sensitivity"),
    ("This is lithium toxicity. He started a thiazide last month. The level will confirm it: stop lithium and give "
     "fluids, and dialyse if there are severe features.", "Lithium toxicity"),
    ("High potassium, phosphate and urate with a low calcium after chemotherapy make this tumour lysis syndrome. "
     "Management is hydration, rasburicase, and dialysis if needed.", "Tumour lysis syndrome"),
    ("Not prevalence but incidence — new cases over a period are, by definition, incidence.", "Incidence"),
    ("The preferred test is non-contrast CT of the abdomen and pelvis.", "Non-contrast CT"),
    # round 13: what the case is before a diagnosis that names the reference, a clause after ", and", other names,
    # "Conclusion: X", how a drug is given
    ("The sodium is 120 with a low serum osmolality, so this is hypotonic hyponatraemia. He is euvolaemic with a "
     "concentrated urine, and the thyroid and adrenal tests are normal. With a lung mass, the diagnosis is SIADH.",
     "SIADH"),
    ("The diagnosis is lithium toxicity, and haemodialysis and stopping the thiazide are indicated.",
     "Lithium toxicity"),
    ("This is ADEM: multifocal white matter lesions two weeks after a viral illness in a child.",
     "Acute disseminated encephalomyelitis"),
    ("The drug of choice is amoxicillin — this is acute otitis media in a child, and amoxicillin also covers most "
     "pneumococci.", "Amoxicillin"),
    ("## Assessment\nShe started tramadol on sertraline and has inducible clonus. Neuroleptic malignant syndrome "
     "evolves over days, so the tempo argues against it.\n\n**Conclusion: serotonin syndrome.** Stop both drugs.",
     "Serotonin syndrome"),
    ("癫痫持续状态的首选药物是劳拉西泮，静脉缓慢推注。", "劳拉西泮"),
    # an opposite dismissed, or both in one name ("acute exacerbation of chronic …")
    ("Final answer: hyperkalaemia. Peaked T waves after the ACE inhibitor; hypokalaemia would give U waves instead.",
     "Hyperkalaemia"),
    ("The answer is hypothyroidism. Hyperthyroidism is unlikely with a raised TSH.", "Hypothyroidism"),
    ("The most likely diagnosis is an acute exacerbation of chronic obstructive pulmonary disease.",
     "COPD exacerbation"),
    # round 15: a qualifier of setting, another name, a clause after ", and", a passive after the answer, a culprit
    # drug and its management are two questions
    ("Exertional heat stroke.", "Heat stroke"),
    ("Traction apophysitis of the tibial tuberosity in a 13-year-old footballer.", "Osgood-Schlatter disease"),
    ("Naloxone is the antidote: pinpoint pupils and a slow respiratory rate point to opioids, and naloxone reverses "
     "them within minutes.", "Naloxone"),
    ("The most likely cause of his falls is orthostatic hypotension, driven by the tamsulosin and autonomic "
     "neuropathy.", "Orthostatic hypotension"),
    ("The drug is suxamethonium. Management is sedation and ventilation until the block wears off.", "Suxamethonium"),
    # round 16: British spellings by rule, G6PD and the coronary arteries, a cause after the answer, findings under a
    # heading, one arrow from the findings or a label to the answer, another drug or diagnosis set aside beside it
    ("Peaked T waves and a broad QRS: this is hyperkalaemia, almost certainly from the spironolactone plus ramipril.",
     "Hyperkalemia"),
    ("**Coeliac disease**", "Celiac disease"),
    ("G6PD deficiency", "Glucose-6-phosphate dehydrogenase deficiency"),
    ("The culprit vessel is the LAD; he needs primary PCI.", "Left anterior descending artery"),
    ("Key findings:\n- ptosis that worsens in the evening\n- diplopia, pupils spared\n- anti-AChR antibodies "
     "positive\n\nThis is myasthenia gravis.", "Myasthenia gravis"),
    ("## Diagnosis\nAcute angle-closure glaucoma.\n\n## Why\n- painful red eye with halos\n- fixed mid-dilated "
     "pupil\n- rock-hard globe", "Acute angle-closure glaucoma"),
    ("Findings: a 30-year-old with jaundice, splenomegaly, spherocytes and a negative DAT. Taken together this is "
     "hereditary spherocytosis.", "Hereditary spherocytosis"),
    ("The calcium is 2.9 mmol/L, the PTH is not suppressed and the urinary calcium is high.\n\n→ **Primary "
     "hyperparathyroidism**, most often a single adenoma.", "Primary hyperparathyroidism"),
    ("Bottom line → primary hyperparathyroidism; a sestamibi scan will localise it.", "Primary hyperparathyroidism"),
    ("Yellow vision and vomiting after amiodarone was added to his digoxin → digoxin toxicity.", "Digoxin toxicity"),
    ("Ceftriaxone 1 g IM once (not ciprofloxacin — resistance is common).", "Ceftriaxone"),
    ("**主动脉夹层**——撕裂样胸痛放射至背部，纵隔增宽，不是急性心肌梗死。", "主动脉夹层"),
    # round 17: "I'd go with", what findings add up to ("="), "lines up with", British spellings, an organism by the
    # initial of its genus, a rhetorical question heading a part, a plan before surgery, a negated "so …", an aside in
    # the middle of the answer, an emoji pointer, a Chinese answer up to its colon
    ("I'd go with mitral stenosis — a loud S1, an opening snap and a mid-diastolic rumble. HOCM is unlikely.",
     "Mitral stenosis"),
    ("Hypotension plus raised JVP plus muffled heart sounds = cardiac tamponade.", "Cardiac tamponade"),
    ("The wheeze, the eosinophilia and the mononeuritis multiplex all line up with EGPA.",
     "Eosinophilic granulomatosis with polyangiitis"),
    ("Epley manoeuvre.", "Epley maneuver"),
    ("Diagnosis: phaeochromocytoma. Before surgery she needs alpha-blockade first, then a beta-blocker.",
     "Pheochromocytoma"),
    ("The organism is *S. aureus* (a boil a week before the bacteraemia).", "Staphylococcus aureus"),
    ("**Why not simple gastroenteritis?** The stool is bloody and the platelets are low.\n\n**Answer:** haemolytic "
     "uraemic syndrome.", "Hemolytic uremic syndrome"),
    ("Question: which of her drugs explains the tremor?\n\nAnswer: **lithium**.", "Lithium"),
    ("Next test: a D-dimer. Her Wells score is low, so a CT pulmonary angiogram isn't the first step.", "D-dimer"),
    ("Final answer: **extradural (epidural) haematoma** from a torn middle meningeal artery.", "Epidural hematoma"),
    ("Kawasaki disease 👉 five days of fever, red lips and peeling fingertips.", "Kawasaki disease"),
    ("答案是缺铁性贫血：小细胞低色素，铁蛋白降低。", "缺铁性贫血"),
    ("Tennis elbow.", "Lateral epicondylitis"),
    # round 18: other names (HOCM, the pneumococcus), a Chinese finding is no name, a Chinese test to do first, the cause
    # after the answer joined by "/", an emoji arrow, ECG lead I, a plan in the first person, "Without those, …"
    ("HOCM — the murmur gets louder with Valsalva.", "Hypertrophic cardiomyopathy"),
    ("The pneumococcus (Gram-positive lancet-shaped diplococci).", "Streptococcus pneumoniae"),
    ("甲状腺功能亢进症。心率增快，TSH降低。", "甲状腺功能亢进症"),
    ("This is **acute pericarditis**, most likely viral/idiopathic after last week's cold.", "Acute pericarditis"),
    ("The urate, potassium and phosphate are all high after chemotherapy.\n\n➡️ Tumour lysis syndrome.",
     "Tumor lysis syndrome"),
    ("The culprit is the LAD. The right coronary artery would give elevation in II, III and aVF, and the circumflex "
     "changes in I and aVL.", "Left anterior descending artery"),
    ("The answer is hypertonic saline. I would not exceed a rise of 8 mmol/L in the first day, given the risk of "
     "osmotic demyelination.", "Hypertonic saline"),
    ("Final answer: metformin.\n\nNo heart failure, CKD or cardiovascular disease. Without those, there is no "
     "reason to start with an SGLT2 inhibitor.", "Metformin"),
    # round 19: a dose range beside a drug, a condition after a semicolon, findings in brackets, "clinches", "settle it
    # as", a plan after "so", a negated "so neither …", the English name and its initials in brackets, other names
    ("After bag-mask ventilation, the drug to give is naloxone, 0.04–0.4 mg IV titrated to breathing.", "Naloxone"),
    ("0.5 mg adrenaline IM into the thigh; repeat after 5 minutes if there is no improvement.", "Adrenaline"),
    ("Tension pneumothorax (trachea deviated away, absent breath sounds, hypotension after the line).",
     "Tension pneumothorax"),
    ("Anti-mitochondrial antibodies are positive, which clinches primary biliary cholangitis.",
     "Primary biliary cholangitis"),
    ("A ferritin of 6 and a high RDW settle it as iron deficiency anaemia.", "Iron deficiency anemia"),
    ("**Answer — vitamin B12 deficiency.**\n\nFolate alone would not help the cord, so replace B12 first.",
     "Vitamin B12 deficiency"),
    ("Echocardiography is essential, so neither imaging nor antibiotics is the first step.\n\n→ The next step is "
     "**blood cultures**.", "Blood cultures"),
    ("结论：心房颤动（atrial fibrillation, AF）。需启动抗凝治疗。", "Atrial fibrillation"),
    ("Lateral medullary syndrome (PICA territory infarct).", "Wallenberg syndrome"),
    # round 20: a plan after a result ("If it is positive, …")
    ("Answer: lumbar puncture, 12 hours after the onset. If it is positive for xanthochromia, proceed to CT angiography.",
     "Lumbar puncture"),
])
def test_what_a_committed_answer_goes_on_with_stays_correct(response, reference):
    assert MatchVerifier().check(response, reference) is True
