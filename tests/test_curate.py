"""Stage 0: rule filters, difficulty filter, LLM filter and rewrite (against a real local server),
lineage, resume, split and decontamination."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from medo1.cli import app
from medo1.curate import CurateConfig, curate, parse_label, problem_id
from medo1.curate_rules import rule_reason, rule_rewrite
from medo1.data import SAMPLE_MCQ, load_sample
from medo1.decontaminate import decontaminate_file
from medo1.errors import InputError
from medo1.jsonl import failed_path, read_jsonl
from medo1.llm.openai import OpenAIChatModel, RetryPolicy
from medo1.reasoning.cot import ReplyError
from medo1.reasoning.search import SearchConfig, search
from medo1.records import MCQ, Problem, SearchTrace
from medo1.split import split_file, split_ids
from medo1.verify import MatchVerifier
from tests.openai_server import Reply, fixed

VIGNETTE = ("A 34-year-old woman has had fatigue and numbness in both feet for three months. She follows a "
            "strict vegan diet and does not take supplements. Her haemoglobin is low with a raised mean "
            "corpuscular volume. ")


def mcq(question: str, options=None, answer="A", **kw) -> MCQ:
    options = options or {"A": "Vitamin B12 deficiency", "B": "Folate deficiency", "C": "Iron deficiency",
                          "D": "Lead poisoning"}
    return MCQ(question=question, options=options, answer=answer, **kw)


# ---------------------------------------------------------------- rules


@pytest.mark.parametrize("question, options, reason", [
    ("Drug of choice for absence seizures?", None, "short stem"),
    (VIGNETTE + "Which of the following is NOT a cause?", None, "negated question ('NOT')"),
    (VIGNETTE + "All of these are causes EXCEPT:", None, "negated question ('EXCEPT')"),
    (VIGNETTE + "Which of the following statements is incorrect?", None, "negated question ('incorrect')"),
    (VIGNETTE + "Which finding would not be expected?", None, "negated question ('would not')"),
    (VIGNETTE + "Which is the least likely cause?", None, "negated question ('least')"),
    (VIGNETTE + "All of the following may be seen in this condition?", None, "'all of the following'"),
    (VIGNETTE + "Which of the following are true?", None, "multi-answer question"),
    (VIGNETTE + "What is the cause?", {"A": "B12", "B": "Folate", "C": "Both A and B", "D": "Iron"},
     "multi-answer option C"),
    (VIGNETTE + "What is the cause?", {"A": "B12", "B": "Folate", "C": "Iron", "D": "All of the above"},
     "multi-answer option D"),
    (VIGNETTE + "Which are causes?", {"A": "1, 2 and 3", "B": "1 and 3", "C": "2 and 4", "D": "4 only"},
     "multi-answer option A"),
    ("患者女，34岁，乏力，双足麻木三个月，长期素食，血红蛋白降低，平均红细胞体积升高。下列哪项不是其病因？", None,
     "negated question ('不是')"),
])
def test_rule_filters(question, options, reason):
    assert reason in rule_reason(mcq(question, options), min_words=10)


@pytest.mark.parametrize("question", [
    VIGNETTE + "What is the most likely diagnosis?",  # "does not take" is in the vignette, not the question
    VIGNETTE + "Which of the following is the most likely diagnosis?",
    "患者女，34岁，乏力，双足麻木三个月，长期素食，血红蛋白降低，平均红细胞体积升高。最可能的诊断是什么？",
])
def test_rule_filters_keep_plain_questions(question):
    assert rule_reason(mcq(question), min_words=10) is None


def test_sample_bank_rule_funnel_through_the_cli(tmp_path):
    out = tmp_path / "problems.jsonl"
    args = ["curate", "--input", str(SAMPLE_MCQ), "--out", str(out), "--split", "train", "--no-llm-filter",
            "--reformat", "rule"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "36 problems kept of 40 questions" in result.output and "rule 4" in result.output
    train = load_sample("train")
    problems = read_jsonl(out, Problem)
    rejected = [json.loads(line) for line in failed_path(out, "rejected").read_text().splitlines()]
    assert {r["id"] for r in rejected} == {m.id for m in train if m.meta.get("expect") == "rule_filtered"}
    assert all(r["stage"] == "rule" and r["source_id"] for r in rejected)
    assert {p.mcq_id for p in problems} | {r["id"] for r in rejected} == {m.id for m in train}
    by_mcq = {m.id: m for m in train}
    for p in problems:  # lineage
        m = by_mcq[p.mcq_id]
        assert (p.source, p.source_id, p.options, p.original_answer) == (m.source, m.source_id, m.options, m.answer)
        assert p.answer == m.answer_text and p.meta["original_question"] == m.question
        assert "which of the following" not in p.question.lower()
    assert CliRunner().invoke(app, args).output.count("done earlier 40") == 1


def test_reformat_options_keeps_the_lettered_options_and_makes_the_letter_the_answer(tmp_path):
    """`--reformat options` (no model): the question as evaluation asks it, the correct letter as the answer,
    which the `option` verifier checks exactly."""
    from medo1.evaluate import build_prompt
    from medo1.records import EvalItem
    from medo1.verify import OptionVerifier, score_response

    out = tmp_path / "problems.jsonl"
    result = CliRunner().invoke(app, ["curate", "--input", str(SAMPLE_MCQ), "--out", str(out), "--split", "train",
                                      "--no-llm-filter", "--reformat", "options"])
    assert result.exit_code == 0, result.output
    by_mcq = {m.id: m for m in load_sample("train")}
    problems = read_jsonl(out, Problem)
    assert len(problems) == 36
    for p in problems:
        m = by_mcq[p.mcq_id]
        assert p.answer == m.answer and p.meta["reformat"] == "options"
        item = EvalItem(bench="sample", question=m.question, options=m.options, answer=m.answer)
        assert p.question == build_prompt(item, "free")  # the prompt evaluation asks
        assert all(f"\n{letter}. {text}" in p.question for letter, text in m.options.items())
    p = problems[0]
    wrong = next(letter for letter in p.options if letter != p.answer)

    def score(final: str) -> float | None:
        return asyncio.run(score_response(f"## Thinking\n\nHmm.\n\n## Final Response\n\n{final}", p.answer,
                                          OptionVerifier())).score

    assert (score(f"The answer is {p.answer}."), score(f"The answer is {wrong}."),
            score(f"{p.answer} or {wrong}")) == (1.0, 0.1, 0.1)


def test_rule_rewrite():
    question, answer = rule_rewrite(mcq(VIGNETTE + "Which of the following is the most likely diagnosis?"))
    assert question.endswith("What is the most likely diagnosis?") and answer == "Vitamin B12 deficiency"


@pytest.mark.parametrize("reply, label", [
    ('{"label": "Pass"}', "Pass"), ('{"label": "too simple"}', "Too Simple"), ("Ambiguous Answer", "Ambiguous Answer"),
    ('```json\n{"label": "Not Reformulatable"}\n```', "Not Reformulatable"),
])
def test_parse_label(reply, label):
    assert parse_label(reply) == label


@pytest.mark.parametrize("reply", ['{"label": "Good"}', "Pass or Too Simple", '{"label": 3}', "",
                                   "It does not pass"])
def test_parse_label_rejects(reply):
    with pytest.raises(ReplyError):
        parse_label(reply)


# ---------------------------------------------------------------- the model steps, over HTTP


QUESTIONS = {
    "easy": mcq(VIGNETTE + "Case easy. What is the most likely diagnosis?"),
    "simple": mcq(VIGNETTE + "Case simple. What is the most likely diagnosis?"),
    "keep": mcq(VIGNETTE + "Case keep. What is the most likely diagnosis?", meta={"difficulty": "hard"}),
    "reask": mcq(VIGNETTE + "Case reask. What is the most likely diagnosis?"),
    "lists": mcq(VIGNETTE + "Case lists. What is the most likely diagnosis?"),
    "short": mcq("Case short: B12 or folate?"),
    "broken": mcq(VIGNETTE + "Case broken. What is the most likely diagnosis?"),
}


class Models:
    """Two difficulty models and a teacher, told apart by the request's model name and tag."""

    def __init__(self):
        self.seen: list[tuple[str, str, str]] = []

    def __call__(self, body: dict, headers: dict):
        prompt = body["messages"][0]["content"]
        case = next(name for name in QUESTIONS if f"Case {name}" in prompt)
        tag, turn = headers["x-medo1-tag"], len(body["messages"])
        self.seen.append((case, body["model"], tag))
        if case == "broken":
            return Reply(status=400, error_message="model not found")
        if tag == "curate.difficulty":
            wrong = body["model"] == "small-b" and case != "easy"
            return "Answer: B" if wrong else "The answer is A."
        if tag == "curate.filter":
            if case == "reask" and turn == 1:
                return "I think it passes"
            return json.dumps({"label": "Too Simple" if case == "simple" else "Pass"})
        if tag == "curate.reformat":
            question = "A vegan woman has numbness and macrocytic anaemia. What is the most likely diagnosis?"
            if case == "lists":
                question += "\nA. B12\nB. Folate"
            answer = "Folate deficiency" if case == "reask" and turn == 1 else "Vitamin B12 deficiency"
            return json.dumps({"Open-ended Verifiable Question": question, "Standard Answer": answer})
        raise AssertionError(tag)


