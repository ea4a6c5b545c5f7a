"""The run report: `report.md` and a self-contained `report.html` in a run directory.

It tells the run's story first, then the details:

    Summary                  what went in, what came out (the funnel), format rate and accuracy before ->
                             after SFT -> after RL, cost, wall time, the run directory's size on disk
    What this run can show   plainly: what the set-up can and cannot show (a 135M embedded model teaches
                             the format, not medicine); accuracies whose 95% interval spans more than 40
                             points are marked "too few items to compare"
    details                  evaluation table, output format, funnel, synthesis check, the trace viewer
                             (search call by call next to the SFT example it became), training curves,
                             example outputs, stage times, calls / tokens / cost, the run's files

It reads only what the stages wrote, so it can be rebuilt at any time (`medo1 report RUN_DIR`).

    facts.py    reading the run directory      story.py    the summary box and the caveats
    details.py  the detail sections            traces.py   the trace viewer
    plots.py    training curves (PNG)          page.py     markdown and HTML pages
"""

from __future__ import annotations

from pathlib import Path

from medo1.report.details import detail_sections, eval_table, examples, later_sections
from medo1.report.facts import consistency_row, funnel, output_stats, recipe_of, usage_rows
from medo1.report.page import Section, to_html, to_markdown
from medo1.report.plots import plots
from medo1.report.story import caveats, caveats_markdown, summary, summary_html, summary_markdown
from medo1.report.traces import pick, viewer_html, viewer_markdown

__all__ = ["build_markdown", "consistency_row", "eval_table", "examples", "funnel", "output_stats", "plots",
           "sections", "usage_rows", "write_report"]


def title_and_lead(root: Path) -> tuple[str, str]:
    recipe = recipe_of(root)
    return (f"medo1 run report: {recipe.get('name', root.name)}",
            f"Run directory `{root}`. Rebuild this report with `medo1 report {root}`.")


def sections(root: Path, made: dict[str, Path]) -> list[Section]:
    """Every section of the report, in reading order."""
    facts = summary(root)
    out = [Section("Summary", summary_markdown(facts), summary_html(facts))]
    said = caveats(root)
    if said:
        out.append(Section("What this run can and cannot show", caveats_markdown(said)))
    out += detail_sections(root, made)
    shown = pick(root)
    if shown:
        intro = ("For a few problems: every teacher call of the search (strategy, chain of thought, conclusion, the "
                 "verifier's verdict), next to the SFT example synthesis made of the successful path.")
        out.append(Section("Traces: from search to SFT example", intro + "\n\n" + viewer_markdown(shown),
                           f"<p>{intro}</p>" + viewer_html(shown)))
    return out + later_sections(root, made)


def build_markdown(root: str | Path, made: dict[str, Path]) -> str:
    root = Path(root)
    return to_markdown(*title_and_lead(root), sections(root, made))


def write_report(root: str | Path) -> tuple[Path, Path]:
    """Write `report.md` and `report.html` into the run directory `root`."""
    root = Path(root)
    made = plots(root)
    title, lead = title_and_lead(root)
    parts = sections(root, made)
    md_path, html_path = root / "report.md", root / "report.html"
    md_path.write_text(to_markdown(title, lead, parts), encoding="utf-8")
    html_path.write_text(to_html(title, lead, parts, root), encoding="utf-8")
    return md_path, html_path
