"""Drives `commons gateway` with the official `openai` package, as an agent would.

Usage: gateway_client.py BASE_URL STEP. Each step prints one JSON line of what it saw for the
Rust test (node/tests/e2e.rs) to check against the chain; a failed expectation exits non-zero.
"""

import json
import sys

import openai

MODEL = "SmolLM2-135M-Instruct"


def client(base_url):
    # No retries: a retried POST could post and pay for a second job.
    return openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=600)


def receipt_of(completion):
    commons = completion.model_extra.get("commons")
    assert commons, f"no receipt in {completion}"
    return commons


def chat(api):
    listed = [model.id for model in api.models.list()]
    assert MODEL in listed, listed
    completion = api.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=16,
    )
    choice = completion.choices[0]
    assert choice.message.role == "assistant", completion
    assert "Paris" in choice.message.content, completion
    assert choice.finish_reason in ("stop", "length"), completion
    assert completion.usage.completion_tokens == len(receipt_of(completion)["output_tokens"])
    assert completion.usage.prompt_tokens > 0, completion
    return {"models": listed, "text": choice.message.content, "commons": receipt_of(completion)}


def stream(api):
    stages, text, finish, receipt, usage = [], "", None, None, None
    for chunk in api.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=16,
        stream=True,
        stream_options={"include_usage": True},
    ):
        extra = chunk.model_extra or {}
        if chunk.choices:
            choice = chunk.choices[0]
            # No text may arrive before the job has settled: it is not verified before.
            if choice.delta.content:
                assert "settled" in stages, f"text before settlement: {stages}"
                text += choice.delta.content
            if choice.finish_reason:
                finish = choice.finish_reason
                receipt = extra.get("commons")
        elif chunk.usage:
            usage = chunk.usage.completion_tokens
        elif extra.get("commons"):
            stages.append(extra["commons"]["stage"])
    assert stages[0] == "posted" and "assigned" in stages and stages[-1] == "settled", stages
    assert "Paris" in text and finish and receipt, (text, finish, receipt)
    assert usage == len(receipt["output_tokens"]), (usage, receipt)
    return {"stages": stages, "text": text, "commons": receipt}


def conversation(api):
    completion = api.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are a helpful assistant. Answer in one sentence."},
            {"role": "user", "content": "My name is Ada and I live in Rome."},
            {"role": "assistant", "content": "Nice to meet you, Ada!"},
            {"role": "user", "content": "Which city do I live in?"},
        ],
        max_tokens=16,
    )
    text = completion.choices[0].message.content
    # The city comes only from the earlier turn (SmolLM2-135M answers "…la Roma.").
    assert "Rom" in text, completion
    return {"text": text, "prompt_tokens": completion.usage.prompt_tokens,
            "commons": receipt_of(completion)}


def expect_error(kind, status, code, call):
    try:
        call()
    except kind as error:
        assert error.status_code == status, (error.status_code, error.body)
        assert error.body["code"] == code, error.body
        return error.body
    raise AssertionError(f"expected {kind.__name__} {status} {code}")


def unknown_model(api):
    body = expect_error(openai.NotFoundError, 404, "model_not_found", lambda: api.chat.completions.create(
        model="no-such-model", messages=[{"role": "user", "content": "hi"}]))
    bad = expect_error(openai.BadRequestError, 400, "invalid_value", lambda: api.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], top_p=0.5))
    assert bad["param"] == "top_p", bad
    return {"unknown": body, "bad": bad}


def over_budget(api):
    body = expect_error(openai.APIStatusError, 402, "budget_exceeded", lambda: api.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=4))
    assert "nothing was signed" in body["message"], body
    return {"refused": body}


def node_lost(api):
    """A request whose node goes away while its job is followed (the test cuts the node off)."""
    try:
        api.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Write a long story about the sea."}],
            max_tokens=48,
        )
    except openai.APIStatusError as error:
        assert error.status_code == 503, (error.status_code, error.body)
        assert error.body["code"] == "node_unreachable", error.body
        assert isinstance(error.body.get("job"), int), error.body
        assert error.response.headers.get("x-should-retry") == "false"
        return {"lost": error.body}
    raise AssertionError("the request succeeded without its node")


STEPS = {
    "chat": chat,
    "stream": stream,
    "conversation": conversation,
    "unknown_model": unknown_model,
    "over_budget": over_budget,
    "node_lost": node_lost,
}

if __name__ == "__main__":
    base_url, step = sys.argv[1], sys.argv[2]
    print(json.dumps(STEPS[step](client(base_url))), flush=True)
