"""Other names of the same answer that no spelling rule can derive: eponyms and their descriptive names,
vitamins by number and by name, drugs by their chemical name, head nouns that mean the same
("acetaminophen toxicity" = "paracetamol overdose").

`variants(reference)` gives the reference and each way of writing it with one group's phrase swapped
for another of the same group; the `match` verifier accepts an answer that names any of them. Phrases
match whole words, case-insensitively. A user's own vocabulary belongs in a judge or a trained
classifier: this list is small on purpose, and every entry names one thing.
"""

from __future__ import annotations

import re
from functools import lru_cache

GROUPS: tuple[tuple[str, ...], ...] = (
    ("eosinophilic granulomatosis with polyangiitis", "churg-strauss syndrome", "egpa"),
    ("granulomatosis with polyangiitis", "wegener granulomatosis", "wegener's granulomatosis", "gpa"),
    ("anti-glomerular basement membrane disease", "anti-gbm disease", "goodpasture syndrome",
     "goodpasture's syndrome", "goodpasture disease"),
    ("wilson disease", "wilson's disease", "hepatolenticular degeneration"),
    ("hypertrophic obstructive cardiomyopathy", "hocm", "hypertrophic cardiomyopathy", "hcm"),
    ("lambert-eaton myasthenic syndrome", "lambert-eaton syndrome", "lems"),
    ("spinal tuberculosis", "spinal tb", "pott disease", "pott's disease", "tuberculous spondylitis"),
    ("end-stage renal disease", "end-stage kidney disease", "esrd", "ckd stage 5", "stage 5 chronic kidney disease"),
    ("kawasaki disease", "mucocutaneous lymph node syndrome"),
    ("graves disease", "graves' disease", "basedow disease"),
    ("hashimoto thyroiditis", "hashimoto's thyroiditis", "chronic lymphocytic thyroiditis"),
    ("subacute thyroiditis", "de quervain thyroiditis", "subacute granulomatous thyroiditis"),
    ("giant cell arteritis", "temporal arteritis"),
    ("ankylosing spondylitis", "bechterew disease", "bechterew's disease"),
    ("toxic epidermal necrolysis", "lyell syndrome", "lyell's syndrome"),
    ("osteitis deformans", "paget disease of bone", "paget's disease of bone"),
    ("takotsubo cardiomyopathy", "stress-induced cardiomyopathy", "stress cardiomyopathy", "apical ballooning syndrome",
     "broken heart syndrome"),
    ("idiopathic intracranial hypertension", "pseudotumor cerebri", "benign intracranial hypertension"),
    ("primary hyperaldosteronism", "primary aldosteronism", "conn syndrome", "conn's syndrome"),
    ("amyotrophic lateral sclerosis", "als", "lou gehrig disease", "motor neurone disease", "motor neuron disease"),
    ("infectious mononucleosis", "glandular fever"),
    ("developmental dysplasia of the hip", "congenital dislocation of the hip", "congenital hip dysplasia", "ddh"),
    ("immune thrombocytopenia", "immune thrombocytopenic purpura", "idiopathic thrombocytopenic purpura", "itp",
     "特发性血小板减少性紫癜", "免疫性血小板减少症"),
    ("pityriasis versicolor", "tinea versicolor"),
    ("pertussis", "whooping cough"), ("varicella", "chickenpox"), ("herpes zoster", "shingles"),
    ("rubella", "german measles"), ("erythema infectiosum", "fifth disease"),
    ("trisomy 21", "down syndrome"), ("trisomy 18", "edwards syndrome"), ("trisomy 13", "patau syndrome"),
    ("tetralogy of fallot", "tof"), ("sudden infant death syndrome", "sids"),
    ("thiamine", "vitamin b1"), ("riboflavin", "vitamin b2"), ("niacin", "vitamin b3", "nicotinic acid"),
    ("pyridoxine", "vitamin b6"), ("cobalamin", "vitamin b12", "cyanocobalamin"), ("folate", "folic acid"),
    ("ascorbic acid", "vitamin c"), ("aspirin", "acetylsalicylic acid"),
    ("buerger disease", "buerger's disease", "thromboangiitis obliterans"),
    ("hyaline membrane disease", "neonatal respiratory distress syndrome", "infant respiratory distress syndrome",
     "respiratory distress syndrome of the newborn"),
    ("glucose-6-phosphatase deficiency", "von gierke disease", "von gierke's disease",
     "glycogen storage disease type ia", "glycogen storage disease type i"),
    ("慢性阻塞性肺疾病", "慢阻肺"), ("甲状腺功能亢进症", "甲状腺功能亢进", "甲亢"), ("甲状腺功能减退症", "甲状腺功能减退", "甲减"),
    ("multiple endocrine neoplasia type 2a", "men2a", "men 2a", "sipple syndrome"),
    ("addison disease", "addison's disease", "primary adrenal insufficiency", "primary adrenocortical insufficiency"),
    ("bruton agammaglobulinemia", "bruton's agammaglobulinemia", "x-linked agammaglobulinemia", "xla"),
    ("epidural", "extradural"), ("ultrasonography", "ultrasound", "sonography"),
    ("toxicity", "poisoning", "overdose", "intoxication"),
    ("group b streptococcus", "group b strep", "gbs", "streptococcus agalactiae"),
    ("hirschsprung disease", "hirschsprung's disease", "congenital aganglionic megacolon"),
    ("leprosy", "hansen disease", "hansen's disease"),
    ("acute disseminated encephalomyelitis", "adem"),
    ("osgood-schlatter disease", "tibial tubercle apophysitis", "tibial tuberosity apophysitis",
     "traction apophysitis of the tibial tuberosity"),
    ("renal cell carcinoma", "hypernephroma", "grawitz tumour", "grawitz tumor"),
    ("streptococcus pneumoniae", "s. pneumoniae", "pneumococcus"), ("neisseria meningitidis", "meningococcus"),
    ("neisseria gonorrhoeae", "gonococcus"), ("lateral epicondylitis", "tennis elbow"),
    ("medial epicondylitis", "golfer's elbow", "golfer elbow"), ("wallenberg syndrome", "lateral medullary syndrome"),
    ("peroneal", "fibular"), ("epiglottitis", "supraglottitis"), ("心房颤动", "房颤"),
    ("acetylcysteine", "n-acetylcysteine", "nac"), ("glyceryl trinitrate", "nitroglycerin", "nitroglycerine", "gtn"),
    ("hidradenitis suppurativa", "acne inversa"), ("polycystic ovary syndrome", "stein-leventhal syndrome", "pcos"),
    ("neurofibromatosis type 1", "nf1", "von recklinghausen disease", "von recklinghausen's disease"),
    ("phenylketonuria", "pku"), ("ornithine transcarbamylase deficiency", "otc deficiency"),
    ("trigeminal neuralgia", "tic douloureux"),
)
# an organism by genus and species, whose genus is often cut to its initial: "C. difficile" for "Clostridioides
# difficile", "E. coli" (not a genus that opens with A or I: "a" and "I" read as words)
_BINOMIAL = re.compile(r"^\s*([B-HJ-Z])[a-z]{3,}\s+([a-z]{3,}(?:i|ae|is|us|a|um|ense|ensis|ile|es))\s*$")


_PATTERNS = tuple(tuple((phrase, re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", re.IGNORECASE))
                         for phrase in group) for group in GROUPS)
_ANY = re.compile("|".join(rf"(?<![\w-]){re.escape(p)}(?![\w-])" for group in GROUPS for p in group), re.IGNORECASE)


@lru_cache(maxsize=4096)
def variants(reference: str) -> tuple[str, ...]:
    """The reference, then each way of writing it with one phrase of a group swapped for another."""
    out = [reference]
    if (binomial := _BINOMIAL.match(reference)) is not None:
        out.append(f"{binomial.group(1)}. {binomial.group(2)}")
    if not _ANY.search(reference):
        return tuple(out)
    for group in _PATTERNS:
        for phrase, pattern in group:
            if pattern.search(reference):
                out += [pattern.sub(other, reference) for other, _ in group if other != phrase]
                break
    return tuple(dict.fromkeys(out))
