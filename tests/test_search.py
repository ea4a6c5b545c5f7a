"""Stage 1 search (Algorithm 1) against a real OpenAI-compatible server on 127.0.0.1.

The server plays the teacher: it reads the question out of the prompt and answers with
a CoT whose conclusion is right on a scripted call number. A second route plays the
judge. Everything the client sends is recorded, so the tests count calls per problem.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter, defaultdict

import pytest

from medo1.cot import ReplyError, parse_cot
from medo1.jsonl import failed_path, read_jsonl
from medo1.llm.openai import OpenAIChatModel, RetryPolicy
from medo1.records import Problem, SearchTrace
from medo1.search import STRATEGIES, SearchConfig, search, search_file
from medo1.verify import JudgeVerifier, MatchVerifier
from tests.openai_server import Reply, by_tag

RIGHT = "Vitamin B12 deficiency"


def cot(conclusion: str, *, thoughts: int = 2) -> str:
    steps = [{"action": "Inner Thinking", "title": f"Step {i}", "content": f"Thought {i}."} for i in range(thoughts)]
    steps += [{"action": "Final Conclusion", "title": "Conclusion", "content": conclusion},
              {"action": "Verification", "title": "Check", "content": "Checked against the findings."}]
    return json.dumps({"CoT": steps})


def question_of(body: dict) -> str:
    first = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return re.search(r"<question>\n(.*?)\n</question>", first, re.DOTALL).group(1)


class Teacher:
    """Right on call number `plan[question]` (1-based) for that question, wrong before and after."""

    def __init__(self, plan: dict[str, int]):
        self.plan = plan
        self.calls: Counter[str] = Counter()
        self.tags: dict[str, list[str]] = defaultdict(list)

    def __call__(self, body: dict, headers: dict) -> str:
        question = question_of(body)
        self.calls[question] += 1
        self.tags[question].append(headers["x-medo1-tag"])
        right = self.calls[question] == self.plan.get(question, 0)
        return cot(f"The answer is {RIGHT.lower()}." if right else "The answer is folate deficiency.")


def problems(*needs: int) -> list[Problem]:
    return [Problem(question=f"Case {i}: macrocytic anaemia with neuropathy; right on call {n}.", answer=RIGHT)
            for i, n in enumerate(needs)]


def plan_for(items: list[Problem], needs: list[int]) -> dict[str, int]:
    return {p.question: n for p, n in zip(items, needs)}


def client(server, name: str = "teacher", concurrency: int = 8) -> OpenAIChatModel:
    return OpenAIChatModel(name, base_url=server.url, concurrency=concurrency,
                           retry=RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.05))


async def run_search(server, items, out, cfg=None, *, verifier=None, concurrency=8, **kw):
    teacher = client(server, concurrency=concurrency)
    try:
        return await search(items, out, cfg or SearchConfig(), teacher=teacher,
                            verifier=verifier or MatchVerifier(), concurrency=concurrency, progress=False, **kw)
    finally:
        await teacher.aclose()


# ---------------------------------------------------------------- Algorithm 1


async def test_calls_per_problem_follow_algorithm_1(openai_server, tmp_path):
    needs = [1, 2, 4, 5, 12, 99]  # init; 1st refinement; last refinement; 2nd attempt's init; last call; never
    items = problems(*needs)
    teacher = Teacher(plan_for(items, needs))
    openai_server.handler = teacher
    out = tmp_path / "traces.jsonl"
    summary = await run_search(openai_server, items, out)

    assert (summary.found, summary.discarded, summary.failed) == (5, 1, 0)
    traces = {t.id: t for t in read_jsonl(out, SearchTrace)}
    for problem, need in zip(items, needs):
        trace = traces[problem.id]
        calls = min(need, 12)  # T * (N + 1) = 12 calls at most
        assert teacher.calls[problem.question] == calls
        assert len(trace.steps) == calls and trace.meta["teacher_calls"] == calls
        assert trace.found == (need <= 12)
        # attempt/depth walk: 4 calls per attempt (init + 3 refinements), restarts from init
        assert [(s.attempt, s.depth) for s in trace.steps] == [(i // 4, i % 4) for i in range(calls)]
        assert [s.verdict for s in trace.steps] == [False] * (calls - 1) + [need <= 12]
        for step in trace.steps:
            assert step.tag == f"search.{step.strategy}"
            assert (step.strategy == "init") == (step.depth == 0)
            if step.depth == 1:
                assert step.strategy != "backtracking"  # nothing to go back to yet
            assert step.strategy in ("init", *STRATEGIES)
            assert step.usage.completion_tokens > 0
        assert teacher.tags[problem.question] == [s.tag for s in trace.steps]
        assert trace.meta["strategies"] == [s.strategy for s in trace.steps]
    found = traces[items[3].id]
    assert [s.attempt for s in found.successful_path()] == [1]  # the 5th call is the 2nd attempt's init
    assert found.steps[-1].conclusion == f"The answer is {RIGHT.lower()}."


async def test_refinements_continue_the_previous_reasoning(openai_server, tmp_path):
    items = problems(3)
    teacher = Teacher(plan_for(items, [3]))
    openai_server.handler = teacher
    await run_search(openai_server, items, tmp_path / "t.jsonl")
    prompts = [r.json["messages"][0]["content"] for r in openai_server.requests]
    assert "<previous reasoning>" not in prompts[0]
    # the 2nd refinement sees both earlier chains, i.e. the whole reasoning so far
    previous = re.search(r"<previous reasoning>\n(.*?)\n</previous reasoning>", prompts[2], re.DOTALL).group(1)
    shown = json.loads(previous)["CoT"]
    assert [s["action"] for s in shown].count("Final Conclusion") == 2
    assert shown[-1]["action"] == "Verification" and len(shown) == 8
    # a fresh attempt does not see the failed one
    items = problems(6)
    openai_server.reset()
    openai_server.handler = Teacher(plan_for(items, [6]))
    await run_search(openai_server, items, tmp_path / "t2.jsonl")
    fifth = openai_server.requests[4].json["messages"][0]["content"]
    assert openai_server.requests[4].headers["x-medo1-tag"] == "search.init"
    assert "<previous reasoning>" not in fifth


async def test_strategy_draws_are_seeded_and_cover_all_strategies(openai_server, tmp_path):
    items = problems(*[99] * 12)
    openai_server.handler = Teacher({})

    async def sequences(seed: int, out: str) -> dict[str, list[str]]:
        await run_search(openai_server, items, tmp_path / out, SearchConfig(seed=seed))
        return {t.id: t.meta["strategies"] for t in read_jsonl(tmp_path / out, SearchTrace)}

    first, again, other = await sequences(1, "a.jsonl"), await sequences(1, "b.jsonl"), await sequences(2, "c.jsonl")
    assert first == again
    assert first != other
    used = Counter(s for seq in first.values() for s in seq)
    assert set(used) == {"init", *STRATEGIES}
    # teacher sampling seeds are recorded per call and differ between attempts
    seeds = [r.json.get("seed") for r in openai_server.requests[:12]]
    assert None not in seeds and len(set(seeds)) > 1


async def test_label_hint_round_is_marked_and_still_verified(openai_server, tmp_path):
    items = problems(13, 99)  # right only on the 13th call, i.e. the hint round; the other never
    teacher = Teacher(plan_for(items, [13, 99]))
    openai_server.handler = teacher
    out = tmp_path / "t.jsonl"
    summary = await run_search(openai_server, items, out, SearchConfig(label_hint=True))
    traces = {t.id: t for t in read_jsonl(out, SearchTrace)}
    hinted, never = traces[items[0].id], traces[items[1].id]
    assert hinted.found and hinted.label_hint and hinted.steps[-1].strategy == "label_hint"
    assert hinted.steps[-1].verdict is True
    assert not never.found and never.steps[-1].strategy == "label_hint" and never.steps[-1].verdict is False
    assert teacher.calls[items[0].question] == 13 and summary.label_hint == 1
    hint_prompts = [r.json["messages"][0]["content"] for r in openai_server.requests
                    if r.headers["x-medo1-tag"] == "search.label_hint"]
    assert len(hint_prompts) == 2 and all(RIGHT in p for p in hint_prompts)
    # without the option, no prompt ever carries the reference answer
    openai_server.reset()
    await run_search(openai_server, problems(99), tmp_path / "t2.jsonl")
    assert not any(RIGHT in r.json["messages"][0]["content"] for r in openai_server.requests)


# ---------------------------------------------------------------- the judge verifier


async def test_judge_calls_count_and_strict_verdicts(openai_server, tmp_path):
    items = problems(2, 99)
    teacher = Teacher(plan_for(items, [2, 99]))
    judged: list[str] = []

    def judge(body: dict, headers: dict) -> str:
        prompt = body["messages"][0]["content"]
        judged.append(prompt)
        if len(body["messages"]) == 1 and len(judged) == 1:
            return "not true"  # unclear: must be asked again, and never read as True
        return "True" if RIGHT.lower() in prompt.split("</response>")[0].lower() else "False"

    openai_server.handler = by_tag({"verify": judge}, default=teacher)
    teacher_model, judge_model = client(openai_server), client(openai_server, "judge")
    out = tmp_path / "t.jsonl"
    summary = await search(items, out, SearchConfig(max_attempts=1), teacher=teacher_model,
                           verifier=JudgeVerifier(judge_model), concurrency=3, progress=False)
    await teacher_model.aclose(), await judge_model.aclose()
    assert (summary.found, summary.discarded) == (1, 1)
    teacher_calls = sum(teacher.calls.values())
    assert teacher_calls == 2 + 4
    assert openai_server.tags().count("verify") == teacher_calls + 1  # one re-ask after "not true"
    assert openai_server.max_in_flight <= 3  # judge calls share the same pool of in-flight calls
    usage = json.loads((tmp_path / "t.usage.json").read_text())
    assert usage["by_tag"]["verify"]["calls"] == teacher_calls + 1
    assert usage["by_tag"]["search.init"]["calls"] == 2


async def test_judge_that_never_says_true_or_false_fails_the_problem(openai_server, tmp_path):
    items = problems(1)
    openai_server.handler = by_tag({"verify": lambda b, h: "Probably."}, default=Teacher({}))
    teacher_model, judge_model = client(openai_server), client(openai_server, "judge")
    out = tmp_path / "t.jsonl"
    summary = await search(items, out, SearchConfig(), teacher=teacher_model,
                           verifier=JudgeVerifier(judge_model, retries=1), concurrency=2, progress=False)
    await teacher_model.aclose(), await judge_model.aclose()
    assert summary.failed == 1
    failed = [json.loads(line) for line in failed_path(out).read_text().splitlines()]
    assert failed[0]["id"] == items[0].id and "True or False" in failed[0]["reason"]
    assert len(failed[0]["steps"]) == 1  # the step is kept, with no verdict
    assert openai_server.tags().count("verify") == 2


# ---------------------------------------------------------------- bad replies and faults


async def test_invalid_cot_is_reasked_with_the_problem_then_accepted(openai_server, tmp_path):
    items = problems(1)
    good = cot(RIGHT)
    bad_order = json.dumps({"CoT": [{"action": "Final Conclusion", "content": RIGHT},
                                    {"action": "Inner Thinking", "title": "t", "content": "x"},
                                    {"action": "Verification", "content": "ok"}]})
    openai_server.script("I think it is B12.", bad_order, good)
    out = tmp_path / "t.jsonl"
    summary = await run_search(openai_server, items, out)
    assert summary.found == 1
    requests = openai_server.requests
    assert len(requests) == 3
    fix = requests[1].json["messages"]
    assert [m["role"] for m in fix] == ["user", "assistant", "user"]
    assert fix[1]["content"] == "I think it is B12." and "no valid JSON" in fix[2]["content"]
    assert "Final Conclusion" in requests[2].json["messages"][2]["content"]
    assert requests[0].json["response_format"]["type"] == "json_schema"
    trace = read_jsonl(out, SearchTrace)[0]
    assert trace.meta["teacher_calls"] == 3 and len(trace.steps) == 1


async def test_reply_that_stays_invalid_is_recorded_as_failed(openai_server, tmp_path):
    items = problems(1, 1)
    bad_question = items[0].question

    def teacher(body: dict, headers: dict) -> str:
        return '{"CoT": []}' if question_of(body) == bad_question else cot(RIGHT)

    openai_server.handler = teacher
    out = tmp_path / "t.jsonl"
    summary = await run_search(openai_server, items, out, SearchConfig(retries=1))
    assert (summary.found, summary.failed) == (1, 1)
    failed = json.loads(failed_path(out).read_text())
    assert failed["id"] == items[0].id
    assert "search.init" in failed["reason"] and "after 2 tries" in failed["reason"]
    assert sum(question_of(r.json) == bad_question for r in openai_server.requests) == 2


async def test_faults_mid_run_are_retried_or_recorded_and_the_run_goes_on(openai_server, tmp_path):
    items = problems(*[2] * 8)
    teacher = Teacher(plan_for(items, [2] * 8))
    broken = items[5].question
    faulted: set[str] = set()

    def flaky(body: dict, headers: dict):
        question = question_of(body)
        if question == broken:
            return Reply(status=400, error_message="context length exceeded")  # not retryable
        key = json.dumps(body["messages"]) + headers["x-medo1-tag"]
        if key not in faulted and len(faulted) < 6:  # the first try of the first 6 requests fails
            faulted.add(key)
            return Reply(status=503) if len(faulted) % 2 else Reply(drop=True)  # both retried by the client
        return teacher(body, headers)

    openai_server.handler = flaky
    out = tmp_path / "t.jsonl"
    summary = await run_search(openai_server, items, out)
    assert (summary.found, summary.failed) == (7, 1)
    failed = json.loads(failed_path(out).read_text())
    assert failed["id"] == items[5].id and "context length exceeded" in failed["reason"]
    assert all(teacher.calls[p.question] == 2 for p in items if p.question != broken)


async def test_in_flight_calls_are_bounded_by_the_pool(openai_server, tmp_path):
    items = problems(*[3] * 30)
    teacher = Teacher(plan_for(items, [3] * 30))
    openai_server.handler = lambda b, h: Reply(text=teacher(b, h), latency=0.02)
    summary = await run_search(openai_server, items, tmp_path / "t.jsonl", concurrency=5)
    assert summary.found == 30
    assert openai_server.max_in_flight == 5


# ---------------------------------------------------------------- resume


async def test_a_killed_run_resumes_without_new_calls_for_finished_problems(openai_server, tmp_path):
    needs = [1, 2, 3, 4, 5, 6, 7, 8]
    items = problems(*needs)
    teacher = Teacher(plan_for(items, needs))
    stuck = items[-1].question

    def handler(body: dict, headers: dict):
        if question_of(body) == stuck and teacher.calls[stuck] >= 3:
            return Reply(text=teacher(body, headers), latency=30)  # the run is killed while waiting here
        return teacher(body, headers)

    openai_server.handler = handler
    out = tmp_path / "t.jsonl"
    task = asyncio.ensure_future(run_search(openai_server, items, out))
    for _ in range(500):
        await asyncio.sleep(0.02)
        if out.exists() and len(out.read_text().splitlines()) == 7:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    finished = {t.id for t in read_jsonl(out, SearchTrace)}
    assert len(finished) == 7 and items[-1].id not in finished

    openai_server.reset()
    openai_server.handler = teacher
    summary = await run_search(openai_server, items, out)
    assert (summary.skipped, summary.found) == (7, 1)
    assert {question_of(r.json) for r in openai_server.requests} == {stuck}  # nothing for finished ones
    assert len(read_jsonl(out, SearchTrace)) == 8
    usage = json.loads((tmp_path / "t.usage.json").read_text())
    assert usage["runs"] == 2


def test_search_file_reads_problems_and_resumes(openai_server, tmp_path):
    items = problems(1, 2)
    openai_server.handler = Teacher(plan_for(items, [1, 2]))
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(p.model_dump_json() + "\n" for p in items))
    out = tmp_path / "traces.jsonl"
    spec = f"openai:teacher@{openai_server.url}"
    summary = search_file(path, out, SearchConfig(), teacher=spec, verifier="match", cache=False, progress=False)
    assert summary.found == 2
    again = search_file(path, out, SearchConfig(), teacher=spec, verifier="match", cache=False, progress=False)
    assert again.skipped == 2 and openai_server.count == 3


def test_config_rejects_impossible_strategy_sets():
    from medo1.errors import Medo1Error

    with pytest.raises(Medo1Error, match="other than backtracking"):
        SearchConfig(strategies=("backtracking",))
    with pytest.raises(Medo1Error, match="unknown search strategy"):
        SearchConfig(strategies=("guessing",))
    assert SearchConfig().allowed(1) == ["explore_new_paths", "verification", "correction"]
    assert SearchConfig().allowed(2) == list(STRATEGIES)


# ---------------------------------------------------------------- the CoT format


@pytest.mark.parametrize("reply, problem", [
    ("", "empty"),
    ("no json here", "no valid JSON"),
    ('{"steps": 3}', '"CoT" must be a list'),
    ('{"CoT": [{"action": "Inner Thinking", "content": "x"}]}', "at least 3 steps"),
    ('{"CoT": [{"action": "Inner Thinking", "content": "x"}, {"action": "Verification", "content": "v"},'
     ' {"action": "Final Conclusion", "content": "c"}]}', 'last step must be "Verification"'),
    ('{"CoT": [{"action": "Inner Thinking", "content": "x"}, {"action": "Inner Thinking", "content": "y"},'
     ' {"action": "Verification", "content": "v"}]}', 'before the last must be "Final Conclusion"'),
    ('{"CoT": [{"action": "Verification", "content": "x"}, {"action": "Final Conclusion", "content": "c"},'
     ' {"action": "Verification", "content": "v"}]}', 'only "Inner Thinking" steps'),
    ('{"CoT": [{"action": "Musing", "content": "x"}, {"action": "Final Conclusion", "content": "c"},'
     ' {"action": "Verification", "content": "v"}]}', "is not one of"),
    ('{"CoT": [{"action": "Inner Thinking", "content": " "}, {"action": "Final Conclusion", "content": "c"},'
     ' {"action": "Verification", "content": "v"}]}', "non-empty"),
])
def test_parse_cot_rejects_with_a_reason(reply, problem):
    with pytest.raises(ReplyError, match=re.escape(problem)):
        parse_cot(reply)


def test_parse_cot_accepts_fences_and_loose_spelling():
    reply = ('Sure!\n```json\n{"cot": [{"Action": "inner  thinking", "title": "A", "content": "x"},'
             ' {"action": "final conclusion", "content": "B12"}, {"action": "VERIFICATION", "content": "ok"}]}\n```')
    steps = parse_cot(reply)
    assert [s.action for s in steps] == ["Inner Thinking", "Final Conclusion", "Verification"]
    assert steps[1].content == "B12" and steps[1].title is None


# ---------------------------------------------------------------- prompts


def test_english_and_chinese_prompt_sets_have_the_same_placeholders():
    import string

    from medo1.prompts import BUNDLED, load_prompt

    names = sorted(str(p.relative_to(BUNDLED / "en"))[:-4] for part in ("curate", "search", "synth", "verify")
                   for p in (BUNDLED / "en" / part).glob("*.txt"))
    assert len(names) == 17
    for name in names:
        fields = [{f for _, f, _, _ in string.Formatter().parse(load_prompt(name, lang=lang)) if f}
                  for lang in ("en", "zh")]
        assert fields[0] == fields[1], name


async def test_prompts_folder_and_chinese_set(openai_server, tmp_path):
    items = problems(1)
    openai_server.handler = Teacher(plan_for(items, [1]))
    custom = tmp_path / "prompts" / "en" / "search"
    custom.mkdir(parents=True)
    (custom / "init.txt").write_text("<question>\n{question}\n</question>\nHOUSE STYLE.\n{format}\n")
    await run_search(openai_server, items, tmp_path / "a.jsonl", SearchConfig(prompts=str(tmp_path / "prompts")))
    assert "HOUSE STYLE." in openai_server.requests[0].json["messages"][0]["content"]
    openai_server.reset()
    await run_search(openai_server, items, tmp_path / "b.jsonl", SearchConfig(lang="zh"))
    assert "请先一步一步推理" in openai_server.requests[0].json["messages"][0]["content"]
