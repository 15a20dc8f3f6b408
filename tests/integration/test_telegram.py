"""The Telegram transport through the real ./jarvis against tests/fakes/
fake_telegram.py: round trips, addressing, 1,000 messages over 20 chats,
each error path, kill -9 / SIGTERM restarts, poison and bad updates, and a
canary token that must never appear in anything the process writes."""
import pathlib
import signal
import subprocess
import time

import pytest

from conftest import (JarvisProcess, hello_and_crasher_plugin_dir, hello_and_slow_plugin_dir,
                      log_text, start_fake_telegram, telegram_bot_settings, wait_for,
                      write_config)
from conftest import stop_jarvis as stop

CANARY = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"
CANARY_SECRET = "AAcanaryCANARYcanaryCANARYcanary12345"
BOT_NAME = "JarvisTestBot"


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes)


@pytest.fixture
def plugin_dir(workdir):
    return hello_and_crasher_plugin_dir(workdir)


def bot_config(workdir, fake, plugin_dir, **bot):
    settings = telegram_bot_settings(workdir, fake.base, bot.pop("token", CANARY), **bot)
    return write_config(workdir, {"bot": settings,
                                  "plugins": {"dir": str(plugin_dir), "enable": "hello, crasher"}})


def start_bot(config, processes):
    bot = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(bot)
    return bot


def assert_no_canary(workdir, *texts):
    for text in texts:
        assert CANARY_SECRET not in text
    for path in pathlib.Path(workdir).rglob("*"):
        if path.is_file() and path.suffix != ".ini" and path.suffix != ".so":
            assert CANARY_SECRET.encode() not in path.read_bytes(), path


def test_round_trip_addressing_and_menu(workdir, fake, plugin_dir, processes):
    bot = start_bot(bot_config(workdir, fake, plugin_dir), processes)
    fake.message(5, "/ping")
    assert wait_for(lambda: fake.sent_texts(5) == ["pong"])
    with open(f"/proc/{bot.pid}/cmdline", "rb") as cmdline:
        assert CANARY_SECRET.encode() not in cmdline.read()
    fake.message(-20, f"/ping@{BOT_NAME}", chat_type="group")
    fake.message(-20, "/ping@OtherBot", chat_type="group")
    fake.message(-20, "/echo last", chat_type="group")
    # one chat's updates are handled and answered in order: once "last" is
    # out, the /ping@OtherBot before it was handled (and must be ignored)
    assert wait_for(lambda: "last" in fake.sent_texts(-20))
    assert fake.sent_texts(-20) == ["pong", "last"]
    names = [c["command"] for c in fake.call("/control/commands")["commands"]]
    assert {"ping", "echo", "crash", "long"} <= set(names)
    out, err = stop(bot)
    assert fake.counters()["overlaps"] == 0
    assert_no_canary(workdir, out, err, log_text(workdir))


def test_thousand_messages_over_twenty_chats(workdir, fake, plugin_dir, processes):
    bot = start_bot(bot_config(workdir, fake, plugin_dir, log_level="info"), processes)
    messages = [{"chat_id": 1000 + chat, "text": f"/echo {chat}-{index}"}
                for index in range(50) for chat in range(20)]
    fake.call("/control/messages", {"messages": messages})
    assert wait_for(lambda: fake.counters()["sent"] >= 1000, timeout=60, interval=0.2)
    # a last message per chat is a barrier: a chat is answered in order, so
    # a repeated or late reply would show up before "end"
    fake.messages([{"chat_id": 1000 + chat, "text": "/echo end"} for chat in range(20)])
    assert wait_for(lambda: fake.counters()["sent"] >= 1020, timeout=30, interval=0.1)
    for chat in range(20):
        expected = [f"{chat}-{index}" for index in range(50)] + ["end"]
        assert fake.sent_texts(1000 + chat) == expected
    assert fake.counters()["sent"] == 1020
    stop(bot)


