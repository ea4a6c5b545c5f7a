"""Stage 1 search (Algorithm 1) against a real OpenAI-compatible server on 127.0.0.1.

The server plays the teacher: it reads the question out of the prompt and answers with
a CoT whose conclusion is right on a scripted call number; it answers a refinement
(X-Medo1-Tag `search.<strategy>`) in the paper's shape, starting with a Verification that
rejects the previous conclusion. A second route plays the judge. Everything the client sends
is recorded, so the tests count calls per problem and read the prompts.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter, defaultdict

import pytest

from medo1.jsonl import failed_path, read_jsonl
from medo1.llm.openai import OpenAIChatModel, RetryPolicy
from medo1.reasoning.cot import ReplyError, parse_cot, parse_refinement
from medo1.reasoning.search import STRATEGIES, SearchConfig, search, search_file
from medo1.records import CoTStep, Problem, SearchTrace
from medo1.verify import JudgeVerifier, MatchVerifier
from tests.openai_server import Reply, by_tag

RIGHT = "Vitamin B12 deficiency"
WRONG = "The answer is folate deficiency."


def cot(conclusion: str, *, thoughts: int = 2, refine: bool = False, call: str = "") -> str:
    """A CoT reply; `refine`: the paper's refinement shape, opening with a Verification that rejects the
    previous conclusion. `call` makes every step's text unique to the reply."""
    steps = [{"action": "Verification", "title": "Recheck", "content": f"{call}The previous conclusion is wrong: "
              "it does not explain the neuropathy."}] if refine else []
    steps += [{"action": "Inner Thinking", "title": f"Step {i}", "content": f"{call}Thought {i}."}
              for i in range(thoughts)]
    steps += [{"action": "Final Conclusion", "title": "Conclusion", "content": conclusion},
              {"action": "Verification", "title": "Check", "content": f"{call}Checked against the findings."}]
    return json.dumps({"CoT": steps})


def question_of(body: dict) -> str:
    first = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return re.search(r"<question>\n(.*?)\n</question>", first, re.DOTALL).group(1)


def previous_of(prompt: str) -> list[dict]:
    """The steps a refinement prompt shows as the previous reasoning."""
    shown = re.search(r"<previous reasoning>\n(.*?)\n</previous reasoning>", prompt, re.DOTALL).group(1)
    return json.loads(shown)["CoT"]


class Teacher:
    """Right on call number `plan[question]` (1-based) for that question, wrong before and after.

    It answers the initial CoT (tag `search.init`) in the initial shape and every refinement
    (`search.<strategy>`, `search.label_hint`) in the paper's refinement shape; `old_shape`
    answers refinements the way earlier versions asked for (no leading Verification)."""

    def __init__(self, plan: dict[str, int], *, old_shape: bool = False):
        self.plan = plan
        self.old_shape = old_shape
        self.calls: Counter[str] = Counter()
        self.tags: dict[str, list[str]] = defaultdict(list)
        self.replies: dict[str, list[str]] = defaultdict(list)

    def __call__(self, body: dict, headers: dict) -> str:
        question = question_of(body)
        self.calls[question] += 1
        tag = headers["x-medo1-tag"]
        self.tags[question].append(tag)
        right = self.calls[question] == self.plan.get(question, 0)
        refine = tag != "search.init" and not self.old_shape
        reply = cot(f"The answer is {RIGHT.lower()}." if right else WRONG, refine=refine,
                    call=f"[{question[:7]} call {self.calls[question]}] ")
        self.replies[question].append(reply)
        return reply

    def routes(self):
        """The teacher behind the server's tag routes: a request with any other tag is an error."""
        return by_tag({f"search.{kind}": self for kind in ("init", *STRATEGIES, "label_hint")})


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