def model(server, name):
    return OpenAIChatModel(name, base_url=server.url, concurrency=4, retry=RetryPolicy(max_retries=1,
                                                                                       initial_delay=0.01))


async def run_curate(server, out, **kw):
    teacher, small_a, small_b = model(server, "teacher"), model(server, "small-a"), model(server, "small-b")
    try:
        return await curate(list(QUESTIONS.values()), out, CurateConfig(retries=1), teacher=teacher,
                            difficulty_models=[small_a, small_b], concurrency=4, progress=False, **kw)
    finally:
        for m in (teacher, small_a, small_b):
            await m.aclose()


async def test_curate_funnel_over_http(openai_server, tmp_path):
    models = Models()
    openai_server.handler = models
    out = tmp_path / "problems.jsonl"
    summary = await run_curate(openai_server, out)

    assert summary.kept == 2 and summary.errors == 1
    assert summary.dropped == {"rule": 1, "difficulty": 1, "filter": 1, "reformat": 1}
    rejected = {r["id"]: r for r in map(json.loads, failed_path(out, "rejected").read_text().splitlines())}
    stage = {name: rejected[m.id]["stage"] for name, m in QUESTIONS.items() if m.id in rejected}
    assert stage == {"easy": "difficulty", "simple": "filter", "lists": "reformat", "short": "rule",
                     "broken": "error"}
    assert rejected[QUESTIONS["easy"].id]["answers"] == {"openai:small-a@" + openai_server.url: "A",
                                                        "openai:small-b@" + openai_server.url: "A"}
    assert "labelled 'Too Simple'" in rejected[QUESTIONS["simple"].id]["reason"]
    assert "must not list the options" in rejected[QUESTIONS["lists"].id]["reason"]
    assert "model not found" in rejected[QUESTIONS["broken"].id]["reason"]

    problems = {p.mcq_id: p for p in read_jsonl(out, Problem)}
    keep = problems[QUESTIONS["keep"].id]
    assert keep.id == problem_id(QUESTIONS["keep"]) and keep.answer == "Vitamin B12 deficiency"
    assert keep.question.startswith("A vegan woman") and keep.meta["filter_label"] == "Pass"
    assert keep.options == QUESTIONS["keep"].options and keep.original_answer == "A"
    assert set(keep.meta["difficulty_answers"].values()) == {"A", "B"}
    assert keep.meta["difficulty"] == "hard"  # the input's own column, next to the difficulty models' answers

    # the short one cost nothing; the re-asked one was shown its reply and the problem with it
    assert not [s for s in models.seen if s[0] == "short"]
    reasks = [r.json["messages"] for r in openai_server.requests
              if "Case reask" in r.json["messages"][0]["content"] and len(r.json["messages"]) == 3]
    assert len(reasks) == 2
    assert reasks[0][1]["content"] == "I think it passes"
    assert "is not the correct option" in reasks[1][2]["content"]

    usage = json.loads((tmp_path / "problems.usage.json").read_text())
    assert usage["by_tag"]["curate.difficulty"]["calls"] == 2 * 5  # all but the short one (broken fails)
    assert usage["last_run"]["kept"] == 2

    # a re-run costs nothing; --retry-failed tries the rejected ones again
    openai_server.reset()
    again = await run_curate(openai_server, out)
    assert again.skipped == len(QUESTIONS) and openai_server.count == 0
    retry = await run_curate(openai_server, out, retry_failed=True)
    assert retry.skipped == 2 and retry.errors == 1