def test_poll_failures_back_off_and_recover(workdir, fake, plugin_dir, processes):
    fake.fault("getUpdates", "500", count=3)
    fake.fault("getUpdates", "malformed")
    fake.fault("getUpdates", "truncated")
    fake.fault("getUpdates", "429", retry_after=1)
    bot = start_bot(bot_config(workdir, fake, plugin_dir), processes)
    fake.message(7, "/ping")
    assert wait_for(lambda: fake.sent_texts(7) == ["pong"], timeout=20)
    out, err = stop(bot)
    log = log_text(workdir)
    # one line per state change, not per retry: 5 failures, one "failing" line
    assert log.count("getUpdates failing") == 1, log
    assert log.count("flood control") == 1, log
    assert "works again" in log
    assert_no_canary(workdir, out, err, log)


def test_send_failures_retry_drop_and_migrate(workdir, fake, plugin_dir, processes):
    fake.fault("sendMessage", "429", retry_after=1)
    fake.fault("sendMessage", "502", count=2)
    bot = start_bot(bot_config(workdir, fake, plugin_dir), processes)
    fake.message(8, "/echo first")
    assert wait_for(lambda: fake.sent_texts(8) == ["first"], timeout=20)
    fake.fault("sendMessage", "400")
    fake.message(8, "/echo dropped-text")
    fake.message(8, "/echo after")
    assert wait_for(lambda: fake.sent_texts(8) == ["first", "after"], timeout=10)
    fake.call("/control/migrate", {"from": -300, "to": -1001000000300})
    fake.message(-300, "/echo one", chat_type="group")
    fake.message(-300, "/echo two", chat_type="group")
    assert wait_for(lambda: fake.sent_texts(-1001000000300) == ["one", "two"], timeout=10)
    out, err = stop(bot)
    log = log_text(workdir)
    assert "refused (400" in log and "chat 8" in log
    # the refused reply is not quoted (the incoming text shows only in the
    # per-update line, and only because this log is at debug)
    assert [line for line in log.splitlines() if "dropped-text" in line and "refused" in line] == []
    assert "flood control" in log
    assert log.count("sendMessage failing") == 1
    # the mapping is remembered: the second message went straight to the new id
    assert fake.counters()["calls"]["sendMessage"] == 1 + 2 + 1 + 1 + 1 + 1 + 2
    assert_no_canary(workdir, out, err, log)


def test_wrong_token_exits_78(workdir, fake, plugin_dir, processes):
    config = bot_config(workdir, fake, plugin_dir,
                        token="123456789:AAwrongWRONGwrongWRONGwrongWRONG1234")
    bot = start_bot(config, processes)
    code, out, err = bot.wait(timeout=20)
    assert code == 78
    assert "Telegram rejected the bot token (401 Unauthorized)" in log_text(workdir)
    assert "AAwrongWRONG" not in out + err + log_text(workdir)


def test_unauthorized_while_polling_exits_78(workdir, fake, plugin_dir, processes):
    bot = start_bot(bot_config(workdir, fake, plugin_dir), processes)
    assert wait_for(lambda: fake.counters()["calls"].get("getUpdates", 0) >= 1)
    fake.fault("getUpdates", "401")
    fake.message(3, "/ping")  # ends the current long poll
    code, out, err = bot.wait(timeout=20)
    assert code == 78
    assert_no_canary(workdir, out, err, log_text(workdir))


def test_conflict_backs_off_without_tight_loop(workdir, fake, plugin_dir, processes):
    fake.fault("getUpdates", "409", count=100000)
    bot = start_bot(bot_config(workdir, fake, plugin_dir), processes)
    assert wait_for(lambda: fake.counters()["calls"].get("getUpdates", 0) >= 1)
    time.sleep(3)
    polls = fake.counters()["calls"]["getUpdates"]
    # 50 ms doubling to a 400 ms cap, jittered 50-100 %: at most ~20 in 3 s;
    # a tight loop would make thousands
    assert 3 <= polls <= 25, polls
    assert bot.process.poll() is None
    out, err = stop(bot)
    log = log_text(workdir)
    assert log.count("another poller is using this bot token") == 1, log