async def test_paper_shaped_refinements_are_accepted_and_found(openai_server, tmp_path):
    # 48 problems: 8 solved by the initial CoT, 40 only by a refinement (every refinement call of
    # the 3 attempts: calls 2-4, 6-8, 10-12). A teacher that opens each refinement with the
    # Verification rejecting the previous conclusion must have every one of them found.
    refinement_calls = [2, 3, 4, 6, 7, 8, 10, 11, 12]
    needs = [1] * 8 + [refinement_calls[i % len(refinement_calls)] for i in range(40)]
    items = problems(*needs)
    teacher = Teacher(plan_for(items, needs))
    openai_server.handler = teacher.routes()
    out = tmp_path / "traces.jsonl"
    summary = await run_search(openai_server, items, out)

    assert (summary.found, summary.discarded, summary.failed) == (48, 0, 0)
    assert not failed_path(out).exists() or not failed_path(out).read_text().strip()
    assert openai_server.count == sum(needs)  # no re-asks: every paper-shaped reply was accepted as it came
    traces = {t.id: t for t in read_jsonl(out, SearchTrace)}
    for problem, need in zip(items, needs):
        trace = traces[problem.id]
        assert trace.found and len(trace.steps) == need and trace.steps[-1].verdict
        for step in trace.steps:
            assert [s.action for s in step.cot][0] == ("Inner Thinking" if step.depth == 0 else "Verification")
    # the refinements were asked for in their own shape (schema and format), the initial CoTs in theirs
    init = next(r for r in openai_server.requests if r.tag == "search.init")
    refinement = next(r for r in openai_server.requests if r.tag != "search.init")
    assert init.json["response_format"]["json_schema"]["schema"]["properties"]["CoT"]["minItems"] == 3
    assert refinement.json["response_format"]["json_schema"]["schema"]["properties"]["CoT"]["minItems"] == 4
    assert '1. "Verification"' in refinement.json["messages"][0]["content"]
    assert '1. "Inner Thinking"' in init.json["messages"][0]["content"]


async def test_refinement_prompt_drops_the_last_verification_and_keeps_the_rest(openai_server, tmp_path):
    items = problems(3)
    openai_server.handler = Teacher(plan_for(items, [3])).routes()
    out = tmp_path / "t.jsonl"
    await run_search(openai_server, items, out)
    trace = read_jsonl(out, SearchTrace)[0]
    init, first, second = (s.cot for s in trace.steps)
    as_json = [[{"action": s.action, "title": s.title, "content": s.content} for s in c] for c in (init, first)]
    prompts = [r.json["messages"][0]["content"] for r in openai_server.requests]
    assert "<previous reasoning>" not in prompts[0]

    # the 1st refinement sees the initial CoT up to its Final Conclusion, not the Verification after it
    assert previous_of(prompts[1]) == as_json[0][:-1]
    assert init[-1].action == "Verification" and init[-1].content not in prompts[1]
    assert all(step.content in prompts[1] for step in init[:-1])
    # the 2nd sees path[:-1] + reply[:-1]: the 1st refinement's opening Verification (the rejection)
    # stays, its closing Verification and the initial CoT's one are gone
    assert previous_of(prompts[2]) == as_json[0][:-1] + as_json[1][:-1]
    assert first[0].action == "Verification" and first[0].content in prompts[2]
    assert init[-1].content not in prompts[2] and first[-1].content not in prompts[2]
    assert [s["action"] for s in previous_of(prompts[2])].count("Final Conclusion") == 2

    # a fresh attempt does not see the failed one
    items = problems(6)
    openai_server.reset()
    openai_server.handler = Teacher(plan_for(items, [6])).routes()
    await run_search(openai_server, items, tmp_path / "t2.jsonl")
    fifth = openai_server.requests[4].json["messages"][0]["content"]
    assert openai_server.requests[4].headers["x-medo1-tag"] == "search.init"
    assert "<previous reasoning>" not in fifth


async def test_trace_keeps_each_reply_and_the_trajectory_is_path_minus_last_verification_plus_reply(
        openai_server, tmp_path):
    items = problems(7)  # attempt 0 fails (calls 1-4); attempt 1: init, refinement, refinement (right)
    teacher = Teacher(plan_for(items, [7]))
    openai_server.handler = teacher.routes()
    out = tmp_path / "t.jsonl"
    await run_search(openai_server, items, out)
    trace = read_jsonl(out, SearchTrace)[0]  # as read back from the file
    replies = [json.loads(text)["CoT"] for text in teacher.replies[items[0].question]]
    recorded = [[{"action": s.action, "title": s.title, "content": s.content} for s in step.cot]
                for step in trace.steps]
    assert recorded == replies  # each step records exactly what the teacher replied
    init, first, second = (s.cot for s in trace.successful_path())
    expected = init[:-1] + first[:-1] + second
    assert trace.trajectory == expected
    # the file itself holds that trajectory (a reader of traces.jsonl needs no medo1 to see it)
    written = json.loads(out.read_text().splitlines()[0])["trajectory"]
    assert written == [s.model_dump(mode="json") for s in expected]
    actions = [s.action for s in expected]
    assert actions == ["Inner Thinking"] * 2 + ["Final Conclusion", "Verification"] + ["Inner Thinking"] * 2 \
        + ["Final Conclusion", "Verification"] + ["Inner Thinking"] * 2 + ["Final Conclusion", "Verification"]
    assert expected[-2].content == f"The answer is {RIGHT.lower()}."
    assert all(s.attempt == 1 for s in trace.successful_path())  # nothing of the failed attempt
    assert not any("call 1]" in s.content or "call 4]" in s.content for s in expected)


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


