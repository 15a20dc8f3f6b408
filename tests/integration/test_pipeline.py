"""The update pipeline (issue 9) through the real ./jarvis, real SQLite and
real signals against tests/fakes/fake_telegram.py: kill -9 at random moments
and at each named pipeline step, and a deferred answer across a kill. The
scenarios without a kill (no update fetched twice, the review's findings)
are in test_pipeline_review.py. Figures go to build/pipeline_figures.txt."""
import collections
import contextlib
import os
import pathlib
import random
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import (REPO, JarvisProcess, hello_and_slow_plugin_dir, log_text, run_jarvis,
                      start_fake_telegram, telegram_bot_settings, wait_for, write_config)
from conftest import stop_jarvis as stop

TOKEN = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"
SANITIZER_BUILD = "san" in os.environ.get("JARVIS_OUT", "")
LIFTED_LIMITS = ("send_rate_per_chat", "send_burst_per_chat", "send_rate_total")
APOLOGY = "Sorry"
FIGURES = REPO / "build" / "pipeline_figures.txt"


def scaled(normal, sanitizer):
    """The sanitizer build runs several times slower: smaller counts there."""
    return sanitizer if SANITIZER_BUILD else normal


def record_figures(name, line):
    """Prints the figures (pytest -s shows them) and keeps them, one line per
    test and build flavour, in build/pipeline_figures.txt."""
    key = f"{'sanitizers' if SANITIZER_BUILD else 'normal'} {name}:"
    print(f"\n{key} {line}")
    FIGURES.parent.mkdir(exist_ok=True)
    kept = []
    if FIGURES.exists():
        kept = [old for old in FIGURES.read_text().splitlines() if not old.startswith(key)]
    FIGURES.write_text("\n".join(kept + [f"{key} {line}"]) + "\n")


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes)


def bot_config(workdir, fake, default_limits=False, **bot):
    """hello (/echo) and slow (/later) polling the fake; default_limits keeps
    the shipped send limits (1/s a chat, burst 3, 30/s in all)."""
    settings = telegram_bot_settings(workdir, fake.base, TOKEN, **bot)
    if default_limits:
        for key in LIFTED_LIMITS:
            settings.pop(key)
    return write_config(workdir, {"bot": settings,
                                  "plugins": {"dir": str(hello_and_slow_plugin_dir(workdir)),
                                              "enable": "hello, slow"}})


def start_bot(config, processes, env=None):
    bot = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL, env=env)
    processes.append(bot)
    return bot


def kill9(bot):
    bot.process.kill()
    assert bot.process.wait(timeout=10) == -signal.SIGKILL


def echo_specs(texts):
    """texts "CHAT-N..." -> /control/messages specs sending "/echo TEXT" from CHAT."""
    return [{"chat_id": int(text.split("-")[0]), "text": "/echo " + text} for text in texts]


def reply_counts(fake):
    return collections.Counter(message["text"] for message in fake.sent())


def all_answered(fake, expected):
    counts = reply_counts(fake)
    return all(counts[text] > 0 for text in expected)


def delivery_report(fake, expected):
    """(lost, duplicates, apologies) over the replies the fake received."""
    counts = reply_counts(fake)
    lost = [text for text in expected if counts[text] == 0]
    duplicates = sum(counts[text] - 1 for text in expected if counts[text] > 1)
    apologies = sum(count for text, count in counts.items() if text.startswith(APOLOGY))
    return lost, duplicates, apologies


def pipeline_rows(state_dir):
    """{"inbox": n, "outbox": n}: what a dead bot left in its state store
    (read from the real database, as the next start will). A table not made
    yet (a bot killed between creating the file and its schema) is left out."""
    path = pathlib.Path(state_dir) / "jarvis.db"
    if not path.exists():
        return {}
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as database:
        made = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
        return {table: database.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("inbox", "outbox") if table in made}


def outbox_waiting(config):
    """The message parts `jarvis status` says wait in the outbox (not yet
    marked sent), None when it does not say."""
    for line in run_jarvis(["status", "-c", str(config)]).stdout.splitlines():
        if line.startswith("outbox: ") and line.endswith(" message part(s) waiting"):
            return int(line.split()[1])
    return None


# ---- kill -9 ----