async def test_curate_without_a_teacher_needs_the_rule_path(tmp_path):
    from medo1.errors import Medo1Error

    with pytest.raises(Medo1Error, match="need a teacher"):
        await curate([QUESTIONS["keep"]], tmp_path / "p.jsonl", CurateConfig(), progress=False)


def test_curate_bad_input_is_one_line(tmp_path):
    bad = tmp_path / "mcq.jsonl"
    bad.write_text(json.dumps({"question": "Q?", "options": {"A": "x", "B": "y"}, "answer": "E"}) + "\n")
    with pytest.raises(InputError, match=r"mcq.jsonl:1: answer: 'E' is not one of the options AB"):
        from medo1.curate import curate_file

        curate_file(bad, tmp_path / "p.jsonl", CurateConfig(llm_filter=False, reformat="rule"))


# ---------------------------------------------------------------- the MCQ's own columns (lineage)

SCURVY = ("A 40-year-old sailor returns from eight months at sea with bleeding swollen gums, "
          "perifollicular haemorrhages and poor wound healing. ")
SCURVY_COT = [{"action": "Inner Thinking", "title": "Findings", "content": "Gum bleeding and perifollicular "
               "haemorrhages after a long voyage without fresh food point to a collagen defect."},
              {"action": "Final Conclusion", "content": "Vitamin C deficiency"},
              {"action": "Verification", "content": "Scurvy explains every finding."}]


