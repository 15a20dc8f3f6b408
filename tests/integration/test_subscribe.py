"""The sentiment plugin's /subscribe keyboard through the real ./jarvis, the
real sentiment.so and the fake Telegram, exact wire format: the keyboard
JSON under the answer, a press answered (answerCallbackQuery) and the
answer edited in place (editMessageText), forged and stale data, a press
by any member of a group; reports that follow each chat's chosen tokens and
interval; a subscription stored before the buttons still reported after a
restart; and the same keyboard as numbered choices on the console."""
import os
import pathlib
import shutil
import sqlite3
import subprocess
import time

import pytest

from conftest import (REPO, JarvisProcess, built_plugin_dir, start_fake_telegram,
                      telegram_bot_settings, wait_for, write_config)
from conftest import stop_jarvis as stop

TOKEN = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"
LEXICON = REPO / "plugins" / "sentiment" / "lexicon.txt"
TRACKED = "SOL:solana, BTC:bitcoin, ETH:ethereum, DOGE, WIF"
ON = "\u2705 "
HOUR_MS = 3600 * 1000

pytestmark = pytest.mark.skipif(
    not pathlib.Path(built_plugin_dir(), "sentiment.so").exists(), reason="sentiment.so not built")


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes)


def config(workdir, fake, **sentiment):
    directory = pathlib.Path(workdir) / "plugins"
    directory.mkdir(mode=0o700, exist_ok=True)
    for name in ("hello", "sentiment"):
        shutil.copy(os.path.join(built_plugin_dir(), f"{name}.so"), directory / f"{name}.so")
        os.chmod(directory / f"{name}.so", 0o700)
    section = {"lexicon": str(LEXICON), "tokens": TRACKED, "report_tokens": "SOL, BTC, ETH"}
    section.update(sentiment)
    return write_config(workdir, {
        "bot": telegram_bot_settings(workdir, fake.base, TOKEN),
        "plugins": {"dir": str(directory), "enable": "hello, sentiment"},
        "sentiment": section})


def start(path, processes):
    bot = JarvisProcess(["-c", str(path)], stdin=subprocess.DEVNULL)
    processes.append(bot)
    return bot


def button(text, data, on=False):
    return {"text": (ON if on else "") + text, "callback_data": "sentiment:" + data}


def keyboard(interval_ms, on, intervals=(HOUR_MS, 4 * HOUR_MS, 12 * HOUR_MS, 24 * HOUR_MS)):
    """The keyboard the plugin must send: the intervals, then the tracked
    tokens four to a row, the chosen ones marked."""
    def label(ms):
        return f"{ms}ms" if ms % 1000 else f"{ms // HOUR_MS}h"
    rows = [[button(label(ms), f"i:{ms}", ms == interval_ms) for ms in intervals]]
    symbols = ["SOL", "BTC", "ETH", "DOGE", "WIF"]
    tokens = [button(symbol, f"t:{symbol}", symbol in on) for symbol in symbols]
    rows += [tokens[:4], tokens[4:]]
    return {"inline_keyboard": rows}


def press(fake, chat_id, message_id, data, user_id=None, chat_type="private"):
    return fake.call("/control/callback", {
        "chat_id": chat_id, "message_id": message_id, "data": data,
        "user_id": user_id if user_id is not None else chat_id, "chat_type": chat_type})


def answers(fake):
    return fake.call("/control/answers")["answers"]


def edits(fake):
    return fake.call("/control/edits")["edits"]


def settings_text(headline, interval, tokens):
    return (f"<b>{headline}:</b> this chat gets a sentiment report every <code>{interval}</code>.\n"
            f"<b>Tokens:</b> {tokens}\nTap an interval, or a token to switch it on or off.")