async def test_refinement_in_the_old_shape_is_reasked_naming_the_expected_shape(openai_server, tmp_path):
    items = problems(2)
    teacher = Teacher(plan_for(items, [2]))
    fixed = Teacher(plan_for(items, [1]))  # answers the re-ask, in the paper's shape, with the right answer
    old = Teacher({}, old_shape=True)

    def handler(body: dict, headers: dict) -> str:
        if headers["x-medo1-tag"] == "search.init":
            return teacher(body, headers)
        return old(body, headers) if len(body["messages"]) == 1 else fixed(body, headers)

    openai_server.handler = handler
    out = tmp_path / "t.jsonl"
    summary = await run_search(openai_server, items, out)
    assert summary.found == 1
    first, again = openai_server.requests[1:]
    assert first.tag == again.tag != "search.init"
    fix = again.json["messages"]
    assert [m["role"] for m in fix] == ["user", "assistant", "user"] and fix[0] == first.json["messages"][0]
    assert fix[1]["content"] == old.replies[items[0].question][0]  # the old-shape reply, shown back
    assert 'must start with a "Verification" step, got "Inner Thinking"' in fix[2]["content"]
    assert ('expected one "Verification" step that says why the previous conclusion is wrong, then one or more '
            '"Inner Thinking" steps, then one "Final Conclusion", then one "Verification"') in fix[2]["content"]
    trace = read_jsonl(out, SearchTrace)[0]
    assert trace.meta["teacher_calls"] == 3 and trace.steps[1].cot[0].action == "Verification"

    # a teacher that keeps to the old shape: each refinement is re-asked, then the problem is recorded as failed
    openai_server.reset()
    openai_server.handler = by_tag({"search.init": Teacher({})}, default=Teacher({}, old_shape=True))
    out = tmp_path / "t2.jsonl"
    summary = await run_search(openai_server, items, out, SearchConfig(retries=1))
    assert summary.failed == 1
    reason = json.loads(failed_path(out).read_text())["reason"]
    assert "after 2 tries" in reason and 'must start with a "Verification"' in reason


async def test_label_hint_round_continues_the_last_path(openai_server, tmp_path):
    items = problems(3)  # never right before the hint: one attempt (init + 1 refinement), then the hint round
    teacher = Teacher(plan_for(items, [3]))
    openai_server.handler = teacher.routes()
    out = tmp_path / "t.jsonl"
    cfg = SearchConfig(max_attempts=1, max_depth=1, label_hint=True)
    summary = await run_search(openai_server, items, out, cfg)
    assert summary.label_hint == 1
    trace = read_jsonl(out, SearchTrace)[0]
    init, first, hint = (s.cot for s in trace.steps)
    prompt = openai_server.requests[2].json["messages"][0]["content"]
    assert openai_server.requests[2].tag == "search.label_hint" and RIGHT in prompt
    shown = [CoTStep(**s) for s in previous_of(prompt)]
    assert shown == init[:-1] + first[:-1]
    assert hint[0].action == "Verification" and trace.trajectory == init[:-1] + first[:-1] + hint


