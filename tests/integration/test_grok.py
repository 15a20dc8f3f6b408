"""grok_weighting end to end: the real jarvis polls tests/fakes/fake_telegram.py
and loads the built plugin, which rates tokens in the background through the
Responses API of tests/fakes/fake_xai.py over real HTTP. Checks grounded and
ungrounded answers, the non-blocking reply path, the refresh job's
concurrency, budgets and limits, the cost ledger against the fake's own
counts, a restart, and that the API key never leaks."""
import json
import pathlib

import pytest

from conftest import (REPO, FakeTelegram, JarvisProcess, built_plugin_dir, fetch_json, log_text,
                      start_fake, stop_jarvis, telegram_bot_settings, wait_for, write_config)

CANARY = "xai-CANARY-5f3e9d2a71"
TOKEN = "123456789:AAgrokGROKgrokGROKgrokGROKgrok12345"
CHAT = 4242
OTHER_CHAT = 4343

pytestmark = pytest.mark.skipif(
    not pathlib.Path(built_plugin_dir(), "grok_weighting.so").exists(),
    reason="grok_weighting.so not built")


@pytest.fixture
def services(processes):
    telegram, telegram_base = start_fake("fake_telegram.py", "--token", TOKEN)
    xai, xai_base = start_fake("fake_xai.py", "--key", CANARY)
    processes.extend([telegram, xai])
    return {"telegram": FakeTelegram(telegram_base), "xai": xai_base}


def set_mode(services, **settings):
    return fetch_json(services["xai"] + "/control/mode", settings)


def xai(services, what):
    return fetch_json(services["xai"] + "/control/" + what)


class Bot:
    def __init__(self, workdir, services, processes, key=CANARY, plugins="hello, grok_weighting",
                 sections=None, **grok):
        section = {"api_key": "env:XAI_API_KEY", "base_url": services["xai"] + "/v1",
                   "model": "grok-test-model"}
        section.update(grok)
        config = write_config(workdir, {
            "bot": telegram_bot_settings(workdir, services["telegram"].base,
                                         "env:TELEGRAM_BOT_TOKEN", workers=4,
                                         admins=CHAT),
            "plugins": {"enable": plugins},
            "grok_weighting": section, **(sections or {})})
        env = {"TELEGRAM_BOT_TOKEN": TOKEN}
        if key is not None:
            env["XAI_API_KEY"] = key
        self.workdir = workdir
        self.telegram = services["telegram"]
        self.process = JarvisProcess(["-c", str(config)], env=env)
        processes.append(self.process)
        assert wait_for(lambda: self.telegram.counters()["calls"].get("getUpdates", 0) >= 1)

    def ask(self, text, chat=CHAT, count=1, timeout=20):
        """Sends text and waits for count new messages in chat; returns them."""
        before = len(self.telegram.texts(chat))
        self.telegram.message(chat, text)
        assert wait_for(lambda: len(self.telegram.texts(chat)) >= before + count,
                        timeout=timeout), self.telegram.texts(chat)
        return self.telegram.texts(chat)[before:]

    def ask_rating(self, text, chat=CHAT, timeout=20):
        """Sends a /grok for a token never rated: one answer "rating in
        progress", then that same message edited into the rating. Returns
        (the first text, the edited text)."""
        before = len(self.telegram.texts(chat))
        edits_before = len(self.telegram.call("/control/edits")["edits"])
        self.ask(text, chat=chat)
        # as sent: a fast rating (a 410 at once) may have edited it already
        first = self.telegram.sent(chat)[before]["first_text"]
        assert IN_PROGRESS in first and "this message shows the rating" in first
        assert wait_for(lambda: IN_PROGRESS not in self.telegram.texts(chat)[before],
                        timeout=timeout), self.telegram.texts(chat)
        edits = self.telegram.call("/control/edits")["edits"][edits_before:]
        assert [edit["method"] for edit in edits] == ["editMessageText"]
        assert len(self.telegram.texts(chat)) == before + 1  # no second message
        return first, self.telegram.texts(chat)[before]

    def stop(self):
        out, err = stop_jarvis(self.process)
        log = log_text(self.workdir)
        sent = json.dumps(self.telegram.sent())
        for name, text in (("stdout", out), ("stderr", err), ("log", log), ("sent", sent)):
            assert CANARY not in text, f"API key leaked into {name}"
        return log


IN_PROGRESS = "rating in progress"