def test_random_kills_under_load_lose_nothing(workdir, fake, processes):
    """A supervisor's view: 20 msg/s over 10 chats with the default send
    limits (so replies queue behind the limiter), kill -9 at random moments,
    restarted at once. 0 lost, 0 skipped as poison, at most 1 repeat a kill."""
    kills = scaled(50, 20)
    seed = int(os.environ.get("PIPELINE_SEED", random.randrange(1 << 30)))
    chance = random.Random(seed)
    config = bot_config(workdir, fake, default_limits=True, log_level="info",
                        shutdown_grace_ms=2000)
    chats = list(range(7000, 7010))
    expected = [f"{chats[index % len(chats)]}-{index}" for index in range(kills * 6)]
    started = time.monotonic()
    fake.call("/control/stream", {"messages": echo_specs(expected), "rate": 20})
    left_at_kills = collections.Counter()
    for _ in range(kills):
        bot = start_bot(config, processes)
        time.sleep(chance.uniform(0.02, 0.6))
        kill9(bot)
        left_at_kills.update(pipeline_rows(workdir / "state"))
    killed_at = fake.counters()["sent"]
    polls = fake.counters()["polls"]
    bot = start_bot(config, processes)
    assert wait_for(lambda: fake.counters()["stream_left"] == 0, timeout=30)
    assert wait_for(lambda: all_answered(fake, expected), timeout=90, interval=0.2), \
        delivery_report(fake, expected)[0][:20]
    # the earlier runs may have answered everything: stop this one once it is up
    assert wait_for(lambda: fake.counters()["polls"] > polls, timeout=30)
    stop(bot)
    wall = time.monotonic() - started
    lost, duplicates, apologies = delivery_report(fake, expected)
    record_figures("random kill -9 under load",
                   f"kills={kills} messages={len(expected)} lost={len(lost)} "
                   f"duplicates={duplicates} poison_apologies={apologies} "
                   f"replies_before_last_start={killed_at} "
                   f"left_in_inbox_at_kills={left_at_kills['inbox']} "
                   f"left_in_outbox_at_kills={left_at_kills['outbox']} "
                   f"wall_s={wall:.1f} seed={seed}")
    assert lost == []
    assert apologies == 0
    assert duplicates <= kills
    assert "crashed" not in log_text(workdir)


KILL_STEPS = [("poll-before-request", 2), ("poll-before-request", 3),
              ("inbox-after-commit", 1),
              ("handled-before-commit", 1), ("handled-before-commit", 3),
              ("handled-after-commit", 1), ("handled-after-commit", 3),
              ("sent-before-mark", 1), ("sent-before-mark", 3),
              ("sent-after-mark", 1), ("sent-after-mark", 3)]


@pytest.mark.parametrize("step,count", KILL_STEPS)
def test_kill_at_each_pipeline_step(workdir, fake, processes, step, count):
    """JARVIS_TEST_KILL_AT stops the process with SIGKILL at the count-th
    time it reaches step. After a restart every message is answered, and
    only a part whose send was out but not yet marked sent may go out twice
    (at sent-before-mark, exactly the count-th one; at sent-after-mark none)."""
    config = bot_config(workdir, fake, log_level="info")
    expected = [f"8100-{index}" for index in range(6)]
    fake.messages(echo_specs(expected))
    bot = start_bot(config, processes, env={"JARVIS_TEST_KILL_AT": f"{step}:{count}"})
    code, _, _ = bot.wait(timeout=30)
    assert code == -signal.SIGKILL, f"{step}:{count} was never reached (exit {code})"
    out_before_kill = fake.sent_texts(8100)
    fake.messages(echo_specs(["8100-late"]))
    bot = start_bot(config, processes)
    assert wait_for(lambda: all_answered(fake, expected + ["8100-late"]), timeout=30)
    stop(bot)
    counts = reply_counts(fake)
    repeated = {text: counts[text] for text in counts if counts[text] > 1}
    if step == "sent-before-mark":
        # the count-th part was out when the process died: that one only
        assert repeated == {expected[count - 1]: 2}, repeated
    elif step == "sent-after-mark":
        # the mark is in the sent journal the moment it is written, and the
        # chat's next part waits for this one: nothing goes out twice
        assert repeated == {}, (repeated, out_before_kill)
    else:
        # the sender runs beside the step: the part it had out (the last one
        # the fake got, one at a time in one chat) may be the one repeat
        in_flight = set(out_before_kill[-1:])
        assert set(repeated) <= in_flight and set(repeated.values()) <= {2}, \
            (repeated, out_before_kill)


# ---- a deferred answer ----

def test_deferred_answer_from_the_plugins_thread(workdir, fake, processes):
    """/later holds its update open and answers from the plugin's own thread:
    the chat's next message is answered meanwhile; killed before the answer,
    the update is handled again after the restart and answered once."""
    config = bot_config(workdir, fake)
    bot = start_bot(config, processes)
    fake.message(7, "/later 1500 answered later")
    fake.message(7, "/echo meanwhile")
    assert wait_for(lambda: fake.sent_texts(7) == ["meanwhile"], timeout=10)
    assert wait_for(lambda: fake.sent_texts(7) == ["meanwhile", "answered later"], timeout=10)

    later_id = fake.message(8, "/later 3000 after the kill")
    fake.message(8, "/echo handled-past-the-deferred")
    # the chat's next message is answered: /later has surely returned, deferred
    assert wait_for(lambda: fake.sent_texts(8) == ["handled-past-the-deferred"], timeout=10)
    # and marked sent: a send still in flight at a kill may go out twice
    # (issue 9 allows that one repeat); this scenario is about the deferred one
    assert wait_for(lambda: outbox_waiting(config) == 0, timeout=10)
    assert fake.sent_texts(8) == ["handled-past-the-deferred"]  # /later still owes its answer
    kill9(bot)
    assert fake.confirmed(later_id)  # Telegram will not hand it out again: the inbox must
    bot = start_bot(config, processes)
    assert wait_for(lambda: "after the kill" in fake.sent_texts(8), timeout=15)
    time.sleep(0.5)
    stop(bot)
    assert fake.sent_texts(8) == ["handled-past-the-deferred", "after the kill"]
    assert fake.sent_texts(7) == ["meanwhile", "answered later"]
