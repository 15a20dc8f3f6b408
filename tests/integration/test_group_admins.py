"""Group-wide commands (JV_COMMAND_GROUP_ADMIN: sentiment's /subscribe and
/unsubscribe, and buttons so flagged) through the real ./jarvis and the fake
Telegram: in a group only the group's admins (getChatMember's "creator" /
"administrator") and [bot] admins run them; private chats are unaffected; a
failed lookup is answered clearly and the bot goes on; /help marks them."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import (REPO, JarvisProcess, built_plugin_dir, log_text, start_fake_telegram,
                      telegram_bot_settings, wait_for, write_config)
from conftest import test_plugin_dir as plugin_build_dir
from conftest import stop_jarvis as stop

TOKEN = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"  # the fake's own
LEXICON = REPO / "plugins" / "sentiment" / "lexicon.txt"
GROUP = -1001234567890
BOT_ADMIN = 900
REFUSED = "/subscribe is for group admins only."
NOT_SUBSCRIBED = "This chat was not subscribed; nothing to do."


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes)


@pytest.fixture
def bot(workdir, fake, processes):
    settings = telegram_bot_settings(workdir, fake.base, TOKEN, admins=str(BOT_ADMIN))
    config = write_config(workdir, {"bot": settings,
                                    "plugins": {"enable": "hello, sentiment"},
                                    "sentiment": {"lexicon": str(LEXICON)}})
    process = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(process)
    yield process
    stop(process)  # a clean exit: nothing above crashed it


def set_status(fake, user_id, status, chat_id=GROUP):
    fake.call("/control/chat_member", {"chat_id": chat_id, "user_id": user_id,
                                       "status": status})


def say(fake, user_id, text, chat_id=GROUP, chat_type=None):
    chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
    fake.message(chat_id, text, user_id=user_id, chat_type=chat_type)


def answers(fake, count, chat_id=GROUP):
    """The bot's first count answers in the chat, once they are all there, as
    the user reads them (HTML tags taken out: /subscribe answers in HTML)."""
    assert wait_for(lambda: len(fake.sent_texts(chat_id)) >= count, timeout=20), \
        fake.sent_texts(chat_id)
    return [re.sub(r"<[^>]+>", "", text) for text in fake.sent_texts(chat_id)[:count]]


def lookups(fake, user_id):
    return [c for c in fake.call("/control/chat_member_calls")["calls"]
            if c["user_id"] == user_id]


def test_a_member_is_refused_and_nothing_is_subscribed(workdir, fake, bot):
    set_status(fake, 501, "member")
    set_status(fake, 502, "administrator")
    say(fake, 501, "/subscribe")
    assert answers(fake, 1) == [REFUSED], log_text(workdir)
    say(fake, 501, "/unsubscribe")
    # the refusal did not subscribe: the admin finds the chat unsubscribed
    say(fake, 502, "/unsubscribe")
    assert answers(fake, 3)[1:] == ["/unsubscribe is for group admins only.", NOT_SUBSCRIBED]
    # the member's second command was answered from the cache
    assert [(c["chat_id"], c["user_id"]) for c in lookups(fake, 501)] == [(GROUP, 501)]
    # other commands stay open to every member
    say(fake, 501, "/ping")
    assert answers(fake, 4)[3] == "pong"


def test_group_admins_and_the_creator_are_allowed(workdir, fake, bot):
    set_status(fake, 502, "administrator")
    set_status(fake, 503, "creator")
    say(fake, 502, "/subscribe")
    assert answers(fake, 1)[0].startswith("Subscribed: "), log_text(workdir)
    say(fake, 503, "/unsubscribe")
    assert answers(fake, 2)[1].startswith("Unsubscribed"), log_text(workdir)


@pytest.mark.parametrize("status", ["restricted", "left", "kicked"])
def test_other_statuses_are_refused(workdir, fake, bot, status):
    set_status(fake, 504, status)
    say(fake, 504, "/subscribe")
    assert answers(fake, 1) == [REFUSED], log_text(workdir)


def test_a_basic_group_is_a_group_too(workdir, fake, bot):
    basic_group = -4001
    set_status(fake, 505, "member", chat_id=basic_group)
    set_status(fake, 506, "creator", chat_id=basic_group)
    say(fake, 505, "/subscribe", chat_id=basic_group, chat_type="group")
    assert answers(fake, 1, chat_id=basic_group) == [REFUSED], log_text(workdir)
    say(fake, 506, "/subscribe", chat_id=basic_group, chat_type="group")
    assert answers(fake, 2, chat_id=basic_group)[1].startswith("Subscribed: ")


def test_a_lookup_telegram_refuses_means_not_an_admin(workdir, fake, bot):
    # e.g. 400 "Bad Request: user not found", 403 "bot was kicked from the group chat"
    set_status(fake, 502, "administrator")
    fake.fault("getChatMember", "400")
    say(fake, 502, "/subscribe")
    assert answers(fake, 1) == [REFUSED], log_text(workdir)


def test_a_bot_admin_is_allowed_without_a_lookup(workdir, fake, bot):
    set_status(fake, BOT_ADMIN, "member")
    say(fake, BOT_ADMIN, "/subscribe")
    assert answers(fake, 1)[0].startswith("Subscribed: "), log_text(workdir)
    assert lookups(fake, BOT_ADMIN) == []


def test_private_chats_are_unaffected(workdir, fake, bot):
    say(fake, 601, "/subscribe", chat_id=601)
    assert answers(fake, 1, chat_id=601)[0].startswith("Subscribed: "), log_text(workdir)
    assert fake.call("/control/chat_member_calls")["calls"] == []


@pytest.mark.parametrize("kind", ["drop", "500"])
def test_a_failed_lookup_is_answered_and_not_cached(workdir, fake, bot, kind):
    set_status(fake, 502, "administrator")
    fake.fault("getChatMember", kind)
    say(fake, 502, "/subscribe")
    first = answers(fake, 1)[0]
    assert first.startswith("/subscribe is for group admins, and I could not check"), first
    assert "getChatMember for chat" in log_text(workdir)
    # the bot goes on, and the failure was not remembered as "not an admin"
    say(fake, 502, "/subscribe")
    assert answers(fake, 2)[1].startswith("Subscribed: "), log_text(workdir)
    assert fake.counters()["calls"]["getChatMember"] == 2
    assert TOKEN.split(":")[1] not in log_text(workdir)


def test_help_marks_group_admin_commands(workdir, fake, bot):
    say(fake, 601, "/help", chat_id=601)
    help_text = answers(fake, 1, chat_id=601)[0]
    lines = {line.split(" ")[0]: line for line in help_text.splitlines()}
    assert lines["/subscribe"].endswith(" (group admins)"), help_text
    assert lines["/unsubscribe"].endswith(" (group admins)"), help_text
    assert "(group admins)" not in lines["/sentiment"], help_text
    say(fake, 601, "/help subscribe", chat_id=601)
    assert answers(fake, 2, chat_id=601)[1].endswith(
        "\nIn a group, for the group's admins only."), fake.sent_texts(601)


def test_a_group_admin_button_is_refused_to_a_member(workdir, fake, processes):
    directory = workdir / "plugins"
    directory.mkdir(mode=0o700)
    shutil.copy(os.path.join(built_plugin_dir(), "hello.so"), directory / "hello.so")
    shutil.copy(os.path.join(plugin_build_dir(), "rich.so"), directory / "rich.so")
    for item in directory.iterdir():
        os.chmod(item, 0o700)
    settings = telegram_bot_settings(workdir, fake.base, TOKEN, admins=str(BOT_ADMIN))
    config = write_config(workdir, {"bot": settings, "plugins": {
        "dir": str(directory), "enable": "hello, rich"}})
    process = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(process)
    set_status(fake, 501, "member")
    set_status(fake, 502, "administrator")
    presses = [(GROUP, "supergroup", 501), (GROUP, "supergroup", 502), (601, "private", 601)]
    for chat_id, chat_type, user_id in presses:
        fake.call("/control/callback", {"chat_id": chat_id, "chat_type": chat_type,
                                        "message_id": 1, "data": "rgrp:x", "user_id": user_id})
    assert wait_for(lambda: len(fake.call("/control/answers")["answers"]) == 3, timeout=20), \
        log_text(workdir)
    texts = sorted(a["text"] for a in fake.call("/control/answers")["answers"])
    assert texts == ["This button is for group admins only.", "group ok", "group ok"], texts
    assert sorted(c["user_id"] for c in fake.call("/control/chat_member_calls")["calls"]) \
        == [501, 502]
    stop(process)