def test_webhook_set_exits_78_or_is_deleted(workdir, fake, plugin_dir, processes):
    fake.call("/control/webhook", {"url": "https://example.invalid/hook"})
    bot = start_bot(bot_config(workdir, fake, plugin_dir), processes)
    code, out, err = bot.wait(timeout=20)
    assert code == 78
    assert "delete_webhook = true" in log_text(workdir)
    bot = start_bot(bot_config(workdir, fake, plugin_dir, delete_webhook="true"), processes)
    fake.message(4, "/ping")
    assert wait_for(lambda: fake.sent_texts(4) == ["pong"], timeout=10)
    assert fake.call("/control/webhook")["url"] == ""
    assert fake.counters()["calls"]["deleteWebhook"] == 1
    stop(bot)


def utf16(text):
    return len(text.encode("utf-16-le")) // 2


def test_long_replies_are_split_like_telegram_counts(workdir, fake, plugin_dir, processes):
    bot = start_bot(bot_config(workdir, fake, plugin_dir), processes)
    fake.message(11, "/long 10000")
    fake.message(12, "/emoji 3000")
    fake.message(11, "/ping")  # barriers: each chat is answered in order
    fake.message(12, "/ping")
    assert wait_for(lambda: "pong" in fake.sent_texts(11) and "pong" in fake.sent_texts(12),
                    timeout=20)
    stop(bot)
    assert fake.sent_texts(11)[-1] == "pong" and fake.sent_texts(12)[-1] == "pong"
    lines = fake.sent_texts(11)[:-1]
    assert len(lines) >= 3
    assert all(utf16(chunk) <= 4096 for chunk in lines)
    assert all(chunk.rstrip("\n").endswith("\U0001F600") for chunk in lines), "cut in a line"
    joined = "\n".join(lines).rstrip("\n")
    assert utf16(joined) + 1 >= 10000
    numbers = [int(line.split(":")[0].split()[1]) for line in joined.split("\n")]
    assert numbers == list(range(1, len(numbers) + 1))
    emoji = fake.sent_texts(12)[:-1]
    assert [utf16(chunk) for chunk in emoji] == [4096, 6000 - 4096]
    assert "".join(emoji) == "\U0001F389" * 3000


def echo_ids(fake, chats):
    seen = {}
    for message in fake.sent():
        if message["chat_id"] in chats:
            seen[message["text"]] = seen.get(message["text"], 0) + 1
    return seen


def test_kill9_loses_nothing_and_repeats_little(workdir, fake, plugin_dir, processes):
    config = bot_config(workdir, fake, plugin_dir, log_level="info")
    chats = list(range(2000, 2010))
    expected = [f"{chat}-{index}" for index in range(40) for chat in chats]
    fake.call("/control/messages",
              {"messages": [{"chat_id": int(text.split("-")[0]), "text": "/echo " + text}
                            for text in expected]})
    bot = start_bot(config, processes)
    assert wait_for(lambda: fake.counters()["sent"] >= 100, timeout=30, interval=0.005)
    bot.process.kill()
    bot.process.wait(timeout=10)
    before = fake.counters()["sent"]
    assert before < len(expected), "stream finished before the kill"
    bot = start_bot(config, processes)
    assert wait_for(lambda: len(echo_ids(fake, set(chats))) == len(expected), timeout=30)
    stop(bot)  # SIGTERM lets every reply in flight go out before the count
    counts = echo_ids(fake, set(chats))
    assert set(counts) == set(expected)  # zero lost
    repeats = sum(count - 1 for count in counts.values())
    # in flight at the kill: at most one reply per worker plus the sender's
    assert repeats <= 5, repeats


