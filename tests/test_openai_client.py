"""OpenAIChatModel against a real OpenAI-compatible server on 127.0.0.1 (tests/openai_server.py)."""

import asyncio
import email.utils
import logging
import time

import openai
import pytest

from medo1.errors import Medo1Error, ModelError
from medo1.llm import load_model
from medo1.llm.openai import OpenAIChatModel, RetryPolicy
from tests.openai_server import Reply, by_last_user, by_tag, fixed

FAST = RetryPolicy(max_retries=3, initial_delay=0.01, max_delay=0.05)
USER = [{"role": "user", "content": "What is the first-line drug for stable angina?"}]
SECRET = "sk-medo1-test-5ecret-9f8e7d6c5b4a"


def make(server, **kw) -> OpenAIChatModel:
    kw.setdefault("retry", FAST)
    return OpenAIChatModel("test-model", base_url=server.url, **kw)


def gaps(server) -> list[float]:
    times = [r.time for r in server.requests]
    return [b - a for a, b in zip(times, times[1:])]


async def test_chat_sends_the_request_and_reads_the_reply(openai_server):
    openai_server.handler = fixed(Reply("Beta blockers.", finish_reason="length",
                                        usage={"prompt_tokens": 11, "completion_tokens": 3}))
    model = make(openai_server)
    completion = await model.chat(USER, max_tokens=77, temperature=0.5, seed=13, tag="search.init")
    await model.aclose()

    assert (completion.text, completion.finish_reason, completion.cached) == ("Beta blockers.", "length", False)
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 3)
    [request] = openai_server.requests
    assert request.json["model"] == "test-model"
    assert request.json["messages"] == USER
    assert (request.json["max_tokens"], request.json["temperature"], request.json["seed"]) == (77, 0.5, 13)
    assert "response_format" not in request.json
    assert request.headers["x-medo1-tag"] == "search.init"
    assert not any(name.startswith("x-stainless") for name in request.headers)


async def test_seed_is_left_out_when_none(openai_server):
    model = make(openai_server)
    await model.chat(USER)
    await model.aclose()
    assert "seed" not in openai_server.requests[0].json


async def test_json_schema_is_sent_as_strict_response_format(openai_server):
    schema = {"title": "Verifiable problem", "type": "object",
              "properties": {"answer": {"type": "string"}}, "required": ["answer"], "additionalProperties": False}
    openai_server.handler = fixed('{"answer": "B"}')
    model = make(openai_server)
    completion = await model.chat(USER, json_schema=schema, tag="curate.reformat")
    await model.aclose()
    assert completion.text == '{"answer": "B"}'
    assert openai_server.requests[0].json["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Verifiable_problem", "schema": schema, "strict": True},
    }


async def test_usage_and_tags_are_accounted_per_tag(openai_server):
    openai_server.handler = by_tag({
        "verify": fixed(Reply("True", usage={"prompt_tokens": 5, "completion_tokens": 1})),
        "search.init": fixed(Reply("{}", usage={"prompt_tokens": 40, "completion_tokens": 20})),
    })
    model = make(openai_server)
    await asyncio.gather(*[model.chat(USER, tag="verify") for _ in range(3)], model.chat(USER, tag="search.init"))
    await model.aclose()
    usage = model.meter.as_dict()
    assert (usage["verify"]["calls"], usage["verify"]["prompt_tokens"], usage["verify"]["completion_tokens"]) == (3, 15, 3)
    assert (usage["search.init"]["calls"], usage["search.init"]["prompt_tokens"]) == (1, 40)
    assert sorted(openai_server.tags()) == ["search.init", "verify", "verify", "verify"]


async def test_429_waits_as_long_as_retry_after_asks(openai_server):
    openai_server.script(Reply(status=429, retry_after=0.4, error_message="rate limited"), "ok")
    model = make(openai_server)
    started = time.monotonic()
    assert (await model.chat(USER, tag="verify")).text == "ok"
    await model.aclose()
    assert openai_server.count == 2
    assert 0.4 <= gaps(openai_server)[0] < 0.4 + 1.0  # honoured, not the 0.01 s backoff
    assert time.monotonic() - started >= 0.4
    assert (model.meter.by_tag["verify"].errors, model.meter.by_tag["verify"].calls) == (1, 1)


async def test_retry_after_ms_and_http_date_are_honoured(openai_server):
    replies = iter([
        lambda: Reply(status=503, retry_after_ms=250),
        # An HTTP date, made when the request arrives; whole seconds, so the wait is 1..2 s.
        lambda: Reply(status=429, retry_after=email.utils.formatdate(time.time() + 2, usegmt=True)),
        lambda: "ok",
    ])
    openai_server.handler = lambda body, headers: next(replies)()
    model = make(openai_server)
    assert (await model.chat(USER)).text == "ok"
    await model.aclose()
    first, second = gaps(openai_server)
    assert 0.25 <= first < 1.0
    assert 0.9 <= second < 3.0


