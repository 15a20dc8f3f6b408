"""The real plugins (hello, sentiment, grok_weighting, dexter_finance) on
ABI 1.2 through the real ./jarvis and the fake Telegram, exact wire format:
dexter's outlook keyboard, a period press editing the answer in place, the
[Chart] press sending a real PNG, forged and stale dexter data; and user
text full of HTML and Markdown characters echoed by every plugin without a
single 400 from a fake that parses HTML the way Telegram does."""
import base64
import os
import pathlib
import shutil
import struct
import subprocess

import pytest

from conftest import (REPO, JarvisProcess, built_plugin_dir, start_fake_telegram,
                      telegram_bot_settings, wait_for, write_config)
from conftest import stop_jarvis as stop

TOKEN = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"
SAMPLE = REPO / "plugins" / "dexter_finance" / "sample_market.json"
LEXICON = REPO / "plugins" / "sentiment" / "lexicon.txt"
PLUGINS = ("hello", "sentiment", "grok_weighting", "dexter_finance")
NASTY = "<b>&<>*_[]`~|#</i>&amp; \"q\" <a href='x'>"


def built(name):
    return pathlib.Path(built_plugin_dir(), name + ".so").exists()


pytestmark = pytest.mark.skipif(not all(built(name) for name in PLUGINS),
                                reason="not every plugin is built")


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes)


def start(workdir, fake, processes):
    directory = pathlib.Path(workdir) / "plugins"
    directory.mkdir(mode=0o700)
    for name in PLUGINS:
        shutil.copy(os.path.join(built_plugin_dir(), f"{name}.so"), directory / f"{name}.so")
        os.chmod(directory / f"{name}.so", 0o700)
    config = write_config(workdir, {
        "bot": telegram_bot_settings(workdir, fake.base, TOKEN),
        "plugins": {"dir": str(directory), "enable": ", ".join(PLUGINS)},
        "sentiment": {"lexicon": str(LEXICON)},
        "dexter_finance": {"provider": "file", "data_file": str(SAMPLE)}})
    bot = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(bot)
    return bot


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    return struct.unpack(">II", data[16:24])


def keyboard(chart_period, symbol="SOL"):
    return {"inline_keyboard": [[
        {"text": "24h", "callback_data": f"dexter:o:24h:{symbol}"},
        {"text": "7d", "callback_data": f"dexter:o:7d:{symbol}"},
        {"text": "30d", "callback_data": f"dexter:o:30d:{symbol}"},
        {"text": "Chart", "callback_data": f"dexter:c:{chart_period}:{symbol}"}]]}


def press(fake, chat_id, message_id, data):
    return fake.call("/control/callback", {"chat_id": chat_id, "message_id": message_id,
                                           "data": data, "user_id": chat_id})


def answers(fake):
    return fake.call("/control/answers")["answers"]


def test_outlook_buttons_edit_in_place_and_chart(workdir, fake, processes):
    bot = start(workdir, fake, processes)
    fake.message(21, "/ask is SOL bullish right now?")
    assert wait_for(lambda: len(fake.sent(21)) == 1)
    outlook = fake.sent(21)[0]
    assert outlook["text"].startswith("SOL outlook: "), outlook["text"]
    assert outlook["parse_mode"] is None  # plain text: nothing in it can break a parser
    assert outlook["reply_markup"] == keyboard("30d")
    for data in [b["callback_data"] for b in keyboard("30d")["inline_keyboard"][0]]:
        assert len(data.encode()) <= 64

    first = press(fake, 21, outlook["message_id"], "dexter:o:7d:SOL")
    assert wait_for(lambda: len(fake.call("/control/edits")["edits"]) == 1)
    edit = fake.call("/control/edits")["edits"][0]
    assert edit["method"] == "editMessageText"
    assert edit["message_id"] == outlook["message_id"] and edit["chat_id"] == 21
    # the 7-day window's own figure, the same /chart SOL 7d gives from the sample
    assert "Last 7 days: +17.90% from $120.95." in edit["text"].splitlines(), edit["text"]
    assert "(you asked about 7 days)" in edit["text"]
    assert edit["reply_markup"] == keyboard("7d")  # [Chart] now charts the shown window
    assert wait_for(lambda: len(answers(fake)) == 1)
    assert answers(fake)[0]["callback_query_id"] == first["callback_query_id"]
    assert answers(fake)[0]["text"] == "SOL 7d outlook"

    press(fake, 21, outlook["message_id"], "dexter:c:7d:SOL")
    assert wait_for(lambda: len(fake.sent(21)) == 2, timeout=20)
    photo = fake.sent(21)[1]
    assert photo["method"] == "sendPhoto" and photo["file_name"] == "chart.png"
    assert photo["text"].startswith("SOL (Solana), 7d: $142.60, +17.90% from $120.95."), \
        photo["text"]
    width, height = png_size(base64.b64decode(photo["file"]))
    assert width >= 800 and height >= 450, (width, height)

    # forged and stale: a window the buttons never offer, a token not configured
    for data in ("dexter:o:5y:SOL", "dexter:o:7d:NOPE", "dexter:x:7d:SOL", "dexter:"):
        press(fake, 21, outlook["message_id"], data)
    assert wait_for(lambda: len(answers(fake)) == 6)
    assert [a["text"] for a in answers(fake)[2:]] == ["This button has expired."] * 4
    assert len(fake.call("/control/edits")["edits"]) == 1 and len(fake.sent(21)) == 2
    stop(bot)