def test_mcq_columns_reach_problems_and_through_them_traces(openai_server, tmp_path):
    ours = {"question": SCURVY + "Which deficiency is the most likely cause?", "options": {
        "A": "Vitamin A deficiency", "B": "Vitamin C deficiency", "C": "Vitamin D deficiency"}, "answer": "B",
        "subject": "nutrition", "difficulty": "hard", "topic": "vitamins", "reviewer": {"name": "R. Osei"}}
    original = {"id": "5d1e3f0a-77b2-4c1e-9a0b-3c4d5e6f7a8b", "question": SCURVY + "The cause is:",
                "opa": "Vitamin B1 deficiency", "opb": "Vitamin B12 deficiency", "opc": "Iron deficiency",
                "opd": "Vitamin C deficiency", "cop": 4, "choice_type": "single", "exp": "Scurvy.",
                "subject_name": "Medicine", "topic_name": None}  # the original MedMCQA release: cop counts from 1
    bank = tmp_path / "bank.jsonl"
    bank.write_text(json.dumps(ours) + "\n" + json.dumps(original) + "\n")
    out = tmp_path / "problems.jsonl"
    result = CliRunner().invoke(app, ["curate", "--input", str(bank), "--out", str(out), "--no-llm-filter",
                                      "--reformat", "rule"])
    assert result.exit_code == 0, result.output
    problems = {p.source: p for p in read_jsonl(out, Problem)}
    notes = {"reformat": "rule"}
    assert problems["local"].meta == {"difficulty": "hard", "topic": "vitamins", "reviewer": {"name": "R. Osei"},
                                      "original_question": ours["question"], "subject": "nutrition", **notes}
    assert problems["medmcqa"].meta == {"choice_type": "single", "exp": "Scurvy.", "topic_name": None, "cop_base": 1,
                                        "original_question": original["question"], "subject": "Medicine", **notes}
    assert problems["medmcqa"].answer == "Vitamin C deficiency"

    openai_server.handler = fixed(json.dumps({"CoT": SCURVY_COT}))

    async def run_search():
        teacher = OpenAIChatModel("teacher", base_url=openai_server.url)
        try:
            return await search(list(problems.values()), tmp_path / "traces.jsonl", SearchConfig(), teacher=teacher,
                                verifier=MatchVerifier(), progress=False)
        finally:
            await teacher.aclose()

    assert asyncio.run(run_search()).found == 2
    traces = {t.problem.source: t for t in read_jsonl(tmp_path / "traces.jsonl", SearchTrace)}
    assert traces["local"].problem.meta["topic"] == "vitamins" and traces["local"].problem.meta["difficulty"] == "hard"
    assert traces["medmcqa"].problem.meta == problems["medmcqa"].meta


async def test_curates_own_notes_win_and_a_clashing_column_is_kept_as_mcq_key(tmp_path):
    translated = "Un marin revient après huit mois en mer avec des gencives qui saignent. Quelle est la cause ?"
    question = mcq(VIGNETTE + "What is the most likely diagnosis?", subject="haematology",
                   meta={"original_question": translated, "subject": "haematology", "topic": "anaemia"})
    out = tmp_path / "problems.jsonl"
    summary = await curate([question], out, CurateConfig(llm_filter=False, reformat="rule"), progress=False)
    assert summary.kept == 1
    (problem,) = read_jsonl(out, Problem)
    assert problem.meta == {"original_question": question.question, "mcq_original_question": translated,
                            "subject": "haematology", "topic": "anaemia", "reformat": "rule"}