def test_sigterm_then_restart_repeats_nothing(workdir, fake, plugin_dir, processes):
    config = bot_config(workdir, fake, plugin_dir, log_level="info")
    chats = list(range(3000, 3010))
    expected = [f"{chat}-{index}" for index in range(30) for chat in chats]
    fake.call("/control/messages",
              {"messages": [{"chat_id": int(text.split("-")[0]), "text": "/echo " + text}
                            for text in expected]})
    bot = start_bot(config, processes)
    assert wait_for(lambda: fake.counters()["sent"] >= 60, timeout=30, interval=0.005)
    stop(bot)
    confirmed = fake.counters()["confirmed_offset"]
    assert confirmed > 100001
    polls = fake.counters()["polls"]
    bot = start_bot(config, processes)
    assert wait_for(lambda: len(echo_ids(fake, set(chats))) == len(expected), timeout=30)
    # the first run may have finished everything in its grace period: wait
    # until the second one is really up (it polled) before stopping it
    assert wait_for(lambda: fake.counters()["polls"] > polls, timeout=30)
    stop(bot)  # SIGTERM lets every reply in flight go out before the count
    counts = echo_ids(fake, set(chats))
    assert set(counts) == set(expected)
    assert max(counts.values()) == 1, [t for t, c in counts.items() if c > 1]


@pytest.mark.parametrize("command,signal_number", [("/crash", signal.SIGSEGV),
                                                    ("/abort", signal.SIGABRT)])
def test_poison_update_is_skipped_after_three_crashes(workdir, fake, plugin_dir, processes,
                                                      command, signal_number):
    config = bot_config(workdir, fake, plugin_dir)
    crash_id = fake.message(9, command)
    fake.message(9, "/echo after-crash")
    fake.message(10, "/echo other-chat")
    for attempt in range(3):
        bot = start_bot(config, processes)
        code = bot.process.wait(timeout=30)
        assert code == -signal_number, (attempt, code)
    bot = start_bot(config, processes)
    assert wait_for(lambda: len(fake.sent(9)) >= 2, timeout=15)
    assert wait_for(lambda: "other-chat" in fake.sent_texts(10), timeout=10)
    assert fake.sent_texts(9) == [
        "Sorry, that message crashed the plugin 'crasher' 3 times; skipping it.", "after-crash"]
    # answered; each crash may hit while its part is in flight (sent, not
    # yet marked): one repeat per crash at most, the outbox's promise
    assert 1 <= fake.sent_texts(10).count("other-chat") <= 1 + 3
    # with the crashes past, a reply is sent exactly once
    fake.message(10, "/echo calm")
    assert wait_for(lambda: "calm" in fake.sent_texts(10), timeout=10)
    out, err = stop(bot)
    assert fake.sent_texts(10).count("calm") == 1
    log = log_text(workdir)
    assert (f"update {crash_id} (command {command}) crashed the bot 3 times in plugin "
            "'crasher'") in log


def test_kills_while_a_crashing_plugin_runs_count_nothing(workdir, fake, processes):
    """SIGKILL (an OOM kill, a supervisor) while a handler runs is not the
    handler's crash: after many such kills the update is still handled, never
    skipped as poison."""
    plugin_dir = hello_and_slow_plugin_dir(workdir)
    config = write_config(workdir, {
        "bot": telegram_bot_settings(workdir, fake.base, CANARY),
        "plugins": {"dir": str(plugin_dir), "enable": "hello, slow"}})
    marker = pathlib.Path(workdir) / "sleeping"
    fake.message(9, f"/sleep 3000 {marker}")
    fake.message(9, "/echo behind-the-sleeper")
    for attempt in range(4):
        bot = start_bot(config, processes)
        assert wait_for(marker.exists, timeout=15), attempt
        marker.unlink()
        bot.signal(signal.SIGKILL)  # surely inside the handler: it made the marker
        bot.process.wait(timeout=10)
    bot = start_bot(config, processes)
    assert wait_for(lambda: "behind-the-sleeper" in fake.sent_texts(9), timeout=30)
    stop(bot)
    assert fake.sent_texts(9) == ["slept 3000", "behind-the-sleeper"]
    assert "crashed" not in log_text(workdir)


