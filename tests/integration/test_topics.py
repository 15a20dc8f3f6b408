"""Forum topics through the real ./jarvis against tests/fakes/fake_telegram.py:
a reply goes back to the topic the message came from (every part of a split
reply too), replies outside forum topics and job messages name no topic, and
a deleted topic costs the topic, not the reply."""
import subprocess

import pytest

from conftest import (JarvisProcess, hello_and_crasher_plugin_dir, log_text, start_fake_telegram,
                      stop_jarvis, telegram_bot_settings, wait_for, write_config)

TOKEN = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"
FORUM = -1001000000077
GROUP = -1001000000088


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes)


@pytest.fixture
def plugin_dir(workdir):
    return hello_and_crasher_plugin_dir(workdir)


def start_bot(workdir, fake, plugin_dir, processes, hello=None):
    sections = {"bot": telegram_bot_settings(workdir, fake.base, TOKEN),
                "plugins": {"dir": str(plugin_dir), "enable": "hello, crasher"}}
    if hello:
        sections["hello"] = hello
    config = write_config(workdir, sections)
    process = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(process)
    return process


def stop(bot):
    stop_jarvis(bot)


def in_topic(fake, text, topic, chat_id=FORUM):
    """What Telegram delivers for a message posted in a forum topic."""
    return fake.message(chat_id, text, chat_type="supergroup", is_forum=True,
                        message_thread_id=topic, is_topic_message=True)


def sent_pairs(fake, chat_id):
    return [(message["text"], message["message_thread_id"]) for message in fake.sent(chat_id)]


def test_replies_go_to_the_topic_of_the_message(workdir, fake, plugin_dir, processes):
    bot = start_bot(workdir, fake, plugin_dir, processes)
    in_topic(fake, "/ping", 7)
    in_topic(fake, "/echo in eleven", 11)
    in_topic(fake, "/nosuchcommand", 7)  # the host's own answer
    fake.message(FORUM, "/echo general", chat_type="supergroup", is_forum=True)
    assert wait_for(lambda: len(fake.sent(FORUM)) == 4)
    stop(bot)
    assert sent_pairs(fake, FORUM) == [
        ("pong", 7), ("in eleven", 11),
        ("Unknown command /nosuchcommand. Send /help for the list.", 7),
        ("general", None)]


def test_a_reply_thread_outside_a_forum_names_no_topic(workdir, fake, plugin_dir, processes):
    bot = start_bot(workdir, fake, plugin_dir, processes)
    # a reply in a non-forum supergroup carries message_thread_id, not is_topic_message
    fake.message(GROUP, "/echo threaded", chat_type="supergroup", message_thread_id=3)
    fake.message(GROUP, "/ping", chat_type="supergroup")
    fake.message(-5, "/ping", chat_type="group")
    # is_topic_message without a usable id: answered, in the General topic
    fake.call("/control/update", {"update": {"message": {
        "message_id": 90, "date": 1, "chat": {"id": FORUM, "type": "supergroup", "is_forum": True},
        "from": {"id": 5, "is_bot": False, "first_name": "A"}, "text": "/echo odd",
        "is_topic_message": True, "message_thread_id": "seven"}}})
    assert wait_for(lambda: len(fake.sent()) == 4)
    stop(bot)
    assert sent_pairs(fake, GROUP) == [("threaded", None), ("pong", None)]
    assert sent_pairs(fake, -5) == [("pong", None)]
    assert sent_pairs(fake, FORUM) == [("odd", None)]


def test_every_part_of_a_long_reply_stays_in_the_topic(workdir, fake, plugin_dir, processes):
    bot = start_bot(workdir, fake, plugin_dir, processes)
    in_topic(fake, "/long 10000", 7)
    in_topic(fake, "/echo after", 7)
    assert wait_for(lambda: "after" in fake.sent_texts(FORUM), timeout=10)
    stop(bot)
    pairs = sent_pairs(fake, FORUM)
    assert len(pairs) >= 4  # three parts at least, then "after"
    assert pairs[-1] == ("after", 7)
    assert {topic for _, topic in pairs} == {7}


def test_job_messages_name_no_topic(workdir, fake, plugin_dir, processes):
    bot = start_bot(workdir, fake, plugin_dir, processes,
                    hello={"tick_interval_ms": 100, "tick_chat": FORUM})
    in_topic(fake, "/ping", 7)
    assert wait_for(lambda: "pong" in fake.sent_texts(FORUM)
                    and sum(text.startswith("tick") for text in fake.sent_texts(FORUM)) >= 3)
    in_topic(fake, "/echo again", 7)
    assert wait_for(lambda: "again" in fake.sent_texts(FORUM))
    stop(bot)
    pairs = sent_pairs(fake, FORUM)
    ticks = [topic for text, topic in pairs if text.startswith("tick")]
    assert len(ticks) >= 3 and set(ticks) == {None}
    assert ("pong", 7) in pairs and ("again", 7) in pairs


def test_deleted_topic_reply_arrives_without_it(workdir, fake, plugin_dir, processes):
    fake.call("/control/delete_topic", {"chat_id": FORUM, "message_thread_id": 9})
    bot = start_bot(workdir, fake, plugin_dir, processes)
    in_topic(fake, "/ping", 9)
    in_topic(fake, "/long 6000", 9)
    in_topic(fake, "/echo still here", 7)
    assert wait_for(lambda: "still here" in fake.sent_texts(FORUM), timeout=10)
    stop(bot)
    pairs = sent_pairs(fake, FORUM)
    assert pairs[0] == ("pong", None)
    assert pairs[-1] == ("still here", 7)
    parts = pairs[1:-1]
    assert len(parts) == 2 and {topic for _, topic in parts} == {None}
    assert parts[0][0].startswith("line 1: ")
    refused = fake.call("/control/refused")["messages"]
    # each message was tried once in the topic, then once without it
    assert [m["message_thread_id"] for m in refused] == [9, 9, 9]
    assert [m["text"] for m in refused] == ["pong", parts[0][0], parts[1][0]]
    assert "refused topic 9" in log_text(workdir)


def test_a_topic_retry_happens_once_then_the_message_is_dropped(workdir, fake, plugin_dir,
                                                                processes):
    bot = start_bot(workdir, fake, plugin_dir, processes)
    fake.fault("sendMessage", "400", count=2)
    in_topic(fake, "/echo refused twice", 7)
    in_topic(fake, "/echo next", 7)
    assert wait_for(lambda: "next" in fake.sent_texts(FORUM))
    stop(bot)
    assert sent_pairs(fake, FORUM) == [("next", 7)]
    # the first answer: in the topic, again without it, then given up
    assert fake.counters()["calls"]["sendMessage"] == 3
