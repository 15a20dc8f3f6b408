"""The product as a user meets it: the real ./jarvis (or JARVIS_OUT's build)
polling tests/fakes/fake_telegram.py with hello, sentiment, grok_weighting
and dexter_finance loaded, Grok answered by fake_xai.py and market data by
fake_coingecko.py. Private questions, group addressing, subscriptions across
a restart, chat mentions counted, single-flight Grok calls across chats, a
rate-limited market, and canary secrets that must never leak anywhere."""
import json
import pathlib
import re
import signal
import subprocess

import pytest

from conftest import (REPO, FakeTelegram, JarvisProcess, built_plugin_dir, fetch_json,
                      log_text, start_fake, wait_for, write_config)

TOKEN = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"
TOKEN_SECRET = "AAcanaryCANARYcanaryCANARYcanary12345"
XAI_KEY = "xai-PRODUCT-canary-5f1e9a7c"
BOT_NAME = "JarvisTestBot"
LEXICON = REPO / "plugins" / "sentiment" / "lexicon.txt"
SAMPLE = REPO / "plugins" / "dexter_finance" / "sample_market.json"
DISCLAIMER = "Not financial advice"
PLUGINS = ("hello", "sentiment", "grok_weighting", "dexter_finance")
SUPERGROUP = -1001234567890  # needs more than 32 bits, as real supergroup ids do

pytestmark = pytest.mark.skipif(
    not all(pathlib.Path(built_plugin_dir(), name + ".so").exists() for name in PLUGINS),
    reason="the four shipped plugins are not all built")


@pytest.fixture
def services(processes):
    telegram, telegram_base = start_fake("fake_telegram.py", "--token", TOKEN,
                                         "--username", BOT_NAME)
    xai, xai_base = start_fake("fake_xai.py", "--key", XAI_KEY)
    market, market_base = start_fake("fake_coingecko.py")
    processes.extend([telegram, xai, market])
    return {"telegram": FakeTelegram(telegram_base), "xai": xai_base, "market": market_base}


def bot_config(workdir, services, sentiment=None, grok=None, bot=None):
    bot_section = {"token": "env:TELEGRAM_BOT_TOKEN", "api_base": services["telegram"].base,
                   "poll_timeout": 2, "workers": 8, "log_level": "debug",
                   "log_file": str(workdir / "jarvis.log"), "backoff_initial_ms": 50,
                   "backoff_max_ms": 400, "send_rate_per_chat": 1000,
                   "send_burst_per_chat": 1000, "send_rate_total": 10000}
    bot_section.update(bot or {})
    sentiment_section = {"lexicon": str(LEXICON)}
    sentiment_section.update(sentiment or {})
    grok_section = {"api_key": "env:XAI_API_KEY", "base_url": services["xai"] + "/v1",
                    "model": "grok-test-model"}
    grok_section.update(grok or {})
    return write_config(workdir, {
        "bot": bot_section,
        "plugins": {"enable": ", ".join(PLUGINS)},
        "sentiment": sentiment_section,
        "grok_weighting": grok_section,
        "dexter_finance": {"provider": "coingecko", "base_url": services["market"] + "/api/v3",
                           "data_file": str(SAMPLE), "timeout_ms": 5000},
    })


class Bot:
    """One running jarvis; stop() checks the exit and collects its output."""

    def __init__(self, workdir, config, processes):
        self.workdir = workdir
        self.process = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL,
                                     env={"TELEGRAM_BOT_TOKEN": TOKEN, "XAI_API_KEY": XAI_KEY})
        processes.append(self.process)
        self.output = ""

    def stop(self):
        self.process.signal(signal.SIGTERM)
        code, out, err = self.process.wait(timeout=30)
        self.output += out + err
        assert code == 0, err + log_text(self.workdir)
        return out, err


def assert_no_secret(workdir, services, *texts):
    """Neither canary may appear in output, the log, the state dir or any
    message the fake Telegram received."""
    sent = json.dumps(services["telegram"].sent())
    for text in texts + (log_text(workdir), sent):
        assert TOKEN_SECRET not in text
        assert XAI_KEY not in text
    for path in pathlib.Path(workdir).rglob("*"):
        if path.is_file() and path.suffix != ".ini":
            data = path.read_bytes()
            assert TOKEN_SECRET.encode() not in data, path
            assert XAI_KEY.encode() not in data, path