def test_grounded_rating_follows_and_is_then_cached(workdir, services, processes):
    set_mode(services, symbol="SOL", score=0.42, confidence=0.8, posts=23, searches=4,
             summary="Upbeat posts about ETF inflows.")
    bot = Bot(workdir, services, processes)
    first, follow_up = bot.ask_rating("/grok SOL")
    assert first.startswith("Grok on SOL: " + IN_PROGRESS)
    assert follow_up == ("Grok on SOL: score +0.42, confidence 0.80 "
                         "(Grok on X, just now, from 23 posts)\nUpbeat posts about ETF inflows.")
    (cached,) = bot.ask("/grok solana")
    assert cached == follow_up
    assert xai(services, "calls") == {"SOL": 1, "_total": 1}
    (request,) = xai(services, "requests")
    body = request["body"]
    assert body["model"] == "grok-test-model" and "messages" not in body
    assert "search_parameters" not in body
    (tool,) = body["tools"]
    assert tool["type"] == "x_search" and len(tool["from_date"]) == 10
    assert body["text"]["format"]["type"] == "json_schema"
    bot.stop()


@pytest.mark.parametrize("mode", ["no_search", "no_citations", "web_only"])
def test_answer_not_read_from_x_is_refused(workdir, services, processes, mode):
    set_mode(services, symbol="SOL", mode=mode)
    bot = Bot(workdir, services, processes)
    _, follow_up = bot.ask_rating("/grok SOL")
    assert follow_up.startswith("Grok on SOL: unavailable (Grok answered without reading X")
    assert "score" not in follow_up
    bot.stop()


def test_answer_not_read_from_x_is_marked_when_set(workdir, services, processes):
    set_mode(services, symbol="SOL", mode="no_search", score=0.3)
    bot = Bot(workdir, services, processes, ungrounded="mark")
    _, follow_up = bot.ask_rating("/grok SOL")
    assert "score +0.30" in follow_up
    assert "(not from X: Grok did not cite X posts, just now)" in follow_up
    assert "Grok on X" not in follow_up
    bot.stop()


def test_chat_api_mode_is_labelled_not_from_x(workdir, services, processes):
    set_mode(services, symbol="SOL", score=-0.2)
    bot = Bot(workdir, services, processes, api="chat")
    _, follow_up = bot.ask_rating("/grok SOL")
    assert "score -0.20" in follow_up and "(not from X: Grok chat without search" in follow_up
    (request,) = xai(services, "requests")
    assert "messages" in request["body"] and "tools" not in request["body"]
    (weights,) = bot.ask("/weights")
    assert "without search (not from X)" in weights
    bot.stop()


def test_removed_live_search_410_is_reported_and_pauses(workdir, services, processes):
    set_mode(services, symbol="*", mode="gone")
    bot = Bot(workdir, services, processes)
    _, follow_up = bot.ask_rating("/grok SOL")
    assert "API feature removed (HTTP 410)" in follow_up and "api = responses" in follow_up
    assert "Live search is deprecated" in follow_up
    bot.ask_rating("/grok BTC")  # paused: not asked again
    assert xai(services, "calls")["_total"] == 1
    bot.stop()


def test_fake_answers_410_to_search_parameters(services):
    status = None
    try:
        fetch_json(services["xai"] + "/v1/chat/completions",
                   {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                    "search_parameters": {"mode": "on"}})
    except Exception as error:  # urllib raises HTTPError for 410
        status = getattr(error, "code", None)
    assert status == 410


def test_slow_rating_never_delays_other_replies(workdir, services, processes):
    set_mode(services, symbol="SOL", hold=True)  # answered once released below
    bot = Bot(workdir, services, processes)
    (first,) = bot.ask("/grok SOL")
    assert IN_PROGRESS in first
    assert wait_for(lambda: xai(services, "usage")["calls"] == 1)
    assert bot.ask("/ping") == ["pong"]
    assert bot.ask("/ping", chat=OTHER_CHAT) == ["pong"]
    (again,) = bot.ask("/grok SOL", chat=OTHER_CHAT)
    assert IN_PROGRESS in again
    assert xai(services, "usage")["answered"] == 0  # the rating was still running
    fetch_json(services["xai"] + "/control/release", {})
    # both "rating in progress" answers are edited into the rating, no third message
    assert wait_for(lambda: "from 5 posts" in services["telegram"].texts(OTHER_CHAT)[-1],
                    timeout=20), services["telegram"].texts(OTHER_CHAT)
    assert wait_for(lambda: "from 5 posts" in services["telegram"].texts(CHAT)[0])
    assert len(services["telegram"].texts(OTHER_CHAT)) == 2
    assert xai(services, "calls")["SOL"] == 1
    bot.stop()