def test_presses_edit_the_answer_and_save_the_choice(workdir, fake, processes):
    bot = start(config(workdir, fake), processes)
    fake.message(40, "/subscribe")
    assert wait_for(lambda: len(fake.sent(40)) == 1)
    answer = fake.sent(40)[0]
    assert answer["parse_mode"] == "HTML"
    assert answer["text"] == settings_text("Subscribed", "1h", "SOL, BTC, ETH")
    assert answer["reply_markup"] == keyboard(HOUR_MS, {"SOL", "BTC", "ETH"})
    for row in answer["reply_markup"]["inline_keyboard"]:
        assert all(len(b["callback_data"].encode()) <= 64 for b in row)

    first = press(fake, 40, answer["message_id"], f"sentiment:i:{4 * HOUR_MS}")
    assert wait_for(lambda: len(edits(fake)) == 1)
    edit = edits(fake)[0]
    assert (edit["method"], edit["chat_id"], edit["message_id"]) == \
        ("editMessageText", 40, answer["message_id"])
    assert edit["text"] == settings_text("Subscribed", "4h", "SOL, BTC, ETH")
    assert edit["reply_markup"] == keyboard(4 * HOUR_MS, {"SOL", "BTC", "ETH"})
    assert wait_for(lambda: len(answers(fake)) == 1)
    assert answers(fake)[0]["callback_query_id"] == first["callback_query_id"]
    assert answers(fake)[0]["text"] == "Every 4h."

    press(fake, 40, answer["message_id"], "sentiment:t:SOL")
    press(fake, 40, answer["message_id"], "sentiment:t:WIF")
    assert wait_for(lambda: len(edits(fake)) == 3)
    assert edits(fake)[2]["text"] == settings_text("Subscribed", "4h", "BTC, ETH, WIF")
    assert edits(fake)[2]["reply_markup"] == keyboard(4 * HOUR_MS, {"BTC", "ETH", "WIF"})
    assert [a["text"] for a in answers(fake)[1:3]] == ["SOL off.", "WIF on."]

    # forged or stale: each answered with a short toast, nothing edited or saved
    refused = {f"sentiment:i:{2 * HOUR_MS}": "That interval is not offered any more.",
               "sentiment:t:LINK": "That token is not tracked any more.",
               "sentiment:i:1h": "This button has expired.",
               "sentiment:<b>&amp;": "This button has expired.",
               "sentiment:": "This button has expired."}
    for data in refused:
        press(fake, 40, answer["message_id"], data)
    assert wait_for(lambda: len(answers(fake)) == 3 + len(refused))
    assert [a["text"] for a in answers(fake)[3:]] == list(refused.values())
    assert all(a["show_alert"] is False for a in answers(fake))

    # the choice survives a restart: /subscribe shows it again
    stop(bot)
    bot = start(config(workdir, fake), processes)
    fake.message(40, "/subscribe")
    assert wait_for(lambda: len(fake.sent(40)) == 2)
    again = fake.sent(40)[1]
    assert again["text"] == settings_text("Already subscribed", "4h", "BTC, ETH, WIF")
    assert again["reply_markup"] == keyboard(4 * HOUR_MS, {"BTC", "ETH", "WIF"})
    assert len(edits(fake)) == 3
    assert fake.call("/control/refused")["messages"] == []
    stop(bot)