async def test_500_then_success(openai_server):
    openai_server.script(Reply(status=500), Reply(status=502), "recovered")
    model = make(openai_server)
    assert (await model.chat(USER, tag="synth.cot")).text == "recovered"
    await model.aclose()
    assert openai_server.count == 3
    assert model.meter.by_tag["synth.cot"].errors == 2


async def test_dropped_connection_then_success(openai_server):
    openai_server.script(Reply(drop=True), "after the drop")
    model = make(openai_server)
    assert (await model.chat(USER)).text == "after the drop"
    await model.aclose()
    assert openai_server.count == 2


async def test_slow_reply_past_the_timeout_then_success(openai_server):
    openai_server.script(Reply("too late", latency=2.0), "in time")
    model = make(openai_server, timeout=0.3)
    started = time.monotonic()
    assert (await model.chat(USER)).text == "in time"
    await model.aclose()
    assert 0.3 <= time.monotonic() - started < 1.5
    assert openai_server.count == 2


@pytest.mark.parametrize(
    "bad",
    [Reply(malformed=True), Reply(raw='{"id": "x", "object": "chat.completion"}'), Reply(raw="<html>busy</html>")],
    ids=["truncated", "no-choices", "html"],
)
async def test_unreadable_body_then_success(openai_server, bad):
    openai_server.script(bad, "fine")
    model = make(openai_server)
    assert (await model.chat(USER, tag="eval")).text == "fine"
    await model.aclose()
    assert openai_server.count == 2
    assert model.meter.by_tag["eval"].errors == 1


async def test_other_4xx_fails_at_once_with_one_clear_line(openai_server):
    openai_server.handler = fixed(Reply(status=400, error_message="'max_tokens' is too large:\n 999999"))
    model = make(openai_server)
    with pytest.raises(ModelError) as info:
        await model.chat(USER, tag="curate.filter")
    await model.aclose()
    message = str(info.value)
    assert openai_server.count == 1  # no retries
    assert "\n" not in message
    assert "HTTP 400" in message and "'max_tokens' is too large: 999999" in message
    assert "curate.filter" in message and "test-model" in message
    assert model.meter.by_tag["curate.filter"].errors == 1 and model.meter.by_tag["curate.filter"].calls == 0


async def test_retries_exhausted_gives_a_clear_error(openai_server):
    openai_server.handler = fixed(Reply(status=503, error_message="overloaded"))
    model = make(openai_server, retry=RetryPolicy(max_retries=2, initial_delay=0.01))
    with pytest.raises(ModelError, match=r"\[verify\]: failed 3 times, last: HTTP 503: overloaded"):
        await model.chat(USER, tag="verify")
    await model.aclose()
    assert openai_server.count == 3
    assert model.meter.by_tag["verify"].errors == 3


async def test_max_retries_argument_sets_the_policy(openai_server):
    openai_server.handler = fixed(Reply(drop=True))
    model = OpenAIChatModel("test-model", base_url=openai_server.url, max_retries=0)
    with pytest.raises(ModelError, match="failed 1 times, last: connection failed"):
        await model.chat(USER)
    await model.aclose()
    assert openai_server.count == 1