def ping_barrier(telegram, chat_id, **extra):
    """Sends /ping and waits for pong: one chat's updates are handled and
    sent in order, so everything sent to the chat before pong is in."""
    before = telegram.texts(chat_id).count("pong")
    telegram.message(chat_id, "/ping", **extra)
    assert wait_for(lambda: telegram.texts(chat_id).count("pong") > before, timeout=20), \
        telegram.texts(chat_id)
    texts = telegram.texts(chat_id)
    last_pong = len(texts) - 1 - texts[::-1].index("pong")
    return texts[:last_pong]


def answers_without_pongs(texts):
    return [text for text in texts if text != "pong"]


# ---- questions ---------------------------------------------------------------

def test_private_question_gets_one_complete_answer(workdir, services, processes):
    telegram = services["telegram"]
    bot = Bot(workdir, bot_config(workdir, services), processes)
    telegram.message(501, "Is SOL bullish right now?", username="alice")
    before_pong = ping_barrier(telegram, 501)
    assert len(before_pong) == 1, before_pong  # dexter answers; nothing else does
    answer = before_pong[0]
    assert re.match(r"SOL outlook: (bullish|bearish|neutral|undecided)[,:]? ", answer), answer
    assert "Components:" in answer and "sentiment.weight" not in answer
    assert "- market momentum: " in answer
    assert "- Grok: " in answer
    assert "Data: CoinGecko; data time " in answer and " UTC" in answer
    assert answer.splitlines()[-1].startswith(DISCLAIMER)
    out, err = bot.stop()
    assert_no_secret(workdir, services, out, err)


def test_group_answers_only_when_addressed(workdir, services, processes):
    telegram = services["telegram"]
    bot = Bot(workdir, bot_config(workdir, services), processes)
    group = {"chat_type": "supergroup", "user_id": 9001}
    telegram.message(SUPERGROUP, "Is SOL bullish right now?", **group)
    telegram.message(SUPERGROUP, "price of BTC?", **group)
    assert ping_barrier(telegram, SUPERGROUP, **group) == []

    telegram.message(SUPERGROUP, f"@{BOT_NAME} is SOL bullish right now?", **group)
    telegram.message(SUPERGROUP, f"/ask@{BOT_NAME} price of BTC", **group)
    telegram.message(SUPERGROUP, "/ask@OtherBot price of ETH", **group)
    telegram.message(SUPERGROUP, "what is the price of ETH?", reply_to_bot=True, **group)
    answers = answers_without_pongs(ping_barrier(telegram, SUPERGROUP, **group))
    assert len(answers) == 3, answers
    assert answers[0].startswith("SOL outlook: ")
    assert answers[1].startswith("BTC") and "$" in answers[1] and "ETH" not in answers[1]
    assert answers[2].startswith("ETH") and "$" in answers[2]
    for answer in answers:
        assert answer.splitlines()[-1].startswith(DISCLAIMER)
    out, err = bot.stop()
    assert_no_secret(workdir, services, out, err)