def test_grammar_schemas_spell_out_each_shape():
    import jsonschema

    from medo1.reasoning.cot import (
        COT_SCHEMA,
        GRAMMAR_COT_SCHEMA,
        GRAMMAR_REFINEMENT_SCHEMA,
        REFINEMENT_SCHEMA,
        grammar_cot_schema,
    )

    def reply(*actions: str, conclusion: str = "Vitamin B12 deficiency") -> dict:
        content = {"Final Conclusion": conclusion}
        return {"CoT": [{"action": a, "title": "A title", "content": content.get(a, f"Some text about {a}.")}
                        for a in actions]}

    def valid(schema: dict, value: dict) -> bool:
        return jsonschema.Draft202012Validator(schema).is_valid(value)

    V, T, F = "Verification", "Inner Thinking", "Final Conclusion"
    for k in range(1, 5):
        assert valid(GRAMMAR_REFINEMENT_SCHEMA, reply(V, *[T] * k, F, V))
        assert valid(GRAMMAR_COT_SCHEMA, reply(*[T] * k, F, V))
        assert valid(REFINEMENT_SCHEMA, reply(V, *[T] * k, F, V))  # the portable one does not contradict it
        assert valid(COT_SCHEMA, reply(*[T] * k, F, V))
    for wrong in [(T, F, V), (V, F, V), (V, V, T, F, V), (V, T, F, V, T), (V, T, V, F), (V, T, F), (T, V, F, V)]:
        assert not valid(GRAMMAR_REFINEMENT_SCHEMA, reply(*wrong)), wrong
    assert not valid(GRAMMAR_COT_SCHEMA, reply(V, T, F, V))  # the initial CoT keeps its shape
    assert not valid(REFINEMENT_SCHEMA, reply(T, F, V))
    # the label-hint round: the refinement shape with the reference as the Final Conclusion
    hinted = grammar_cot_schema("Vitamin B12 deficiency", refinement=True)
    assert valid(hinted, reply(V, T, T, F, V))
    assert not valid(hinted, reply(V, T, F, V, conclusion="Folate deficiency"))
    assert not valid(hinted, reply(T, F, V))
    # and what the schema lets through, the parser accepts
    assert parse_refinement(json.dumps(reply(V, T, T, F, V)))[0].action == V


def test_grammar_schemas_fit_the_token_budget():
    # a grammar-held reply must end within max_tokens: a cut-off reply is invalid JSON and its call is wasted
    import jsonschema

    from medo1.reasoning.cot import CHARS_PER_TOKEN, STEP_CHARS, grammar_cot_schema

    for max_tokens in (256, 320, 512):
        for refinement in (False, True):
            shapes = grammar_cot_schema(refinement=refinement, max_tokens=max_tokens)["properties"]["CoT"]["anyOf"]
            assert shapes and len(shapes[0]["prefixItems"]) == 3 + refinement  # one Inner Thinking step always fits
            for shape in shapes:
                steps = shape["prefixItems"]
                longest = sum(st["properties"]["content"]["maxLength"] + STEP_CHARS for st in steps)
                assert longest <= max_tokens * CHARS_PER_TOKEN, (max_tokens, refinement, len(steps))
                assert all(st["properties"]["title"]["maxLength"] + 60 <= STEP_CHARS for st in steps)
    # a generous budget keeps every shape; a small one drops those whose steps would be too short to say anything
    assert len(grammar_cot_schema(max_tokens=4096)["properties"]["CoT"]["anyOf"]) == 4
    assert len(grammar_cot_schema(max_tokens=256)["properties"]["CoT"]["anyOf"]) == 2
    long_step = {"CoT": [{"action": "Inner Thinking", "title": "Work", "content": "x" * 200},
                         {"action": "Final Conclusion", "title": "Conclusion", "content": "B12"},
                         {"action": "Verification", "title": "Check", "content": "It holds for this patient."}]}
    assert jsonschema.Draft202012Validator(grammar_cot_schema(max_tokens=4096)).is_valid(long_step)
    assert not jsonschema.Draft202012Validator(grammar_cot_schema(max_tokens=256)).is_valid(long_step)


