"""Verifiers: is a response's answer the reference answer? And the RL reward rule.

Verifier specs (`load_verifier(spec)`):
    match               no model: normalised containment / token-F1, option letters (offline default)
    match:strict        `match`, and only when a sentence is the answer statement alone ("The answer is X.",
                        "Final answer: X", "**X**"): for RL on responses that state their answer that way
    option              no model: the one option letter the final response commits to, exactly (problems
                        that keep their options; the reference is the letter)
    judge:<model spec>  an LLM judge that answers exactly True or False (the paper: GPT-4o)
    classifier:<path>   a Hugging Face sequence-classification checkpoint: P(correct) > threshold
                        (a local directory or a hub id; `medo1 verifier-train` writes one)
    classifier:official:<path>  the released medical_o1_verifier_3B input layout (threshold 0.4)
    <spec>+<spec>       correct only when every part is, asked in order (`match+classifier:<path>`)

Modules: `base` (the protocol and the reward rule `score_response`, shared by every RL engine), `match`
(with `answer`: which part of a response commits to one answer, `uncommitted` when none does; `cues`: its
words, English and Chinese; `tokens`: normalisation; `letters`: option letters), `option` (with `extract`:
the eval extractor's strict reading of an option letter, and `rejections`), `judge`, `classifier`,
`strict` (`match:strict`), `combined` (specs joined by `+`), `confusables` (names that contain another
answer's words), `synonyms`, `verdicts` (the judge verdict log), `data` (`medo1 verifier-data`), `train`
(`medo1 verifier-train`), `evaluation` and `compare` (`medo1 verifier-eval`).
"""

from __future__ import annotations


from medo1.verify.answer import uncommitted
from medo1.verify.base import (
    REWARD_CORRECT,
    REWARD_NO_FORMAT,
    REWARD_WRONG,
    TERMS,
    Overlong,
    Reward,
    Verifier,
    VerifierError,
    final_response,
    overlong_penalty,
    reward,
    score_response,
)
from medo1.verify.classifier import ClassifierVerifier
from medo1.verify.compare import (
    compare_verifiers,
    comparison_lines,
    evaluate_verifier_file,
)
from medo1.verify.evaluation import (
    Agreement,
    LabeledVerdict,
    VerifierReport,
    evaluate_verifier,
)
from medo1.verify.judge import JudgeVerifier, parse_verdict
from medo1.verify.letters import option_letter
from medo1.verify.load import load_verifier, verifier_model
from medo1.verify.match import MatchVerifier
from medo1.verify.option import OptionVerifier, committed_option
from medo1.verify.tokens import ABBREVIATIONS, normalize_tokens, token_f1
from medo1.verify.verdicts import VerdictLog

__all__ = [
    "ABBREVIATIONS", "Agreement", "REWARD_CORRECT", "REWARD_NO_FORMAT", "REWARD_WRONG", "TERMS", "ClassifierVerifier",
    "JudgeVerifier", "LabeledVerdict", "MatchVerifier", "OptionVerifier", "Overlong", "Reward", "VerdictLog", "Verifier",
    "VerifierError", "VerifierReport", "committed_option", "compare_verifiers", "comparison_lines", "evaluate_verifier",
    "evaluate_verifier_file", "final_response", "load_verifier", "normalize_tokens", "option_letter",
    "overlong_penalty", "parse_verdict", "reward", "score_response", "token_f1", "uncommitted", "verifier_model",
]