def test_reply_to_another_user_and_other_update_kinds_are_left_alone(workdir, services,
                                                                     processes):
    telegram = services["telegram"]
    bot = Bot(workdir, bot_config(workdir, services), processes)
    chat = {"id": SUPERGROUP, "type": "supergroup", "title": "Traders"}
    user = {"id": 9002, "is_bot": False, "first_name": "Bob", "language_code": "en"}
    other = {"id": 9003, "is_bot": False, "first_name": "Carol"}
    question = "Is SOL bullish right now?"
    telegram.update({"message": {"message_id": 40, "date": 1700000000, "chat": chat, "from": user,
                                 "text": question,
                                 "reply_to_message": {"message_id": 39, "date": 1700000000,
                                                      "chat": chat, "from": other,
                                                      "text": "SOL?"}}})
    telegram.update({"edited_message": {"message_id": 41, "date": 1700000000,
                                        "edit_date": 1700000005, "chat": chat, "from": user,
                                        "text": f"@{BOT_NAME} {question}"}})
    telegram.update({"channel_post": {"message_id": 42, "date": 1700000000,
                                      "chat": {"id": -1009876543210, "type": "channel",
                                               "title": "News"},
                                      "text": f"@{BOT_NAME} {question}"}})
    telegram.update({"callback_query": {"id": "4382", "from": user, "chat_instance": "-77",
                                        "data": "x"}})
    telegram.update({"my_chat_member": {"chat": chat, "from": user, "date": 1700000000,
                                        "old_chat_member": {"status": "left", "user": user},
                                        "new_chat_member": {"status": "member", "user": user}}})
    telegram.update({"message": {"message_id": 43, "date": 1700000000, "chat": chat, "from": user,
                                 "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1,
                                            "height": 1}],
                                 "caption": f"@{BOT_NAME} {question}"}})
    # a message with no sender (anonymous admin), extra unknown fields, and
    # a mention entity: answered, because it names the bot
    last = telegram.update({"message": {"message_id": 44, "date": 1700000000,
                                        "chat": dict(chat, is_forum=False, future_field=[1]),
                                        "sender_chat": chat, "future_field": {"x": 1},
                                        "text": f"@{BOT_NAME} {question}",
                                        "entities": [{"offset": 0, "length": 14,
                                                      "type": "mention"}]}})
    assert wait_for(lambda: telegram.confirmed(last), timeout=20)
    answers = answers_without_pongs(ping_barrier(telegram, SUPERGROUP, chat_type="supergroup"))
    # the photo's caption names the bot: a caption is text, so it is answered too
    assert len(answers) == 2 and all(a.startswith("SOL outlook: ") for a in answers), answers
    assert telegram.sent(-1009876543210) == []
    out, err = bot.stop()
    log = log_text(workdir)
    assert "skipped:" not in log, log  # nothing above is malformed
    assert_no_secret(workdir, services, out, err)


# ---- subscriptions ----------------------------------------------------------------

REPORT_PREFIX = "<b>Sentiment report</b>"  # the report is HTML


def reports(telegram, chat_id):
    return [t for t in telegram.texts(chat_id) if t.startswith(REPORT_PREFIX)]


def test_subscriptions_report_stop_and_survive_a_restart(workdir, services, processes):
    telegram = services["telegram"]
    config = bot_config(workdir, services, sentiment={"report_interval_ms": 300})
    bot = Bot(workdir, config, processes)
    first, second = 601, SUPERGROUP
    # /subscribe is for a group's admins: the fake's sender (4242) is one
    telegram.call("/control/chat_member", {"chat_id": SUPERGROUP, "user_id": 4242,
                                           "status": "administrator"})
    telegram.message(first, "/subscribe")
    telegram.message(second, f"/subscribe@{BOT_NAME}", chat_type="supergroup")
    assert wait_for(lambda: any(t.startswith("<b>Subscribed:</b> ") for t in telegram.texts(first)))
    assert wait_for(lambda: any(t.startswith("<b>Subscribed:</b> ") for t in telegram.texts(second)))
    assert wait_for(lambda: len(reports(telegram, first)) >= 2, timeout=20)
    assert wait_for(lambda: len(reports(telegram, second)) >= 2, timeout=20)

    telegram.message(first, "/unsubscribe")
    assert wait_for(lambda: any(t.startswith("Unsubscribed") for t in telegram.texts(first)))
    # two more reports in the other chat: a job run started after the
    # unsubscribe has completed, so later counts are final
    seen = len(reports(telegram, second))
    assert wait_for(lambda: len(reports(telegram, second)) >= seen + 2, timeout=20)
    settled = len(reports(telegram, first))
    seen = len(reports(telegram, second))
    assert wait_for(lambda: len(reports(telegram, second)) >= seen + 2, timeout=20)
    assert len(reports(telegram, first)) == settled
    out, err = bot.stop()

    # same state_dir: the second chat is still subscribed, the first is not
    restarted = Bot(workdir, config, processes)
    seen = len(reports(telegram, second))
    assert wait_for(lambda: len(reports(telegram, second)) >= seen + 2, timeout=20)
    assert len(reports(telegram, first)) == settled
    telegram.message(second, "/subscribe", chat_type="supergroup")
    assert wait_for(lambda: any(t.startswith("<b>Already subscribed:</b> ")
                                for t in telegram.texts(second)))
    out2, err2 = restarted.stop()
    assert_no_secret(workdir, services, out, err, out2, err2)


# ---- sentiment from chat ------------------------------------------------------------