def test_llama_cpp_builds_an_exact_grammar_for_each_shape():
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")

    from medo1.reasoning.cot import GRAMMAR_COT_SCHEMA, GRAMMAR_REFINEMENT_SCHEMA, grammar_cot_schema

    for schema in (GRAMMAR_COT_SCHEMA, GRAMMAR_REFINEMENT_SCHEMA, grammar_cot_schema("B12", refinement=True),
                   grammar_cot_schema("B12", refinement=True, max_tokens=256), grammar_cot_schema(max_tokens=320)):
        rules = llama_grammar.json_schema_to_gbnf(json.dumps(schema))  # raises on what it cannot convert
        assert "tuple-0" in rules and "Verification" in rules and "Final Conclusion" in rules
        llama_grammar.LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)  # what the backend builds
    # the refinement tuples start with a Verification step, the initial ones with Inner Thinking
    refine = llama_grammar.json_schema_to_gbnf(json.dumps(GRAMMAR_REFINEMENT_SCHEMA))
    first = re.search(r"^CoT-0-tuple-0-action ::= (.*)$", refine, re.MULTILINE)
    assert first and "Verification" in first.group(1)
    init = llama_grammar.json_schema_to_gbnf(json.dumps(GRAMMAR_COT_SCHEMA))
    assert "Inner Thinking" in re.search(r"^CoT-0-tuple-0-action ::= (.*)$", init, re.MULTILINE).group(1)


def test_traces_written_before_the_refinement_shape_still_read_back(tmp_path):
    # a trace as earlier versions wrote it: the refinement has no leading Verification and was
    # appended after the whole previous path; it reads back and its trajectory is what it was
    def steps(*pairs):
        return [{"action": a, "title": None, "content": c} for a, c in pairs]

    init = steps(("Inner Thinking", "Folate fits."), ("Final Conclusion", "Folate deficiency"),
                 ("Verification", "It holds."))
    refined = steps(("Inner Thinking", "Neuropathy points to B12."), ("Final Conclusion", RIGHT),
                    ("Verification", "It holds."))
    row = {"id": "p1", "question": "Q?", "answer": RIGHT, "found": True, "label_hint": False, "seed": 0,
           "problem": None, "meta": {"strategies": ["init", "correction"], "teacher_calls": 2},
           "steps": [{"attempt": 0, "depth": 0, "strategy": "init", "tag": "search.init", "cot": init,
                      "conclusion": "Folate deficiency", "verdict": False,
                      "usage": {"prompt_tokens": 1, "completion_tokens": 1}},
                     {"attempt": 0, "depth": 1, "strategy": "correction", "tag": "search.correction",
                      "cot": refined, "conclusion": RIGHT, "verdict": True,
                      "usage": {"prompt_tokens": 1, "completion_tokens": 1}}]}
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps(row) + "\n")
    trace = read_jsonl(path, SearchTrace)[0]
    assert [s.content for s in trace.trajectory] == [s["content"] for s in init + refined]
    assert SearchTrace(id="x", question="Q", answer="A", found=False).trajectory == []


def _synth_teacher(prompts: list[str]):
    """The rewriting teacher of the synthesis stage: records each `synth.cot` prompt."""

    def rewrite(body: dict, headers: dict) -> str:
        prompts.append(body["messages"][0]["content"])
        return json.dumps({"NaturalReasoning": "Hmm, folate first.\nWait, the neuropathy rules it out.\n"
                                               f"So it is {RIGHT.lower()}."})

    return {"synth.cot": rewrite, "synth.response": lambda b, h: f"The most likely cause is {RIGHT.lower()}."}


async def test_synthesis_rewrites_the_trajectory(openai_server, tmp_path):
    from medo1.reasoning.cot import cot_text
    from medo1.reasoning.synthesize import SynthConfig, synthesize

    items = problems(3)
    rewrites: list[str] = []
    openai_server.handler = by_tag({**_synth_teacher(rewrites)}, default=Teacher(plan_for(items, [3])).routes())
    out = tmp_path / "traces.jsonl"
    await run_search(openai_server, items, out)
    trace = read_jsonl(out, SearchTrace)[0]
    init, first, second = (s.cot for s in trace.steps)
    model = client(openai_server)
    try:
        summary = await synthesize([trace], tmp_path / "sft.jsonl", SynthConfig(), teacher=model, concurrency=2,
                                   progress=False)
    finally:
        await model.aclose()
    assert summary.written == 1 and len(rewrites) == 1
    shown = re.search(r"<reasoning steps>\n(.*?)\n</reasoning steps>", rewrites[0], re.DOTALL).group(1)
    assert shown == cot_text(init[:-1] + first[:-1] + second)
    # the rejections stay in, in order; the superseded "it holds" checks are gone
    assert shown.index(init[-2].content) < shown.index(first[0].content) < shown.index(second[0].content)
    assert init[-1].content not in shown and first[-1].content not in shown and second[-1].content in shown