def test_refresh_job_tracks_tokens_at_most_max_concurrent(workdir, services, processes):
    set_mode(services, symbol="*", delay_ms=600)
    bot = Bot(workdir, services, processes, track="SOL, BTC, ETH, DOGE, FOO",
              max_concurrent=2)
    assert wait_for(lambda: xai(services, "usage")["answered"] == 4, timeout=30)
    usage = xai(services, "usage")
    assert usage["max_in_flight"] == 2
    calls = xai(services, "calls")
    assert {calls[symbol] for symbol in ("SOL", "BTC", "ETH", "DOGE")} == {1}
    (answer,) = bot.ask("/grok ETH")  # already rated: answered at once
    assert answer.startswith("Grok on ETH: score +0.25")
    log = bot.stop()
    assert '"FOO" is not a known token' in log


def test_ledger_matches_the_fake_and_survives_a_restart(workdir, services, processes):
    set_mode(services, symbol="SOL", searches=2, posts=4)
    set_mode(services, symbol="BTC", searches=5, posts=9)
    bot = Bot(workdir, services, processes)
    bot.ask_rating("/grok SOL")
    bot.ask_rating("/grok BTC")
    (usage,) = bot.ask("/grok_usage")
    bot.stop()
    billed = xai(services, "usage")
    assert billed["calls"] == 2 and billed["searches"] == 7
    tokens = billed["input_tokens"] + billed["output_tokens"]
    expected = (f"{billed['calls']} calls, {billed['searches']} searches, {tokens} tokens "
                f"({billed['input_tokens']} in, {billed['output_tokens']} out)")
    assert usage.startswith("Grok usage today (UTC): " + expected)
    assert "This month: " + expected in usage

    bot = Bot(workdir, services, processes)
    (cached,) = bot.ask("/grok SOL")
    assert cached.startswith("Grok on SOL: score +0.25, confidence 0.50 (Grok on X, ")
    assert "from 4 posts" in cached
    (usage_after,) = bot.ask("/grok_usage")
    assert usage_after == usage
    bot.stop()
    assert xai(services, "calls")["_total"] == 2


def test_daily_budget_stops_new_calls(workdir, services, processes):
    bot = Bot(workdir, services, processes, daily_call_budget=1)
    bot.ask_rating("/grok SOL")
    (refused,) = bot.ask("/grok BTC")
    assert refused == ("Grok on BTC: unavailable (Grok's daily budget of 1 calls is used up; "
                       "it resets at 00:00 UTC)")
    (cached,) = bot.ask("/grok SOL")  # a cached rating costs nothing
    assert "from 5 posts" in cached
    bot.stop()
    assert xai(services, "calls")["_total"] == 1


def test_search_budget_and_hourly_budget(workdir, services, processes):
    set_mode(services, symbol="*", searches=3)
    bot = Bot(workdir, services, processes, daily_search_budget=3, hourly_call_budget=5)
    bot.ask_rating("/grok SOL")
    (refused,) = bot.ask("/grok BTC")
    assert "daily budget of 3 X searches is used up" in refused
    bot.stop()
    bot = Bot(workdir, services, processes, hourly_call_budget=1)
    (refused,) = bot.ask("/grok ETH")
    assert "hourly budget of 1 calls is used up; try again next hour" in refused
    bot.stop()


def test_user_and_chat_limits(workdir, services, processes):
    bot = Bot(workdir, services, processes, user_limit_per_hour=1, chat_limit_per_hour=5)
    bot.ask_rating("/grok SOL")
    (limited,) = bot.ask("/grok BTC")
    assert limited.startswith("Grok: you have asked for 1 new ratings this hour, the limit")
    bot.stop()
    assert xai(services, "calls")["_total"] == 1


def test_unknown_tokens_cost_nothing_and_names_map(workdir, services, processes):
    bot = Bot(workdir, services, processes)
    (unknown,) = bot.ask("/grok FOO")
    assert unknown == 'Grok: "FOO" is not a token I know; try a symbol such as SOL, BTC or ETH'
    (usage,) = bot.ask("/grok")
    assert usage == "Usage: /grok <token>, e.g. /grok SOL"
    assert xai(services, "calls") == {}
    bot.ask_rating("/grok solana")
    assert xai(services, "calls") == {"SOL": 1, "_total": 1}
    bot.stop()


def test_no_key_gives_the_fix(workdir, services, processes):
    bot = Bot(workdir, services, processes, key=None)
    (answer,) = bot.ask("/grok SOL")
    assert answer == "Grok unavailable: set XAI_API_KEY (no API key configured)"
    (weights,) = bot.ask("/weights")
    assert "Grok unavailable: set XAI_API_KEY" in weights
    assert "sentiment.weight" not in weights
    bot.stop()
    assert xai(services, "calls") == {}