def test_mentions_from_several_chats_are_counted(workdir, services, processes):
    telegram = services["telegram"]
    bot = Bot(workdir, bot_config(workdir, services), processes)
    ids = telegram.messages([
        {"chat_id": -700, "chat_type": "group", "user_id": 71, "text": "$SOL to the moon 🚀"},
        {"chat_id": -701, "chat_type": "group", "user_id": 72, "text": "$SOL looks great today!"},
        {"chat_id": -702, "chat_type": "supergroup", "user_id": 73,
         "text": "selling my $SOL, this is a rug"},
        {"chat_id": -702, "chat_type": "supergroup", "user_id": 74, "text": "the weather is nice"},
    ])
    assert wait_for(lambda: telegram.confirmed(ids[-1]), timeout=20)
    assert telegram.sent() == []  # group chatter is recorded, not answered
    telegram.message(503, "/sentiment SOL")
    assert wait_for(lambda: telegram.texts(503), timeout=20)
    (answer,) = telegram.texts(503)
    assert "<b>SOL:</b> chat sentiment <code>" in answer
    assert "from 3 messages in the last 24h." in answer, answer
    out, err = bot.stop()
    assert_no_secret(workdir, services, out, err)


# ---- concurrency ----------------------------------------------------------------------

def test_simultaneous_grok_questions_make_one_xai_call(workdir, services, processes):
    telegram = services["telegram"]
    fetch_json(services["xai"] + "/control/mode",
              {"symbol": "SOL", "mode": "good", "score": 0.35, "confidence": 0.7,
               "summary": "Upbeat posts.", "delay_ms": 600})
    bot = Bot(workdir, bot_config(workdir, services), processes)
    assert wait_for(lambda: telegram.counters()["calls"].get("getUpdates", 0) >= 1)
    chats = list(range(801, 813))
    telegram.messages([{"chat_id": chat, "text": "/grok SOL"} for chat in chats])
    # answered at once ("rating in progress"); that message is then edited
    # into the rating when it arrives (issue 16, with issue 11's edits)
    def rated(chat):
        texts = telegram.texts(chat)
        return len(texts) == 1 and "+0.35" in texts[0]
    assert wait_for(lambda: all(rated(chat) for chat in chats), timeout=30)
    edits = fetch_json(telegram.base + "/control/edits")["edits"]
    assert sorted(edit["chat_id"] for edit in edits) == chats
    assert all(edit["method"] == "editMessageText" for edit in edits)
    for chat in chats:
        (answer,) = telegram.texts(chat)
        assert "+0.35" in answer and "Upbeat posts." in answer, answer
    calls = fetch_json(services["xai"] + "/control/calls")
    assert calls.get("SOL") == 1 and calls.get("_total") == 1, calls
    requests = fetch_json(services["xai"] + "/control/requests")
    assert requests[0]["has_bearer"] and requests[0]["body"]["model"] == "grok-test-model"
    out, err = bot.stop()
    assert_no_secret(workdir, services, out, err)


# ---- market failures ------------------------------------------------------------------

def test_rate_limited_market_is_unavailable_and_not_hammered(workdir, services, processes):
    telegram = services["telegram"]
    fetch_json(services["market"] + "/control", {"fail": "rate_limit", "retry_after": 30})
    bot = Bot(workdir, bot_config(workdir, services), processes)
    telegram.message(504, "Is SOL bullish right now?")
    assert wait_for(lambda: telegram.texts(504), timeout=20)
    telegram.message(504, "price of ETH")
    telegram.message(505, "how did BTC do this week?")
    assert wait_for(lambda: len(telegram.texts(504)) >= 2 and telegram.texts(505), timeout=20)
    first, second = telegram.texts(504)
    assert "market data unavailable (HTTP 429 rate limited, retry in 30 s)" in first, first
    assert "market data unavailable (rate limited by the provider, retry in " in second, second
    assert "market data unavailable (" in telegram.texts(505)[0]
    for answer in (first, second, telegram.texts(505)[0]):
        assert answer.splitlines()[-1].startswith(DISCLAIMER)
    calls = fetch_json(services["market"] + "/control")["calls"]
    # price and chart go out together; the second may already meet the pause. After, nothing
    assert calls["total"] in (1, 2), calls
    out, err = bot.stop()
    assert_no_secret(workdir, services, out, err)