def test_teacher_budgets_default_to_the_papers_8192(openai_server, tmp_path):
    from typer.testing import CliRunner

    from medo1.cli import app
    from medo1.reasoning.synthesize import SynthConfig
    from medo1.recipe import load_recipe

    assert SearchConfig().max_tokens == 8192 and SynthConfig().max_tokens == 8192
    paper = load_recipe("paper-8b", check_files=False)
    assert paper.search.max_tokens == paper.synthesize.max_tokens == 8192
    demo, quick = load_recipe("demo"), load_recipe("demo", quick=True)  # the offline demo keeps small budgets
    assert (demo.search.max_tokens, demo.synthesize.max_tokens) == (320, 320)
    assert (quick.search.max_tokens, quick.synthesize.max_tokens) == (256, 256)

    # what the commands send when no budget is given
    items = problems(2)
    openai_server.handler = by_tag(_synth_teacher([]), default=Teacher(plan_for(items, [2])).routes())
    problems_path, traces, sft = tmp_path / "problems.jsonl", tmp_path / "traces.jsonl", tmp_path / "sft.jsonl"
    problems_path.write_text("".join(p.model_dump_json() + "\n" for p in items))
    spec = f"openai:teacher@{openai_server.url}"
    for args in (["search", "--problems", str(problems_path), "--out", str(traces)],
                 ["synthesize", "--traces", str(traces), "--out", str(sft)]):
        result = CliRunner().invoke(app, [*args, "--teacher", spec, "--no-cache"])
        assert result.exit_code == 0, result.output
    sent = {(r.tag, r.json["max_tokens"]) for r in openai_server.requests}
    assert {tag for tag, _ in sent} >= {"search.init", "synth.cot", "synth.response"}
    assert {budget for _, budget in sent} == {8192}


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
    with pytest.raises(ReplyError, match=re.escape(problem)) as err:
        parse_cot(reply)
    if "step" in problem:  # a wrong shape: the message says which shape is expected
        assert 'expected one or more "Inner Thinking" steps, then one "Final Conclusion", then one "Verification"' \
            in str(err.value)


def _steps(*actions: str) -> str:
    return json.dumps({"CoT": [{"action": a, "title": "t", "content": f"{a} text"} for a in actions]})


@pytest.mark.parametrize("actions, problem", [
    (("Inner Thinking", "Final Conclusion", "Verification"), "at least 4 steps, got 3"),
    (("Inner Thinking", "Inner Thinking", "Final Conclusion", "Verification"),
     'must start with a "Verification" step, got "Inner Thinking"'),
    (("Verification", "Final Conclusion", "Inner Thinking", "Verification"), 'before the last must be "Final'),
    (("Verification", "Verification", "Inner Thinking", "Final Conclusion", "Verification"),
     'step 2 is "Verification": only "Inner Thinking" steps'),
    (("Verification", "Inner Thinking", "Final Conclusion", "Verification", "Inner Thinking"),
     'last step must be "Verification"'),
])
def test_refinement_must_open_with_a_verification(actions, problem):
    with pytest.raises(ReplyError, match=re.escape(problem)) as err:
        parse_refinement(_steps(*actions))
    assert 'expected one "Verification" step that says why the previous conclusion is wrong' in str(err.value)


def test_each_turn_accepts_its_own_shape():
    refinement = _steps("Verification", "Inner Thinking", "Inner Thinking", "Final Conclusion", "Verification")
    assert [s.action for s in parse_refinement(refinement)][:2] == ["Verification", "Inner Thinking"]
    with pytest.raises(ReplyError, match='only "Inner Thinking" steps may come before'):
        parse_cot(refinement)  # the initial CoT keeps its shape


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
    assert len(names) == 21
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
    items = problems(2)
    openai_server.handler = Teacher(plan_for(items, [2])).routes()
    summary = await run_search(openai_server, items, tmp_path / "b.jsonl", SearchConfig(lang="zh"))
    init, refinement = (r.json["messages"][0]["content"] for r in openai_server.requests)
    assert "请先一步一步推理" in init and summary.found == 1
    assert "先写一个 Verification 步骤" in refinement and '1. "Verification"：第一步' in refinement
