"""`medo1 chat`, driven through the real CLI app."""

import re

import pytest
from typer.testing import CliRunner

from medo1.chat import chat_model_spec
from medo1.cli import app
from tests.openai_server import Reply, by_last_user, fixed

runner = CliRunner()

FORMATTED = "## Thinking\n\nChest pain and ST elevation, hmm. Wait, that points to an infarct.\n\n" \
            "## Final Response\n\nAcute myocardial infarction."


def test_single_message_on_a_checkpoint_directory(tiny_model_dir):
    result = runner.invoke(app, ["chat", "--model", str(tiny_model_dir), "--message", "hi", "--max-tokens", "5",
                                 "--no-cache"])
    assert result.exit_code == 0, result.output
    assert re.search(r"\d+ prompt \+ 5 completion tokens", result.output)
    assert "cut at --max-tokens" in result.output


def test_turns_from_stdin_keep_the_conversation(tiny_model_dir):
    result = runner.invoke(app, ["chat", "--model", str(tiny_model_dir), "--max-tokens", "3", "--no-cache",
                                 "--system", "Be brief."], input="hi\n\nand again\n")
    assert result.exit_code == 0, result.output
    prompts = [int(n) for n in re.findall(r"(\d+) prompt \+ 3 completion tokens", result.output)]
    assert len(prompts) == 2  # the empty line is not a turn
    assert prompts[1] > prompts[0] + 3  # the second prompt carries the first exchange


def test_thinking_and_final_response_are_shown_apart(openai_server):
    openai_server.handler = fixed(Reply(FORMATTED, usage={"prompt_tokens": 20, "completion_tokens": 25}))
    result = runner.invoke(app, ["chat", "--model", f"openai:judge@{openai_server.url}", "--message",
                                 "Chest pain with ST elevation?", "--no-cache"])
    assert result.exit_code == 0, result.output
    output = result.output
    assert "Thinking" in output and "Final Response" in output
    assert output.index("that points to an infarct") < output.index("Acute myocardial infarction.")
    assert "## Thinking" not in output  # the headers are replaced by the layout
    assert "20 prompt + 25 completion tokens" in output
    request = openai_server.requests[0]
    assert request.tag == "chat" and request.json["temperature"] == 0.0


def test_history_keeps_only_final_responses(openai_server):
    openai_server.handler = by_last_user(lambda text: FORMATTED if "first" in text else "plain answer")
    result = runner.invoke(app, ["chat", "--model", f"openai:judge@{openai_server.url}", "--no-cache",
                                 "--system", "Think first."], input="first question\nsecond question\n")
    assert result.exit_code == 0, result.output
    assert "plain answer" in result.output
    second = openai_server.requests[1].json["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[2]["content"] == "Acute myocardial infarction."


def test_model_argument_forms(tiny_model_dir, tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"")
    assert chat_model_spec(str(tiny_model_dir)) == f"hf:{tiny_model_dir}"
    assert chat_model_spec(str(gguf)) == f"gguf:{gguf}"
    assert chat_model_spec("embedded") == "embedded"
    assert chat_model_spec("openai:gpt-4o") == "openai:gpt-4o"


@pytest.mark.embedded
def test_embedded_model_answers():
    result = runner.invoke(app, ["chat", "--message", "What is the capital of France?", "--max-tokens", "12",
                                 "--no-cache"])
    assert result.exit_code == 0, result.output
    assert re.search(r"\d+ prompt \+ \d+ completion tokens", result.output)
    assert any(c.isalpha() for c in result.output.split("\n")[0])


def test_bad_model_is_a_clear_error():
    result = runner.invoke(app, ["chat", "--model", "no-such-model", "--message", "hi"])
    assert result.exit_code != 0 and "model spec 'no-such-model'" in str(result.exception)
