"""The fakes speak the real wire formats (tests/fakes/*.py against
API_FACTS.md): a fake more lenient than the real service would hide bugs.
Each test talks to one fake over HTTP the way a client would; the last
one checks the real ./jarvis against Telegram's 403 for a blocked bot."""
import json
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import (JarvisProcess, hello_and_crasher_plugin_dir, log_text, start_fake,
                      start_fake_telegram, stop_jarvis, telegram_bot_settings, wait_for,
                      write_config)

TOKEN = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"
XAI_KEY = "xai-FAKES-test-key"


def request(url, body=None, headers=None, method=None):
    """-> (status, headers, body bytes); HTTP errors are answers too."""
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json"} if data is not None else {}
    all_headers.update(headers or {})
    call = urllib.request.Request(url, data=data, headers=all_headers,
                                  method=method or ("POST" if data is not None else "GET"))
    try:
        with urllib.request.urlopen(call, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


# ---- Telegram ----

@pytest.fixture
def telegram(processes):
    return start_fake_telegram(processes)


def bot_api(telegram, method, body=None):
    status, _, raw = request(f"{telegram.base}/bot{TOKEN}/{method}", body or {})
    return status, json.loads(raw)


def test_telegram_errors_use_the_envelope_and_its_status(telegram):
    status, _, raw = request(f"{telegram.base}/bot123:wrong/getMe", {})
    assert (status, json.loads(raw)) == (401, {"ok": False, "error_code": 401,
                                               "description": "Unauthorized"})
    status, body = bot_api(telegram, "noSuchMethod")
    assert (status, body["ok"], body["error_code"]) == (404, False, 404)
    telegram.fault("sendMessage", "429", retry_after=7)
    status, body = bot_api(telegram, "sendMessage", {"chat_id": 1, "text": "x"})
    assert status == 429
    assert body == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                    "parameters": {"retry_after": 7}}


def test_telegram_502_is_an_html_page_not_json(telegram):
    telegram.fault("sendMessage", "502")
    status, headers, raw = request(f"{telegram.base}/bot{TOKEN}/sendMessage",
                                   {"chat_id": 1, "text": "x"})
    assert status == 502
    assert headers["Content-Type"].startswith("text/html")
    assert raw.startswith(b"<html>")


def test_telegram_counts_utf16_units_after_parsing(telegram):
    assert bot_api(telegram, "sendMessage", {"chat_id": 1, "text": "\U0001F600" * 2048})[0] == 200
    status, body = bot_api(telegram, "sendMessage", {"chat_id": 1, "text": "\U0001F600" * 2049})
    assert (status, body["description"]) == (400, "Bad Request: message is too long")
    # tags are not counted, entities count as one character
    tagged = "<b>" + "a" * 4095 + "</b>&amp;"
    assert bot_api(telegram, "sendMessage",
                   {"chat_id": 1, "text": tagged, "parse_mode": "HTML"})[0] == 200
    assert bot_api(telegram, "sendMessage", {"chat_id": 1, "text": " \n "})[0] == 400


@pytest.mark.parametrize("mode,text", [("HTML", "1 < 2"), ("HTML", "<blink>x</blink>"),
                                       ("MarkdownV2", "price 1.5"), ("MarkdownV2", "up!"),
                                       ("Html5", "x")])
def test_telegram_refuses_text_its_parser_rejects(telegram, mode, text):
    status, body = bot_api(telegram, "sendMessage",
                           {"chat_id": 1, "text": text, "parse_mode": mode})
    assert status == 400 and body["description"].startswith("Bad Request: ")
    assert telegram.sent() == []


def test_telegram_marks_only_real_bot_commands(telegram):
    telegram.message(5, "/start@JarvisTestBot go /help")
    telegram.message(5, "/ä not a command")
    telegram.message(5, "/foo-bar")
    _, body = bot_api(telegram, "getUpdates", {"timeout": 0})
    entities = [update["message"].get("entities") for update in body["result"]]
    assert entities[0] == [{"offset": 0, "length": 20, "type": "bot_command"},
                           {"offset": 24, "length": 5, "type": "bot_command"}]
    assert entities[1] is None
    assert entities[2] == [{"offset": 0, "length": 4, "type": "bot_command"}]


def test_telegram_offsets_confirm_and_negative_offsets_forget(telegram):
    ids = telegram.messages([{"chat_id": 5, "text": str(n)} for n in range(4)])
    _, body = bot_api(telegram, "getUpdates", {"offset": ids[1], "timeout": 0})
    assert [u["update_id"] for u in body["result"]] == ids[1:]
    _, body = bot_api(telegram, "getUpdates", {"timeout": 0})  # confirmed ones are gone
    assert [u["update_id"] for u in body["result"]] == ids[1:]
    _, body = bot_api(telegram, "getUpdates", {"offset": -1, "timeout": 0})
    assert [u["update_id"] for u in body["result"]] == ids[-1:]
    _, body = bot_api(telegram, "getUpdates", {"timeout": 0})
    assert [u["update_id"] for u in body["result"]] == ids[-1:]


