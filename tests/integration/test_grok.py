"""grok_weighting end to end: the real host in console mode loads the built
plugin, which talks to tests/fakes/fake_xai.py over real HTTP. Checks the
replies for good and bad answers, the cache (fake's call counter), the
no-key and unreachable cases, and that the API key never leaks."""
import os
import socket

import pytest

from conftest import built_plugin_dir, fetch_json, run_console, start_fake, write_config

CANARY = "xai-CANARY-5f3e9d2a71"


@pytest.fixture
def fake():
    process, base = start_fake("fake_xai.py", "--key", CANARY)
    yield base
    process.kill()
    process.wait(timeout=10)


def control(base, path, body=None):
    return fetch_json(base + path, body)


def set_mode(base, **settings):
    return control(base, "/control/mode", settings)


def calls(base):
    return control(base, "/control/calls")


def grok_config(workdir, base_url, plugins="hello, grok_weighting", **grok):
    section = {"api_key": "env:XAI_API_KEY", "base_url": base_url, "model": "grok-test-model"}
    section.update(grok)
    return write_config(workdir, {"bot": {"log_file": str(workdir / "jarvis.log"),
                                          "log_level": "debug"},
                                  "plugins": {"enable": plugins},
                                  "grok_weighting": section})


def run(workdir, config, lines, key=CANARY):
    env = {"XAI_API_KEY": key} if key is not None else None
    result = run_console(config, "".join(line + "\n" for line in lines), env=env)
    log_path = workdir / "jarvis.log"
    log = log_path.read_text() if log_path.exists() else ""
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr), ("log", log)):
        assert CANARY not in text, f"API key leaked into {name}:\n{text}"
    assert result.returncode == 0, result.stderr + log
    return result.stdout, log


def test_grok_shows_the_fake_score(workdir, fake):
    set_mode(fake, symbol="SOL", mode="good", score=0.42, confidence=0.8,
             summary="Upbeat posts about ETF inflows.")
    stdout, log = run(workdir, grok_config(workdir, fake + "/v1"), ["/grok SOL"])
    assert "Grok on SOL: score +0.42, confidence 0.80 (fetched just now)" in stdout
    assert "Upbeat posts about ETF inflows." in stdout
    assert "grok_weighting" in log and "loaded" in log


def test_request_uses_the_real_wire_format(workdir, fake):
    run(workdir, grok_config(workdir, fake + "/v1/"), ["/grok $eth"])
    (request,) = control(fake, "/control/requests")
    assert request["symbol"] == "ETH"
    assert request["has_bearer"] and request["content_type"] == "application/json"
    body = request["body"]
    assert body["model"] == "grok-test-model"
    assert body["temperature"] == 0 and body["stream"] is False
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    schema = body["response_format"]["json_schema"]
    assert body["response_format"]["type"] == "json_schema"
    assert schema["strict"] is True
    assert sorted(schema["schema"]["required"]) == ["confidence", "score", "summary"]


def test_base_url_with_other_prefix(workdir, fake):
    set_mode(fake, symbol="BTC", score=-0.6, confidence=0.9, summary="Fear after the dump.")
    stdout, _ = run(workdir, grok_config(workdir, fake + "/proxy/xai/v1"), ["/grok btc"])
    assert "Grok on BTC: score -0.60, confidence 0.90" in stdout


FAILURES = [
    ("non_json", {}, "invalid answer: content is not JSON"),
    ("prose", {}, "invalid answer: content is not JSON"),
    ("out_of_range", {}, "invalid answer: score 1.7 out of range [-1, 1]"),
    ("missing_field", {}, "invalid answer: missing field 'confidence'"),
    ("wrong_type", {}, "invalid answer: 'score' is not a number"),
    ("empty_choices", {}, "invalid answer: no choices"),
    ("null_content", {}, "invalid answer: no message content"),
    ("not_json_body", {}, "invalid answer: body is not a JSON object"),
    ("error_string", {}, "request refused (HTTP 400): Model not found: grok-test-model"),
    ("error_object", {}, "request refused (HTTP 400): Invalid request: bad schema"),
    ("error_in_200", {}, "error from API: upstream overloaded"),
    ("auth_400", {}, "API key rejected (HTTP 400)"),
    ("rate_limit", {"retry_after": 40}, "rate limited (HTTP 429), retry after 40 s"),
    ("credits", {}, "out of credits or spending limit reached (HTTP 429)"),
    ("server_error", {}, "server error (HTTP 500): Service temporarily unavailable"),
    ("html_502", {}, "server error (HTTP 502)"),
]


@pytest.mark.parametrize("mode,extra,reason", FAILURES, ids=[f[0] for f in FAILURES])
def test_bad_answer_is_unavailable_with_reason(workdir, fake, mode, extra, reason):
    set_mode(fake, symbol="SOL", mode=mode, **extra)
    stdout, log = run(workdir, grok_config(workdir, fake + "/v1"), ["/grok SOL"])
    assert stdout.strip() == f"Grok: unavailable ({reason})"
    assert "score" not in stdout.replace(reason, "")
    assert f"Grok rating for SOL unavailable: {reason}" in log
    assert calls(fake)["SOL"] == 1