def test_chart_command_sends_a_real_png(workdir, fake, processes):
    bot = start(workdir, fake, processes)
    fake.message(22, "/chart btc 30d")
    assert wait_for(lambda: len(fake.sent(22)) == 1, timeout=20)
    photo = fake.sent(22)[0]
    assert photo["method"] == "sendPhoto"
    assert photo["text"].startswith("BTC (Bitcoin), 30d: "), photo["text"]
    assert png_size(base64.b64decode(photo["file"])) >= (800, 450)
    stop(bot)


# Every command that puts the user's words back into its answer.
ECHOING = [
    "/echo " + NASTY,
    "/sentiment great " + NASTY + " awful",
    "/sentiment " + NASTY,
    "/sentiment $X<b>&",
    "/sentiment $X<zzz>",
    "/sentiment good<i>",
    "/ask is $X" + NASTY + " bullish?",
    "/ask price of SOLL " + NASTY,
    "/ask " + NASTY,
    "/chart " + NASTY,
    "/chart SOLL" + NASTY,
    "/chart SOL " + NASTY,
    "/grok " + NASTY,
    "/weights " + NASTY,
    "/subscribe " + NASTY,
]


def test_user_text_never_breaks_a_reply(workdir, fake, processes):
    bot = start(workdir, fake, processes)
    for chat, text in enumerate(ECHOING, start=100):
        fake.message(chat, text)
    chats = range(100, 100 + len(ECHOING))
    assert wait_for(lambda: all(fake.sent(chat) for chat in chats), timeout=30), \
        [(text, fake.sent(chat)) for chat, text in zip(chats, ECHOING)]
    assert fake.call("/control/refused")["messages"] == []
    calls = fake.counters()["calls"]
    for chat, text in zip(chats, ECHOING):
        for message in fake.sent(chat):
            assert message["text"], (text, message)
    # the words come back as the user wrote them (escaped where HTML)
    echo = fake.sent(100)[0]
    shown = echo["text"] if echo["parse_mode"] != "HTML" else \
        echo["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"') \
        .replace("&amp;", "&")
    assert NASTY in shown, echo
    stop(bot)
    assert calls.get("sendMessage", 0) >= len(ECHOING)


def test_sentiment_answers_in_light_html(workdir, fake, processes):
    bot = start(workdir, fake, processes)
    fake.message(30, "/sentiment what a <great> & awful day")
    fake.message(31, "/sentiment SOL")
    fake.message(32, "/sentiment $XY<b>&")
    assert wait_for(lambda: all(fake.sent(chat) for chat in (30, 31, 32)), timeout=20)
    assert fake.call("/control/refused")["messages"] == []
    score, token, unknown = fake.sent(30)[0], fake.sent(31)[0], fake.sent(32)[0]
    assert all(m["parse_mode"] == "HTML" for m in (score, token, unknown))
    assert score["text"].startswith("<b>Sentiment:</b> <code>"), score["text"]
    assert "<b>Driven by:</b>" in score["text"] and "<code>+" in score["text"]
    assert token["text"].startswith("<b>SOL:</b> no chat messages mentioned it"), token["text"]
    assert unknown["text"].startswith("$XY&lt;b&gt;&amp; is not a token I track."), unknown["text"]
    assert unknown["text"].endswith("/sentiment &lt;text&gt;.")
    stop(bot)