def test_blocked_chat_is_dropped_and_the_bot_goes_on(workdir, telegram, processes):
    plugin_dir = hello_and_crasher_plugin_dir(workdir)
    config = write_config(workdir, {"bot": telegram_bot_settings(workdir, telegram.base, TOKEN),
                                    "plugins": {"dir": str(plugin_dir),
                                                "enable": "hello, crasher"}})
    bot = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(bot)
    telegram.fault("sendMessage", "403")
    telegram.message(6, "/echo to a user who blocked the bot")
    telegram.message(6, "/echo after")
    assert wait_for(lambda: telegram.sent_texts(6) == ["after"], timeout=20)
    stop_jarvis(bot)
    assert telegram.counters()["calls"]["sendMessage"] == 2  # 403 is final: no retry
    assert "403" in log_text(workdir)


# ---- xAI ----

@pytest.fixture
def xai(processes):
    process, base = start_fake("fake_xai.py", "--key", XAI_KEY)
    processes.append(process)
    return base


def chat_request(**changes):
    body = {"model": "grok-test", "messages": [{"role": "system", "content": "rate"},
                                               {"role": "user", "content": "Token: $SOL"}],
            "temperature": 0, "stream": False,
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "r", "schema": {"type": "object"}}}}
    body.update(changes)
    return body


def test_xai_answers_in_the_openai_shape(xai):
    status, _, raw = request(xai + "/v1/chat/completions", chat_request(),
                             {"Authorization": "Bearer " + XAI_KEY})
    body = json.loads(raw)
    assert status == 200 and body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert set(json.loads(body["choices"][0]["message"]["content"])) == {
        "score", "confidence", "summary"}


def test_xai_key_errors_are_xais(xai):
    status, _, raw = request(xai + "/v1/chat/completions", chat_request())
    assert status == 401 and "error" in json.loads(raw)
    status, _, raw = request(xai + "/v1/chat/completions", chat_request(),
                             {"Authorization": "Bearer xai-wrong-key"})
    body = json.loads(raw)
    assert status == 400
    assert body["code"] == "Client specified an invalid argument"
    assert body["error"].startswith("Incorrect API key provided: xa***ey.")


@pytest.mark.parametrize("changes", [{"messages": []}, {"model": ""},
                                     {"messages": [{"role": "robot", "content": "x"}]},
                                     {"temperature": 3}, {"max_tokens": 0},
                                     {"response_format": {"type": "json_schema"}}])
def test_xai_refuses_requests_outside_its_schema(xai, changes):
    status, _, raw = request(xai + "/v1/chat/completions", chat_request(**changes),
                             {"Authorization": "Bearer " + XAI_KEY})
    assert status == 422
    assert json.loads(raw)["error"].startswith("Failed to deserialize the JSON body")


def test_xai_wants_a_json_body(xai):
    auth = {"Authorization": "Bearer " + XAI_KEY}
    assert request(xai + "/v1/chat/completions", b"{", auth)[0] == 400
    status, _, _ = request(xai + "/v1/chat/completions", json.dumps(chat_request()).encode(),
                           dict(auth, **{"Content-Type": "text/plain"}))
    assert status == 415


# ---- CoinGecko ----

@pytest.fixture
def coingecko(processes):
    process, base = start_fake("fake_coingecko.py")
    processes.append(process)
    return base + "/api/v3"


def test_coingecko_simple_price_adds_only_the_fields_asked_for(coingecko):
    _, _, raw = request(coingecko + "/simple/price?ids=solana,nosuchcoin&vs_currencies=usd")
    assert list(json.loads(raw)) == ["solana"]
    assert list(json.loads(raw)["solana"]) == ["usd"]
    _, _, raw = request(coingecko + "/simple/price?ids=solana&vs_currencies=usd"
                        "&include_24hr_change=true&include_last_updated_at=true")
    assert set(json.loads(raw)["solana"]) == {"usd", "usd_24h_change", "last_updated_at"}


def test_coingecko_market_chart_granularity_and_errors(coingecko):
    _, _, raw = request(coingecko + "/coins/solana/market_chart?vs_currency=usd&days=7")
    body = json.loads(raw)
    assert set(body) == {"prices", "market_caps", "total_volumes"}
    assert len(body["prices"]) == 7 * 24 + 1
    assert body["prices"][1][0] - body["prices"][0][0] == 3600 * 1000  # ms
    _, _, raw = request(coingecko + "/coins/solana/market_chart?vs_currency=usd&days=7"
                        "&interval=daily")
    assert len(json.loads(raw)["prices"]) == 8
    status, _, raw = request(coingecko + "/coins/nosuchcoin/market_chart?vs_currency=usd&days=1")
    assert (status, json.loads(raw)) == (404, {"error": "coin not found"})


def test_coingecko_rate_limit_has_retry_after(coingecko):
    control = coingecko.replace("/api/v3", "/control")
    request(control, {"fail": "rate_limit", "retry_after": 12})
    status, headers, raw = request(coingecko + "/simple/price?ids=solana&vs_currencies=usd")
    assert status == 429 and headers["Retry-After"] == "12"
    assert json.loads(raw)["status"]["error_code"] == 429