def test_wrong_key_is_rejected_and_never_shown(workdir, fake):
    other = "xai-OTHER-KEY-0b7c4e1d"
    stdout, log = run(workdir, grok_config(workdir, fake + "/v1"), ["/grok SOL"], key=other)
    # xAI answers a wrong key with 400 "Incorrect API key provided: ..."
    assert stdout.strip() == "Grok: unavailable (API key rejected (HTTP 400))"
    for text in (stdout, log):
        assert other not in text


def test_timeout_is_unavailable(workdir, fake):
    set_mode(fake, symbol="SOL", mode="slow", delay_ms=3000)
    stdout, _ = run(workdir, grok_config(workdir, fake + "/v1", timeout_ms=300), ["/grok SOL"])
    assert stdout.strip() == "Grok: unavailable (timed out after 300 ms)"


def test_fenced_and_multiline_answers_are_cleaned(workdir, fake):
    set_mode(fake, symbol="SOL", mode="fenced", score=0.1, confidence=0.2, summary="Quiet.")
    set_mode(fake, symbol="ETH", mode="multiline", score=0.3, confidence=0.4)
    stdout, _ = run(workdir, grok_config(workdir, fake + "/v1"), ["/grok SOL", "/grok ETH"])
    assert "Grok on SOL: score +0.10, confidence 0.20 (fetched just now)\nQuiet." in stdout
    assert "Grok on ETH: score +0.30, confidence 0.40 (fetched just now)\n" \
           "First line second line third" in stdout


def test_second_ask_within_ttl_is_cached(workdir, fake):
    set_mode(fake, symbol="SOL", score=0.5, confidence=0.7, summary="Calm.")
    stdout, _ = run(workdir, grok_config(workdir, fake + "/v1"),
                    ["/grok SOL", "/grok sol", "/grok $SOL", "/grok BTC"])
    assert calls(fake) == {"SOL": 1, "BTC": 1, "_total": 2}
    lines = [line for line in stdout.splitlines() if line.startswith("Grok on SOL")]
    assert len(lines) == 3
    assert "(fetched just now)" in lines[0]
    assert all("(cached " in line and "s ago)" in line for line in lines[1:])


def test_failure_is_held_briefly(workdir, fake):
    set_mode(fake, symbol="SOL", mode="server_error")
    stdout, _ = run(workdir, grok_config(workdir, fake + "/v1"), ["/grok SOL", "/grok SOL"])
    assert stdout.count("Grok: unavailable (server error (HTTP 500)") == 2
    assert calls(fake)["SOL"] == 1


def test_rate_limit_pauses_every_symbol(workdir, fake):
    set_mode(fake, symbol="*", mode="credits")
    stdout, _ = run(workdir, grok_config(workdir, fake + "/v1"), ["/grok SOL", "/grok BTC"])
    assert stdout.count("Grok: unavailable (out of credits or spending limit reached "
                        "(HTTP 429))") == 2
    assert calls(fake)["_total"] == 1


def test_no_key_plugin_loads_and_weights_work(workdir, fake):
    stdout, log = run(workdir, grok_config(workdir, fake + "/v1"), ["/grok SOL", "/weights"],
                      key=None)
    assert "Grok: unavailable (no API key configured)" in stdout
    assert "Weights: chat 0.40, grok 0.30, market 0.30." in stdout
    assert "composite = sum(w*c*score) / sum(w*c)" in stdout
    assert "loaded 2 (hello, grok_weighting)" in log
    assert calls(fake) == {}


def test_empty_key_is_no_key(workdir, fake):
    stdout, _ = run(workdir, grok_config(workdir, fake + "/v1"), ["/grok SOL"], key="")
    assert stdout.strip() == "Grok: unavailable (no API key configured)"


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_api(workdir):
    config = grok_config(workdir, f"http://127.0.0.1:{closed_port()}/v1")
    stdout, log = run(workdir, config, ["/grok SOL", "/weights"])
    assert "Grok: unavailable (network error" in stdout
    assert "Weights: chat 0.40" in stdout
    assert "Grok rating for SOL unavailable: network error" in log


def test_configured_weights_and_bad_values(workdir, fake):
    config = grok_config(workdir, fake + "/v1", w_chat=0.5, w_grok=0.25, w_market=-1,
                         chat_full_samples=20)
    stdout, log = run(workdir, config, ["/weights"])
    assert "Weights: chat 0.50, grok 0.25, market 0.00." in stdout
    assert "sqrt(samples/20)" in stdout
    assert "w_market" in log


def test_bad_symbol_and_usage(workdir, fake):
    stdout, _ = run(workdir, grok_config(workdir, fake + "/v1"),
                    ["/grok", "/grok SO-L", "/grok ABCDEFGHIJKLMNOPQ"])
    assert "Usage: /grok <symbol>" in stdout
    assert stdout.count("Grok: unavailable (invalid token symbol)") == 2
    assert calls(fake) == {}


@pytest.mark.skipif(not all(os.path.exists(os.path.join(built_plugin_dir(), name + ".so"))
                            for name in ("sentiment", "dexter_finance")),
                    reason="consumer plugins not built")
def test_loads_next_to_the_consumers(workdir, fake):
    set_mode(fake, symbol="SOL", score=0.3, confidence=0.6, summary="Steady.")
    config = grok_config(workdir, fake + "/v1",
                         plugins="hello, sentiment, grok_weighting, dexter_finance")
    stdout, log = run(workdir, config, ["/grok SOL", "/weights"])
    assert "Grok on SOL: score +0.30" in stdout
    assert "Weights: chat 0.40" in stdout