def test_bad_updates_are_logged_and_skipped(workdir, fake, plugin_dir, processes):
    bot = start_bot(bot_config(workdir, fake, plugin_dir), processes)
    fake.call("/control/update", {"update": {"update_id": 500001, "message": {"chat": 5}}})
    fake.call("/control/update", {"update": {"update_id": 500002, "callback_query": {"id": "1"}}})
    fake.call("/control/update", {"update": {"update_id": 500003, "message": {
        "message_id": 1, "chat": {"id": 13, "type": "private"}, "photo": []}}})
    fake.call("/control/update", {"update": {"update_id": 500004, "message": {
        "message_id": "x", "chat": {"id": 13, "type": "private"}, "text": "/ping"}}})
    fake.raw_update(500005, b'{"update_id":500005,"message":{"message_id":2,"from":{"id":1,'
                            b'"first_name":"A"},"chat":{"id":13,"type":"private"},'
                            b'"text":"/echo bad \xff\xfe utf8"}}')
    big = "/echo " + "x" * (1024 * 1024)
    fake.call("/control/update", {"update": {"update_id": 500006, "message": {
        "message_id": 3, "chat": {"id": 14, "type": "private"}, "text": big}}})
    fake.message(13, "/ping")
    assert wait_for(lambda: "pong" in fake.sent_texts(13), timeout=15)
    assert wait_for(lambda: len(fake.sent(14)) >= 256, timeout=20)
    stop(bot)
    texts = fake.sent_texts(13)
    assert texts == ["bad \ufffd\ufffd utf8", "pong"]
    assert "".join(fake.sent_texts(14)) == "x" * (1024 * 1024)
    log = log_text(workdir)
    assert "update 500001 skipped: message.chat is missing or not an object" in log
    assert "update 500002 is callback_query without data or message; ignored" in log
    assert "update 500003 is photo; ignored" in log
    assert "update 500004 skipped: message.message_id" in log
    assert fake.counters()["confirmed_offset"] > 500006


def test_flood_control_alone_waits_retry_after_and_recovers_without_a_count(
        workdir, fake, plugin_dir, processes):
    fake.fault("getUpdates", "429", retry_after=2)
    bot = start_bot(bot_config(workdir, fake, plugin_dir), processes)
    fake.message(7, "/ping")
    assert wait_for(lambda: fake.sent_texts(7) == ["pong"], timeout=20)
    stop(bot)
    log = log_text(workdir)
    # a 429 is not a failed attempt: the recovery line must not count "0"
    assert "telegram: getUpdates works again\n" in log, log
    assert "after 0 failed" not in log, log
    # retry_after is honoured: the next poll starts 2 s after the 429 answer
    polls = fake.call("/control/polls")["polls"]
    flood = next(i for i, poll in enumerate(polls) if poll["result"] == "fault 429")
    assert polls[flood + 1]["start"] - polls[flood]["end"] >= 1.9, polls[flood:flood + 2]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_80_mib_answer_is_reported_as_too_large(workdir, fake, plugin_dir, processes, chunked):
    fake.fault("getUpdates", "huge", chunked=chunked)
    bot = start_bot(bot_config(workdir, fake, plugin_dir), processes)
    fake.message(7, "/ping")
    assert wait_for(lambda: fake.sent_texts(7) == ["pong"], timeout=30)
    stop(bot)
    log = log_text(workdir)
    assert "answer too large (over the 64 MiB limit)" in log, log
    assert "Failure writing output" not in log, log