def test_in_a_group_only_admins_change_the_choice(workdir, fake, processes):
    # /subscribe and its buttons are for a group's admins (JV_COMMAND_GROUP_ADMIN,
    # getChatMember): a member's press changes nothing, another admin's does
    bot = start(config(workdir, fake), processes)
    for user_id, status in ((7, "administrator"), (8, "member"), (9, "creator")):
        fake.call("/control/chat_member", {"chat_id": -100200, "user_id": user_id,
                                           "status": status})
    fake.message(-100200, "/subscribe", chat_type="supergroup", user_id=7)
    assert wait_for(lambda: len(fake.sent(-100200)) == 1)
    answer = fake.sent(-100200)[0]
    press(fake, -100200, answer["message_id"], "sentiment:t:DOGE", user_id=8,
          chat_type="supergroup")
    assert wait_for(lambda: len(answers(fake)) == 1)
    assert answers(fake)[-1]["text"] == "This button is for group admins only."
    assert edits(fake) == []
    press(fake, -100200, answer["message_id"], "sentiment:t:DOGE", user_id=9,
          chat_type="supergroup")
    assert wait_for(lambda: len(edits(fake)) == 1)
    assert edits(fake)[0]["text"] == settings_text("Subscribed", "1h", "SOL, BTC, ETH, DOGE")
    # the last token on stays on
    for symbol in ("SOL", "BTC", "ETH", "DOGE"):
        press(fake, -100200, answer["message_id"], f"sentiment:t:{symbol}", user_id=9,
              chat_type="supergroup")
    assert wait_for(lambda: len(answers(fake)) == 6)
    assert answers(fake)[-1]["text"] == "Keep at least one token on."
    assert edits(fake)[-1]["text"] == settings_text("Subscribed", "1h", "DOGE")
    # unsubscribed, the old keyboard changes nothing
    fake.message(-100200, "/unsubscribe", chat_type="supergroup", user_id=7)
    assert wait_for(lambda: len(fake.sent(-100200)) == 2)
    press(fake, -100200, answer["message_id"], "sentiment:t:SOL", user_id=7,
          chat_type="supergroup")
    assert wait_for(lambda: len(answers(fake)) == 7)
    assert answers(fake)[-1]["text"] == "This chat is not subscribed: send /subscribe."
    assert len(edits(fake)) == 4
    stop(bot)


def reports(fake, chat_id):
    return [m for m in fake.sent(chat_id) if "Sentiment report" in m["text"]]


def test_reports_follow_the_chosen_tokens_and_interval(workdir, fake, processes):
    bot = start(config(workdir, fake, report_interval_ms=300), processes)
    fake.message(41, "$DOGE to the moon, great team")
    fake.message(41, "/subscribe")
    assert wait_for(lambda: len(fake.sent(41)) == 1)
    answer = fake.sent(41)[0]
    assert answer["reply_markup"] == keyboard(
        300, {"SOL", "BTC", "ETH"}, intervals=(300, HOUR_MS, 4 * HOUR_MS, 12 * HOUR_MS, 24 * HOUR_MS))
    assert wait_for(lambda: len(reports(fake, 41)) >= 2)
    first = reports(fake, 41)[0]
    assert first["parse_mode"] == "HTML"
    assert first["text"] == ("<b>Sentiment report:</b> nothing to report; no chat messages "
                             "mentioned SOL, BTC, ETH in the last 24h.")

    for symbol in ("SOL", "BTC", "DOGE"):
        press(fake, 41, answer["message_id"], f"sentiment:t:{symbol}")
    assert wait_for(lambda: len(edits(fake)) == 3)
    assert wait_for(lambda: "DOGE" in reports(fake, 41)[-1]["text"])
    report = reports(fake, 41)[-1]["text"]
    assert report.startswith("<b>Sentiment report</b> (last 24h):\n\n<b>ETH:</b> no chat messages")
    assert "<b>DOGE:</b> chat sentiment <code>+" in report and "from 1 message" in report
    assert "SOL" not in report and "BTC" not in report

    # every hour from now on: the 300 ms reports stop
    press(fake, 41, answer["message_id"], f"sentiment:i:{HOUR_MS}")
    assert wait_for(lambda: len(edits(fake)) == 4)
    settled = len(reports(fake, 41)) + 1  # one may have been on its way
    time.sleep(2.0)  # more than six of the old intervals
    assert len(reports(fake, 41)) <= settled
    assert fake.call("/control/refused")["messages"] == []
    stop(bot)