# ---------------------------------------------------------------- split


def write_problems(path, n):
    rows = [Problem(question=f"Question number {i}?", answer=f"Answer {i}") for i in range(n)]
    path.write_text("".join(p.model_dump_json() + "\n" for p in rows))
    return rows


def test_split_is_seeded_complete_and_order_free(tmp_path):
    rows = write_problems(tmp_path / "p.jsonl", 101)
    n_search, n_rl = split_file(tmp_path / "p.jsonl", tmp_path / "s.jsonl", tmp_path / "r.jsonl", seed=3)
    assert (n_search, n_rl) == (51, 50)  # round(101 * 0.5) = 50 to RL
    search = {p.id for p in read_jsonl(tmp_path / "s.jsonl", Problem)}
    rl = {p.id for p in read_jsonl(tmp_path / "r.jsonl", Problem)}
    assert not search & rl and search | rl == {p.id for p in rows}
    shuffled = list(reversed([p.id for p in rows]))
    assert split_ids(shuffled, seed=3) == (search, rl)  # input order does not matter
    assert split_ids(shuffled, seed=4) != (search, rl)
    assert len(split_ids(shuffled, rl_fraction=0.2)[1]) == 20


def test_split_cli(tmp_path):
    write_problems(tmp_path / "p.jsonl", 10)
    result = CliRunner().invoke(app, ["split", "--problems", str(tmp_path / "p.jsonl"), "--search-out",
                                      str(tmp_path / "s.jsonl"), "--rl-out", str(tmp_path / "r.jsonl"),
                                      "--rl-fraction", "0.3", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "7 ->" in result.output and "3 ->" in result.output


# ---------------------------------------------------------------- decontaminate


def test_decontaminate_drops_items_sharing_a_64_character_span(tmp_path):
    eval_q = load_sample("eval")[0]
    evals = tmp_path / "eval.jsonl"
    evals.write_text(eval_q.model_dump_json() + "\n")
    copied = eval_q.question[10:75]  # 65 characters of the evaluation question
    near = eval_q.question[10:72]  # 62 characters: below the rule
    rows = [
        {"id": "copied", "question": "Preface. " + copied.upper().replace(" ", "\n  ") + " and more.",
         "answer": "x"},
        {"id": "near", "question": "Preface. " + near + " and more text here.", "answer": "x"},
        {"id": "clean", "question": VIGNETTE, "answer": "x"},
        {"id": "in-cot", "question": "Short question?", "complex_cot": "I recall: " + copied, "response": "x"},
    ]
    data = tmp_path / "train.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = decontaminate_file(data, tmp_path / "clean.jsonl", [evals])
    assert [d["id"] for d in report.dropped] == ["copied", "in-cot"]
    assert report.kept == 2 and eval_q.id in report.dropped[0]["eval_item"]
    assert len(report.dropped[0]["span"]) == 64
    kept = [json.loads(line) for line in (tmp_path / "clean.jsonl").read_text().splitlines()]
    assert kept == [rows[1], rows[2]]  # records unchanged
    dropped = [json.loads(line) for line in (tmp_path / "clean.contaminated.jsonl").read_text().splitlines()]
    assert dropped[0]["record"] == rows[0]

    result = CliRunner().invoke(app, ["decontaminate", "--input", str(data), "--out", str(tmp_path / "c2.jsonl"),
                                      "--against", str(evals), "--against", str(SAMPLE_MCQ)])
    assert result.exit_code == 0, result.output
    assert "dropped 2 of 4 items" in result.output and "copied:" in result.output


def test_decontaminate_whole_sample_against_its_eval_split(tmp_path):
    evals = tmp_path / "eval.jsonl"
    evals.write_text("".join(m.model_dump_json() + "\n" for m in load_sample("eval")))
    report = decontaminate_file(SAMPLE_MCQ, tmp_path / "clean.jsonl", [evals])
    eval_lines = {i for i, line in enumerate(SAMPLE_MCQ.read_text().splitlines(), 1) if '"split": "eval"' in line}
    dropped = {d["line"]: d["span"] for d in report.dropped}
    assert eval_lines <= set(dropped) and report.kept == 60 - len(dropped)
    # the rule is strict: two train questions share 64 characters of stock wording with eval ones
    extra = [span for line, span in dropped.items() if line not in eval_lines]
    assert len(extra) == 2 and all("which of the following is the most likely diagnos" in s for s in extra)
