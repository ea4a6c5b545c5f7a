"""Settings of stage 1: the search (Algorithm 1) and the synthesis of SFT examples. Defaults are the
paper's where it gives them; `medo1 search`, `medo1 synthesize` and the recipe's `search:` and
`synthesize:` sections are built from these fields (medo1.settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

from medo1.errors import Medo1Error

STRATEGIES = ("explore_new_paths", "backtracking", "verification", "correction")
VARIANTS = ("complex", "simple", "direct", "mcq")
_LANG = {"help": "Prompt language: en or zh.", "choices": ["en", "zh"]}
_PROMPTS = {"help": "A folder overriding the bundled prompt templates."}


@dataclass
class SearchConfig:
    """Algorithm 1 settings; the defaults are the paper's (N = 3 refinements, T = 3 attempts)."""

    max_depth: int = field(default=3, metadata={"help": "N: refinements per attempt after the initial CoT (paper: 3)."})
    max_attempts: int = field(default=3, metadata={
        "help": "T: attempts, each from a fresh initial CoT (paper: 3)."})
    strategies: tuple[str, ...] = field(default=STRATEGIES, metadata={
        "help": "Refinement strategies, sampled uniformly per refinement (comma-separated on the command line): "
                + ", ".join(STRATEGIES) + "."})
    label_hint: bool = field(default=False, metadata={
        "help": "After T failed attempts, one round told the reference answer (marked in the trace; a local "
                "grammar-backed teacher is then also held to stating it as the Final Conclusion)."})
    seed: int = field(default=0, metadata={"help": "Strategy draws and sampling seeds derive from (seed, problem id)."})
    temperature: float = field(default=0.7, metadata={"help": "Teacher sampling temperature."})
    max_tokens: int = field(default=8192, metadata={
        "help": "Budget of each teacher reply (paper: 8192; a small one cuts long chains)."})
    retries: int = field(default=2, metadata={"help": "Re-asks after an invalid CoT reply."})
    lang: str = field(default="en", metadata=_LANG)
    prompts: str | None = field(default=None, metadata=_PROMPTS)

    def __post_init__(self) -> None:
        self.strategies = tuple(self.strategies)
        unknown = [s for s in self.strategies if s not in STRATEGIES]
        if unknown:
            raise Medo1Error(f"unknown search strategy {unknown[0]!r}; choose from {', '.join(STRATEGIES)}")
        if self.max_depth > 0 and not [s for s in self.strategies if s != "backtracking"]:
            raise Medo1Error("search needs a strategy other than backtracking for the first refinement")
        if self.max_attempts < 1 or self.max_depth < 0:
            raise Medo1Error("search needs max_attempts >= 1 and max_depth >= 0")

    def allowed(self, depth: int) -> list[str]:
        """Strategies for refinement `depth` (1-based): no backtracking before a second conclusion exists."""
        return [s for s in self.strategies if not (s == "backtracking" and depth == 1)]


@dataclass
class SynthConfig:
    """Synthesis settings: which SFT variant, and how each teacher reply is checked."""

    variant: str = field(default="complex", metadata={
        "help": "complex (the paper's complex CoT) | simple (the initial CoT) | direct (response only) | mcq "
                "(the original question and option): the paper's Table 2 variants.", "choices": list(VARIANTS)})
    min_lines: int = field(default=2, metadata={
        "help": "Separate thoughts (lines) the natural reasoning needs at least."})
    max_repeated: float = field(default=0.3, metadata={
        "help": "A reply with more than this share of repeated text (a loop) is re-asked."})
    temperature: float = field(default=0.0, metadata={"help": "Teacher sampling temperature."})
    seed: int = field(default=0, metadata={
        "help": "Sampled calls (temperature > 0) get a seed from this and the trace: re-runs are reproducible."})
    max_tokens: int = field(default=8192, metadata={
        "help": "Budget of each teacher reply (paper: 8192; a small one cuts long rewrites)."})
    retries: int = field(default=2, metadata={"help": "Re-asks after an invalid reply."})
    check_answer: bool = field(default=True, metadata={
        "help": "Verify each reply against the trace's verified answer and re-ask or drop drift (not for mcq)."})
    answer_retries: int = field(default=2, metadata={
        "help": "Re-asks after a reply that does not state the verified answer; then the trace fails."})
    response_max_chars: int = field(default=240, metadata={
        "help": "Grammar-backed teachers: most characters of reasons after the response's answer line (0: the "
                "response is the answer line alone, written without a call)."})
    lang: str = field(default="en", metadata=_LANG)
    prompts: str | None = field(default=None, metadata=_PROMPTS)

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise Medo1Error(f"unknown SFT variant {self.variant!r}; choose from {', '.join(VARIANTS)}")
        if self.answer_retries < 0:
            raise Medo1Error(f"answer_retries must be 0 or more, got {self.answer_retries}")