def test_a_subscription_from_before_the_buttons_is_still_reported(workdir, fake, processes):
    path = config(workdir, fake, report_interval_ms=300)
    bot = start(path, processes)
    fake.message(42, "/ping")  # the state database now exists
    assert wait_for(lambda: fake.sent(42))
    stop(bot)
    # what /subscribe stored before the buttons: the subscription time alone
    database = sqlite3.connect(pathlib.Path(workdir) / "state" / "jarvis.db")
    with database:
        database.execute("INSERT INTO kv (space, key, value) VALUES (?, ?, ?)",
                         ("sentiment", "sub/-4343", b"1700000000000"))
    database.close()

    bot = start(path, processes)
    assert wait_for(lambda: len(reports(fake, -4343)) >= 2)
    assert reports(fake, -4343)[0]["text"] == (
        "<b>Sentiment report:</b> nothing to report; no chat messages mentioned SOL, BTC, ETH "
        "in the last 24h.")
    fake.call("/control/chat_member", {"chat_id": -4343, "user_id": 5, "status": "creator"})
    fake.message(-4343, "/subscribe", chat_type="group", user_id=5)
    assert wait_for(lambda: any(m["reply_markup"] for m in fake.sent(-4343)))
    answer = [m for m in fake.sent(-4343) if m["reply_markup"]][0]
    assert answer["text"] == settings_text("Already subscribed", "300ms", "SOL, BTC, ETH")
    # a press turns the old record into the new one, and the chat keeps its reports
    press(fake, -4343, answer["message_id"], "sentiment:t:WIF", user_id=5, chat_type="group")
    assert wait_for(lambda: "WIF" in reports(fake, -4343)[-1]["text"])
    stop(bot)
    database = sqlite3.connect(pathlib.Path(workdir) / "state" / "jarvis.db")
    (value,) = database.execute("SELECT value FROM kv WHERE space = 'sentiment' AND "
                                "key = 'sub/-4343'").fetchone()
    database.close()
    assert bytes(value).startswith(b"2 ") and bytes(value).endswith(b" 0 SOL,BTC,ETH,WIF")


def read_until(bot, needle, limit=80):
    lines = []
    for _ in range(limit):
        line = bot.process.stdout.readline()
        assert line != "", "jarvis closed stdout; got: %r" % lines
        lines.append(line.rstrip("\n"))
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} not in {lines!r}")


def test_console_shows_the_keyboard_as_numbered_choices(workdir, processes):
    state = pathlib.Path(workdir) / "state"
    path = write_config(workdir, {
        "bot": {"transport": "console", "state_dir": str(state)},
        "plugins": {"enable": "hello, sentiment"},
        "sentiment": {"lexicon": str(LEXICON), "tokens": TRACKED,
                      "report_tokens": "SOL, BTC, ETH"}})
    bot = JarvisProcess(["-c", str(path)])
    processes.append(bot)
    bot.send_line("/subscribe")
    lines = read_until(bot, "[9] WIF")
    assert lines[-6:] == [
        "Subscribed: this chat gets a sentiment report every 1h.",
        "Tokens: SOL, BTC, ETH",
        "Tap an interval, or a token to switch it on or off.",
        f"[1] {ON}1h  [2] 4h  [3] 12h  [4] 24h",
        f"[5] {ON}SOL  [6] {ON}BTC  [7] {ON}ETH  [8] DOGE",
        "[9] WIF"]
    bot.send_line("#3")  # 12h
    lines = read_until(bot, "[9] WIF")
    assert lines[:3] == ["(toast) Every 12h.",
                         "(edited) Subscribed: this chat gets a sentiment report every 12h.",
                         "Tokens: SOL, BTC, ETH"]
    assert lines[4] == f"[1] 1h  [2] 4h  [3] {ON}12h  [4] 24h"
    bot.send_line("#8")  # DOGE, on the edited keyboard
    lines = read_until(bot, "[9] WIF")
    assert lines[:3] == ["(toast) DOGE on.",
                         "(edited) Subscribed: this chat gets a sentiment report every 12h.",
                         "Tokens: SOL, BTC, ETH, DOGE"]
    bot.send_line("#12")
    assert read_until(bot, "no button") == ["(no button [12] to press)"]
    bot.send_line("/subscribe")
    lines = read_until(bot, "[9] WIF")
    assert lines[0] == "Already subscribed: this chat gets a sentiment report every 12h."
    assert lines[1] == "Tokens: SOL, BTC, ETH, DOGE"
    code, _, _ = bot.wait()
    assert code == 0
