"""The report's pass-rate section: how often the SFT policy solved each RL problem in K samples (the histogram)
and how many problems each bound of the pass-rate stage removed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medo1.report.page import Section

BAR = 30  # characters of the longest bar


def passrate_summary(root: Path) -> dict[str, Any] | None:
    """The pass-rate stage's summary in run.json (None: the stage is off or has not run)."""
    state = root / "run.json"
    if not state.exists():
        return None
    summary = json.loads(state.read_text()).get("stages", {}).get("passrate", {}).get("summary") or {}
    return summary if summary.get("enabled") else None


def passrate_section(root: Path) -> Section | None:
    s = passrate_summary(root)
    if s is None:
        return None
    low, high = s["bounds"]
    k, counts = s["samples"], {int(passes): n for passes, n in s["histogram"].items()}
    widest = max(counts.values(), default=0) or 1

    def fate(passes: int) -> str:
        rate = passes / k
        return (f"removed (pass rate <= min_pass_rate {low})" if rate <= low else
                f"removed (pass rate >= max_pass_rate {high})" if rate >= high else "kept")

    def bar(n: int) -> str:
        return f"`{'█' * max(1, round(BAR * n / widest))}`" if n else ""

    rows = [f"| {passes} of {k} | {n} | {bar(n)} | {fate(passes)} |" for passes, n in sorted(counts.items())]
    body = (f"Before RL, the SFT model answered each of the {s['problems']} RL problems {k} times (at RL's temperature "
            "and length, scored by the RL reward's verifier). Problems it always or never solves give GRPO no signal "
            "(every response of the group gets the same reward), so RL trains on the others.\n\n"
            "| Correct responses | Problems | | |\n|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
            f"Kept **{s['kept']}** of {s['problems']}; the lower bound (min_pass_rate {low}) removed "
            f"{s['removed']['min_pass_rate']}, the upper bound (max_pass_rate {high}) removed "
            f"{s['removed']['max_pass_rate']}"
            + (f"; {s['failed']} failed (sampling or verification; listed in passrate/passrate.failed.jsonl)"
               if s["failed"] else "") + ".")
    return Section("RL problems by pass rate", body)