def test_wrong_key_is_rejected_and_never_shown(workdir, services, processes):
    other = "xai-OTHER-KEY-0b7c4e1d"
    bot = Bot(workdir, services, processes, key=other)
    _, follow_up = bot.ask_rating("/grok SOL")
    assert follow_up == "Grok on SOL: unavailable (API key rejected (HTTP 400))"
    log = bot.stop()
    assert other not in log and other not in json.dumps(services["telegram"].sent())


FAILURES = [
    ("non_json", "invalid answer: content is not JSON"),
    ("out_of_range", "invalid answer: score 1.7 out of range [-1, 1]"),
    ("empty_output", "invalid answer: no output text"),
    ("error_string", "request refused (HTTP 400): Model not found: grok-test-model"),
    ("rate_limit", "rate limited (HTTP 429)"),
    ("credits", "out of credits or spending limit reached (HTTP 429)"),
    ("server_error", "server error (HTTP 500): Service temporarily unavailable"),
    ("html_502", "server error (HTTP 502)"),
]


@pytest.mark.parametrize("mode,reason", FAILURES, ids=[f[0] for f in FAILURES])
def test_bad_answer_is_unavailable_with_reason(workdir, services, processes, mode, reason):
    set_mode(services, symbol="SOL", mode=mode)
    bot = Bot(workdir, services, processes)
    _, follow_up = bot.ask_rating("/grok SOL")
    assert follow_up == f"Grok on SOL: unavailable ({reason})"
    log = bot.stop()
    assert f"Grok rating for SOL unavailable: {reason}" in log


DEXTER = {"plugins": "hello, sentiment, grok_weighting, dexter_finance",
          "sections": {"sentiment": {"lexicon": str(REPO / "plugins/sentiment/lexicon.txt")},
                       "dexter_finance": {"provider": "file", "data_file": str(
                           REPO / "plugins/dexter_finance/sample_market.json")}}}
SUMMARY = "Summary (written by Grok from the facts above): "


@pytest.mark.skipif(not pathlib.Path(built_plugin_dir(), "dexter_finance.so").exists(),
                    reason="dexter_finance.so not built")
def test_narrative_cached_per_facts_and_ledger_split(workdir, services, processes):
    bot = Bot(workdir, services, processes, **DEXTER)
    bot.ask_rating("/grok SOL")
    (first,) = bot.ask("/ask what is the outlook for SOL")
    (second,) = bot.ask("/ask what is the outlook for SOL")
    assert SUMMARY in first and first == second
    calls = xai(services, "calls")
    assert calls["_narrate"] == 1 and calls["SOL"] == 1  # the same facts paid once
    (usage,) = bot.ask("/grok_usage")
    billed = xai(services, "usage")
    assert usage.startswith(f"Grok usage today (UTC): {billed['calls']} calls")
    assert f"Today by use: ratings 1 calls, {billed['searches']} searches," in usage
    assert "narratives (summaries asked through sentiment.weight) 1 calls," in usage
    assert "1 more from the cache since start" in usage
    bot.stop()


@pytest.mark.skipif(not pathlib.Path(built_plugin_dir(), "dexter_finance.so").exists(),
                    reason="dexter_finance.so not built")
def test_narrative_cache_off_pays_each_time(workdir, services, processes):
    bot = Bot(workdir, services, processes, narrative_ttl=0, **DEXTER)
    bot.ask_rating("/grok SOL")
    bot.ask("/ask what is the outlook for SOL")
    bot.ask("/ask what is the outlook for SOL")
    assert xai(services, "calls")["_narrate"] == 2
    bot.stop()


def test_label_rule_read_from_config(workdir, services, processes):
    bot = Bot(workdir, services, processes, label_threshold=0.4, min_chat_samples=12,
              min_market_days=3)
    (weights,) = bot.ask("/weights")
    assert ("Labels: bullish at +0.40 or more, bearish at -0.40 or less, else neutral; "
            "undecided unless half the weight has evidence (12 chat messages, 3 days of "
            "prices, or a Grok rating).") in weights
    bot.stop()
    bot = Bot(workdir, services, processes, label_threshold=1.5)
    (weights,) = bot.ask("/weights")
    assert "bullish at +0.15 or more" in weights and "(5 chat messages, 7 days" in weights
    log = bot.stop()
    assert "label_threshold = 1.5 must be > 0 and < 1; using 0.15" in log


def test_grok_usage_points_admins_to_the_admin_command(workdir, services, processes):
    bot = Bot(workdir, services, processes)
    (pointer,) = bot.ask("/grok usage")
    assert pointer == "Grok's call and cost figures are for admins: /grok_usage"
    (refused,) = bot.ask("/grok_usage", chat=OTHER_CHAT)  # not in [bot] admins
    assert "Grok usage" not in refused
    (figures,) = bot.ask("/grok_usage")
    assert figures.startswith("Grok usage today (UTC): 0 calls")
    bot.stop()
