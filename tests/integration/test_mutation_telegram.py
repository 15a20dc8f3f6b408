"""Tests written to kill mutants tools/mutate.py found alive in the Telegram
transport: getMe's 404 as a refused token, update_id 0 handled like any
other and confirmed, sendMessage's retry_after waited out (from the fake's
recorded times), a clean stop waiting for the handler in flight, empty
polls keeping the offset."""
import http.server
import json
import subprocess
import threading
import time

import pytest

from conftest import (JarvisProcess, hello_and_crasher_plugin_dir, hello_and_slow_plugin_dir,
                      log_text, start_fake_telegram, telegram_bot_settings, wait_for,
                      write_config)
from conftest import stop_jarvis as stop

TOKEN = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"  # the fake's own


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes)


def start_bot(workdir, api_base, processes, plugins="crasher", **bot):
    settings = telegram_bot_settings(workdir, api_base, TOKEN, **bot)
    config = workdir / "plugins.ini"
    if not config.exists():
        directory = (hello_and_slow_plugin_dir(workdir) if plugins == "slow"
                     else hello_and_crasher_plugin_dir(workdir))
        config = write_config(workdir, {"bot": settings, "plugins": {
            "dir": str(directory), "enable": "hello, " + plugins}})
    bot = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(bot)
    return bot


class NotFound(http.server.BaseHTTPRequestHandler):
    """Telegram's answer to a token of the wrong shape: 404 on every method."""

    def answer(self):
        body = json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = answer

    def log_message(self, format, *args):
        pass


def test_getme_404_is_a_refused_token(workdir, processes):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        bot = start_bot(workdir, f"http://127.0.0.1:{server.server_address[1]}", processes)
        code, out, err = bot.wait(timeout=20)
    finally:
        server.shutdown()
    assert code == 78, err
    assert "Telegram rejected the bot token (404 Not Found)" in log_text(workdir)


def test_update_id_zero_is_answered(workdir, fake, processes):
    update = {"update_id": 0, "message": {
        "message_id": 1, "date": int(time.time()), "text": "/ping",
        "chat": {"id": 7, "type": "private"}, "from": {"id": 7, "is_bot": False,
                                                        "first_name": "Zero"}}}
    assert fake.call("/control/update", {"update": update})["update_id"] == 0
    bot = start_bot(workdir, fake.base, processes)
    assert wait_for(lambda: fake.sent_texts(7) == ["pong"], timeout=20), log_text(workdir)
    # and confirmed: the next getUpdates asks from offset 1
    assert wait_for(lambda: fake.counters()["confirmed_offset"] >= 1, timeout=20), \
        fake.call("/control/polls")
    stop(bot)


def test_send_retry_after_is_waited_out(workdir, fake, processes):
    fake.fault("sendMessage", "429", retry_after=2)
    bot = start_bot(workdir, fake.base, processes)
    fake.message(7, "/ping")
    assert wait_for(lambda: fake.sent_texts(7) == ["pong"], timeout=20), log_text(workdir)
    stop(bot)
    queued = fake.call("/control/queued")["updates"][0]["time"]
    sent = fake.sent(7)[0]["time"]
    # the 429 came after the update was queued; the resend waits 2 s after it
    assert sent - queued >= 1.9, (queued, sent)


def test_sigterm_waits_for_the_handler_in_flight_and_confirms_it(workdir, fake, processes):
    marker = workdir / "sleeping"
    bot = start_bot(workdir, fake.base, processes, plugins="slow")
    update_id = fake.message(8, f"/sleep 1500 {marker}")
    assert wait_for(marker.exists, timeout=20), log_text(workdir)
    stop(bot)  # inside the handler's sleep: the grace period lets it finish
    assert fake.sent_texts(8) == ["slept 1500"], log_text(workdir)
    assert "unhandled" not in log_text(workdir)
    # the next start confirms it at once and runs nothing again
    restarted = start_bot(workdir, fake.base, processes, plugins="slow")
    assert wait_for(lambda: fake.confirmed(update_id), timeout=20), log_text(workdir)
    fake.message(8, "/say after")
    assert wait_for(lambda: fake.sent_texts(8)[-1:] == ["after"], timeout=20), log_text(workdir)
    stop(restarted)
    assert fake.sent_texts(8) == ["slept 1500", "after"]


def test_empty_polls_keep_asking_from_the_offset(workdir, fake, processes):
    bot = start_bot(workdir, fake.base, processes, poll_timeout=1)
    update_id = fake.message(7, "/ping")
    assert wait_for(lambda: fake.sent_texts(7) == ["pong"], timeout=20), log_text(workdir)
    assert wait_for(lambda: fake.confirmed(update_id), timeout=20)
    polls = fake.call("/control/polls")["polls"]
    # two long polls that came back empty, and the one after them
    assert wait_for(lambda: len(fake.call("/control/polls")["polls"]) >= len(polls) + 3,
                    timeout=20)
    stop(bot)
    later = fake.call("/control/polls")["polls"][len(polls):]
    assert [p["offset"] for p in later] == [update_id + 1] * len(later), later
    assert "went backwards" not in log_text(workdir)


def test_default_send_limits_refill_a_paused_chat_to_its_burst_only(workdir, fake, processes):
    """[bot] send_* left at their defaults (1 a second, a burst of 3): after
    a 4 s flood pause the chat gets three replies at once, then one a second,
    not the four seconds' worth the pause would have saved up."""
    settings = telegram_bot_settings(workdir, fake.base, TOKEN)
    for key in ("send_rate_per_chat", "send_burst_per_chat", "send_rate_total"):
        del settings[key]
    config = write_config(workdir, {"bot": settings, "plugins": {
        "dir": str(hello_and_crasher_plugin_dir(workdir)), "enable": "hello, crasher"}})
    fake.fault("sendMessage", "429", retry_after=4)
    bot = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(bot)
    fake.messages([{"chat_id": 9, "text": "/ping"} for _ in range(5)])
    assert wait_for(lambda: len(fake.sent(9)) == 5, timeout=30), log_text(workdir)
    stop(bot)
    times = [message["time"] for message in fake.sent(9)]
    assert times[2] - times[0] < times[3] - times[2], times  # three at once
    assert times[3] - times[0] >= 0.9, times
    assert times[4] - times[3] >= 0.9, times


def test_a_failing_delete_webhook_is_retried_with_backoff(workdir, fake, processes):
    fake.call("/control/webhook", {"url": "https://example.invalid/hook"})
    fake.fault("deleteWebhook", "500", count=100000)
    bot = start_bot(workdir, fake.base, processes, delete_webhook="true",
                    backoff_initial_ms=200, backoff_max_ms=400)
    assert wait_for(lambda: fake.counters()["calls"].get("deleteWebhook", 0) >= 2, timeout=20)
    time.sleep(2)
    # backing off 200..400 ms: about six attempts in 2 s; without it, hundreds
    attempts = fake.counters()["calls"]["deleteWebhook"]
    assert attempts <= 20, attempts
    fake.call("/control/clear_faults")
    fake.message(4, "/ping")
    assert wait_for(lambda: fake.sent_texts(4) == ["pong"], timeout=20), log_text(workdir)
    assert fake.call("/control/webhook")["url"] == ""
    stop(bot)
    assert "deleteWebhook failed" in log_text(workdir)
