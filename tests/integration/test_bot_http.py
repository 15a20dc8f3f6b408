"""The Bot API exchange jarvis drives by hand (core/base/http_connection.c)
through the real ./jarvis, against a relay in front of the fake Telegram
that answers in each framing a real server may use: chunked with extensions
and trailers, HTTP/1.0 delimited by the close, Connection: close after each
answer, a kept-alive connection closed after an answer or with a request
unanswered (the next send must reconnect and send once more). Every reply
arrives exactly once and no call fails on the way. An answer broken off
after its first bytes is a failed call, never sent again by the exchange
itself. Also: with an HTTP proxy in the environment the calls go through it
(libcurl's own transfer)."""
import collections
import subprocess

import pytest

from conftest import (JarvisProcess, hello_and_crasher_plugin_dir, log_text, start_fake_telegram,
                      telegram_bot_settings, wait_for, write_config)
from conftest import stop_jarvis as stop
from framing_relay import FramingRelay

TOKEN = "123456789:AAframingFRAMINGframingFRAMING12345"
TOKEN_SECRET = "AAframingFRAMINGframingFRAMING12345"
CHATS = (31, 32, 33)
PER_CHAT = 12


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes, "--token", TOKEN)


@pytest.fixture
def plugin_dir(workdir):
    return hello_and_crasher_plugin_dir(workdir)


def start_bot(workdir, plugin_dir, api_base, processes, env=None):
    settings = telegram_bot_settings(workdir, api_base, TOKEN)
    config = write_config(workdir, {"bot": settings,
                                    "plugins": {"dir": str(plugin_dir),
                                                "enable": "hello, crasher"}})
    bot = JarvisProcess(["-c", str(config)], env=env, stdin=subprocess.DEVNULL)
    processes.append(bot)
    return bot


def exchange_messages(fake):
    """Echoes over a few chats, then a last one per chat as a barrier: a
    chat is answered in order, so a repeated reply shows before "end"."""
    fake.messages([{"chat_id": chat, "text": f"/echo {chat}-{index}"}
                   for index in range(PER_CHAT) for chat in CHATS])
    total = len(CHATS) * PER_CHAT
    assert wait_for(lambda: fake.counters()["sent"] >= total, timeout=30, interval=0.1)
    fake.messages([{"chat_id": chat, "text": "/echo end"} for chat in CHATS])
    assert wait_for(lambda: fake.counters()["sent"] >= total + len(CHATS), timeout=30,
                    interval=0.1)
    for chat in CHATS:
        assert fake.sent_texts(chat) == [f"{chat}-{index}" for index in range(PER_CHAT)] + ["end"]
    assert fake.counters()["sent"] == total + len(CHATS)


def assert_no_failed_call(workdir, out, err):
    log = log_text(workdir)
    for text in (out, err, log):
        assert TOKEN_SECRET not in text
    # a resend inside the exchange is invisible; a call that failed is not
    assert "sendMessage failing" not in log, log
    assert "getUpdates failing" not in log, log
    return log


@pytest.mark.parametrize("mode", ["length", "chunked", "interim", "http10", "close",
                                  "idle_close", "stale"])
def test_every_framing_every_reply_once(workdir, fake, plugin_dir, processes, mode):
    relay = FramingRelay(fake.base, mode)
    try:
        bot = start_bot(workdir, plugin_dir, relay.base, processes)
        exchange_messages(fake)
        out, err = stop(bot)
    finally:
        relay.close()
    assert_no_failed_call(workdir, out, err)
    counters = relay.counters()
    replies = len(CHATS) * (PER_CHAT + 1)
    # each sendMessage reached the fake once: no resend after an answer
    assert counters["methods"].get("sendMessage") == replies, counters
    if mode in ("length", "chunked", "interim"):
        # kept alive: a connection per caller thread, not one per call
        assert counters["connections"] < 15, counters
    if mode in ("http10", "close", "idle_close"):
        assert counters["connections"] >= counters["requests"], counters
    assert counters["after_close"] == 0, counters
    if mode == "stale":
        assert counters["dropped"] >= replies // 2, counters


def test_no_resend_after_an_answer_byte(workdir, fake, plugin_dir, processes):
    """The request reached the server and the answer broke off: resending it
    at once would be a silent duplicate. The exchange reports the failure;
    the sender's own retry (after its backoff, logged) is the only resend."""
    relay = FramingRelay(fake.base, "cut")
    try:
        bot = start_bot(workdir, plugin_dir, relay.base, processes)
        fake.messages([{"chat_id": CHATS[0], "text": f"/echo {index}"} for index in range(6)])
        assert wait_for(lambda: len(fake.sent_texts(CHATS[0])) >= 7, timeout=30, interval=0.1)
        out, err = stop(bot)
    finally:
        relay.close()
    assert relay.cut
    log = log_text(workdir)
    assert TOKEN_SECRET not in out + err + log
    assert log.count("sendMessage failing") == 1, log
    assert "before the answer was complete" in log, log
    counts = collections.Counter(fake.sent_texts(CHATS[0]))
    # the one cut part went out twice (its answer was lost), every other once
    assert set(counts) == {str(index) for index in range(6)}, counts
    assert sorted(counts.values()) == [1, 1, 1, 1, 1, 2], counts


def test_http_proxy_from_the_environment_is_used(workdir, fake, plugin_dir, processes):
    """CONNECT_ONLY would reach the proxy with an origin-form request; the
    calls must take libcurl's own transfer, which speaks to a proxy."""
    proxy = FramingRelay(fake.base, "proxy")
    try:
        env = {"http_proxy": proxy.base, "no_proxy": "", "NO_PROXY": ""}
        bot = start_bot(workdir, plugin_dir, fake.base, processes, env=env)
        exchange_messages(fake)
        out, err = stop(bot)
    finally:
        proxy.close()
    assert_no_failed_call(workdir, out, err)
    counters = proxy.counters()
    assert counters["origin_form"] == 0, counters
    assert counters["methods"].get("sendMessage") == len(CHATS) * (PER_CHAT + 1), counters


def test_exempted_host_is_not_proxied(workdir, fake, plugin_dir, processes):
    """no_proxy naming the API host: libcurl goes direct, and so do the
    hand-driven calls (the proxy sees nothing)."""
    proxy = FramingRelay(fake.base, "proxy")
    try:
        env = {"http_proxy": proxy.base, "no_proxy": "localhost,127.0.0.1"}
        bot = start_bot(workdir, plugin_dir, fake.base, processes, env=env)
        exchange_messages(fake)
        out, err = stop(bot)
    finally:
        proxy.close()
    assert_no_failed_call(workdir, out, err)
    assert proxy.counters()["connections"] == 0
