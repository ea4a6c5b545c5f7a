"""PNG plots of the training curves (matplotlib, no display): SFT loss, RL reward and correct rate, RL KL,
and the RL reward-hacking watch (medo1.train.hacking) beside the reward."""

from __future__ import annotations

from pathlib import Path

from medo1.report.facts import jsonl


def _metric_series(path: Path, key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for row in jsonl(path):
        if isinstance(row.get(key), (int, float)):
            xs.append(row.get("step", len(xs)))
            ys.append(row[key])
    return xs, ys


HACKING = "RL reward hacking watch"
RATES = ("reward", "uncommitted_rate", "no_format_rate")  # left axis
LENGTH = "final_response_chars"  # right axis
CAPTIONS = {HACKING: (
    "Beside the reward: `uncommitted_rate`, the share of rewarded responses whose final response does not commit "
    "to one answer (a list of candidates, a hedge, a question: `medo1.verify.uncommitted`); `no_format_rate`, the "
    "share without `## Thinking` … `## Final Response` or cut off; and `final_response_chars`, the mean length of "
    "the final responses in characters (right axis). Shaded: the first quarter of the run, the baseline the "
    "warning compares the latest steps with; dotted red: where it warned (when the share of uncommitted rewarded "
    "responses at least doubled, by 5 points or more). A reward that climbs while these climb is the policy "
    "finding answer shapes the verifier pays for, not better answers: a judge or a classifier can be fooled so; "
    "`match` rewards nothing `uncommitted` flags.")}


def _hacking_plot(plt, path: Path, png: Path) -> bool:
    """The reward and the watch's rates on the left axis, the final-response length on the right one; the
    first quarter (the warning's baseline) shaded, the step it warned at marked."""
    from medo1.train.hacking import replay

    rates = [(key, *_metric_series(path, key)) for key in RATES]
    length = _metric_series(path, LENGTH)
    if not (length[0] or rates[1][1]):  # nothing the watch logged (a run from before it)
        return False
    fig, ax = plt.subplots(figsize=(6.5, 3.6), dpi=100)
    lines = []
    for key, xs, ys in rates:
        if xs:
            lines += ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, label=key)
    watch = replay(jsonl(path))
    lines.append(ax.axvspan(0.5, watch.quarter + 0.5, color="grey", alpha=0.12, label="first quarter"))
    if watch.warned_at is not None:
        lines.append(ax.axvline(watch.warned_at, color="red", linestyle=":", label="warning"))
    ax.set_ylabel("reward, share")
    if length[0]:
        right = ax.twinx()
        lines += right.plot(*length, color="grey", linestyle="--", label=f"{LENGTH} (right)")
        right.set_ylabel("characters")
    ax.set_title(HACKING)
    ax.set_xlabel("optimizer step")
    ax.grid(alpha=0.3)
    ax.legend(lines, [line.get_label() for line in lines], fontsize="small", loc="upper center",
              bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False)  # below the axes, off the curves
    fig.tight_layout()
    fig.savefig(png, bbox_inches="tight")
    plt.close(fig)
    return True


def plots(root: Path) -> dict[str, Path]:
    """PNG plots of the training curves that exist, in `root/plots`; returns {title: path}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = root / "plots"
    out_dir.mkdir(exist_ok=True)
    wanted = [
        ("SFT loss", root / "ckpt/sft/metrics.jsonl", ["loss"]),
        ("RL reward and correct rate", root / "ckpt/rl/metrics.jsonl", ["reward", "correct_rate", "format_rate"]),
        ("RL KL to the SFT model", root / "ckpt/rl/metrics.jsonl", ["kl"]),
    ]
    made = {}
    for title, path, keys in wanted:
        series = [(key, *_metric_series(path, key)) for key in keys]
        series = [s for s in series if s[1]]
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
        for key, xs, ys in series:
            ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, label=key)
        ax.set_title(title)
        ax.set_xlabel("optimizer step")
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend()
        fig.tight_layout()
        png = out_dir / (title.lower().replace(" ", "_") + ".png")
        fig.savefig(png)
        plt.close(fig)
        made[title] = png
    png = out_dir / (HACKING.lower().replace(" ", "_") + ".png")
    if _hacking_plot(plt, root / "ckpt/rl/metrics.jsonl", png):
        made[HACKING] = png
    return made