def test_backoff_grows_exponentially_with_full_jitter():
    policy = RetryPolicy(initial_delay=0.1, max_delay=1.0, jitter=False)
    assert [policy.delay(n) for n in range(6)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    jittered = RetryPolicy(initial_delay=0.1, max_delay=1.0)
    samples = [jittered.delay(3) for _ in range(200)]
    assert all(0 <= s <= 0.8 for s in samples) and max(samples) - min(samples) > 0.2
    assert jittered.delay(0, retry_after=7.5) == 7.5
    assert RetryPolicy(max_retry_after=2.0).delay(0, retry_after=3600) == 2.0


async def test_concurrency_bound_holds(openai_server):
    openai_server.handler = fixed("ok", latency=0.1)
    model = make(openai_server, concurrency=5)
    results = await asyncio.gather(*[model.chat(USER) for _ in range(40)])
    await model.aclose()
    assert len(results) == 40 and openai_server.count == 40
    assert openai_server.max_in_flight == 5


async def test_handler_helpers_script_a_teacher_and_a_judge(openai_server):
    openai_server.handler = by_tag(
        {"verify": by_last_user(lambda text: "True" if "Answer: B" in text else "False")},
        default=by_last_user(lambda text: f"echo: {text}"),
    )
    model = make(openai_server)
    judge_yes = await model.chat([{"role": "user", "content": "Answer: B"}], tag="verify")
    judge_no = await model.chat([{"role": "user", "content": "Answer: C"}], tag="verify")
    teacher = await model.chat(USER, tag="search.init")
    await model.aclose()
    assert (judge_yes.text, judge_no.text) == ("True", "False")
    assert teacher.text == "echo: " + USER[0]["content"]


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the first loop's session is left unclosed on purpose
async def test_server_helpers_async_handlers_errors_and_models(openai_server):
    async def slow_echo(body, headers):
        await asyncio.sleep(0.01)
        return "async " + body["messages"][-1]["content"]

    def broken(body, headers):
        raise KeyError("options")

    model = make(openai_server, retry=RetryPolicy(max_retries=0))
    openai_server.handler = slow_echo
    assert (await model.chat(USER)).text == "async " + USER[0]["content"]
    openai_server.handler = broken
    with pytest.raises(ModelError, match="HTTP 500: test server handler failed: KeyError"):
        await model.chat(USER)
    assert openai_server.errors == ["KeyError: 'options'"]
    await model.aclose()
    sdk = openai.AsyncOpenAI(base_url=openai_server.url, api_key="unused")
    assert [m.id for m in (await sdk.models.list()).data] == ["test-model"]
    await sdk.close()


def test_one_model_works_across_event_loops(openai_server):
    model = make(openai_server, concurrency=2)
    # e.g. two stages, each in its own asyncio.run, the first one forgetting aclose()
    assert asyncio.run(model.chat(USER)).text == USER[0]["content"]

    async def second_stage():
        results = await asyncio.gather(*[model.chat(USER) for _ in range(4)])
        await model.aclose()
        return results

    assert len(asyncio.run(second_stage())) == 4
    assert openai_server.count == 5


# ---------------------------------------------------------------- keys and URLs


def test_official_api_without_a_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(Medo1Error, match="OPENAI_API_KEY"):
        OpenAIChatModel("gpt-4o")


async def test_local_server_without_a_key_gets_a_placeholder(openai_server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = OpenAIChatModel("test-model", base_url=openai_server.url)
    await model.chat(USER)
    await model.aclose()
    assert openai_server.requests[0].headers["authorization"] == "Bearer EMPTY"


async def test_key_and_base_url_come_from_the_environment(openai_server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.url + "/")
    model = load_model("openai:test-model", cache=False)
    assert model.identity() == {"backend": "openai", "base_url": openai_server.url, "model": "test-model"}
    await model.chat(USER)
    await model.aclose()
    assert openai_server.requests[0].headers["authorization"] == f"Bearer {SECRET}"


async def test_load_model_spec_with_base_url(openai_server):
    model = load_model(f"openai:test-model@{openai_server.url}", cache=False, concurrency=3)
    assert isinstance(model, OpenAIChatModel) and model.concurrency == 3
    assert model.name == f"openai:test-model@{openai_server.url}"
    assert (await model.chat(USER)).text == USER[0]["content"]
    await model.aclose()


async def test_the_key_never_leaks_into_logs_errors_or_repr(openai_server, caplog):
    def leaky(body, headers):  # a server that echoes the Authorization header in its errors
        if body["messages"][-1]["content"] == "fail for good":
            return Reply(status=401, error_message=f"invalid key: {headers['authorization']}")
        return Reply(status=500, error_message=f"upstream saw {headers['authorization']}")

    for name in (None, "openai", "httpx2", "httpcore2", "aiohttp", "medo1"):
        caplog.set_level(logging.DEBUG, logger=name)
    openai_server.handler = leaky
    model = make(openai_server, api_key=SECRET, retry=RetryPolicy(max_retries=1, initial_delay=0.01))
    errors = []
    for content in ("retry then fail", "fail for good"):
        with pytest.raises(ModelError) as info:
            await model.chat([{"role": "user", "content": content}], tag="verify")
        errors.append(info.value)
    await model.aclose()

    assert openai_server.requests[0].headers["authorization"] == f"Bearer {SECRET}"  # it was sent...
    assert "HTTP 500" in str(errors[0]) and "HTTP 401: invalid key: Bearer ***" in str(errors[1])
    for error in errors:  # ...and is nowhere else
        assert SECRET not in str(error) and SECRET not in repr(error)
        assert error.__cause__ is None and error.__context__ is None
    assert SECRET not in repr(model) and SECRET not in str(model.identity())
    assert caplog.records  # the loggers were listening
    assert SECRET not in caplog.text
    assert all(SECRET not in str(r.args) for r in caplog.records)
