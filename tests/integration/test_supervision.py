"""Supervisors that respawn jarvis cannot make it poll twice: a shell loop
does not spin, a respawn storm leaves one holder and standbys that exit 75,
kill -9 hands over to a standby with no message lost and no 409, and a
child forked by a plugin does not keep the lock after the host dies. Also
the systemd watchdog from the poll loop and `jarvis status` of a poller."""
import os
import signal
import statistics
import subprocess
import threading
import time

import pytest

import conftest
from conftest import jarvis_binary, run_jarvis, start_fake_telegram, wait_for
from test_lock import (NotifyReceiver, lock_config, start, start_holder,
                       wait_until_standby)

TOKEN = "123456789:AAsupervisionTESTtokenSUPERVISIONtoken1"


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes, "--token", TOKEN)


def telegram_config(workdir, fake, max_wait, poll_timeout=2):
    bot = {"token": TOKEN, "api_base": fake.base, "poll_timeout": poll_timeout,
           "log_level": "info",
           "backoff_initial_ms": 50, "backoff_max_ms": 400, "send_rate_per_chat": 10000,
           "send_burst_per_chat": 10000, "send_rate_total": 100000}
    return lock_config(workdir, max_wait=max_wait, bot=bot)


def start_telegram(config, processes, env=None):
    return start(config, processes, env=env)


def storm(config, processes, seconds, interval=0.1, burst=20):
    """Starts a new instance every interval for seconds, plus burst at once."""
    started = []
    begin = time.monotonic()
    # on a schedule, not a sleep after each start: a slow start (a loaded
    # machine, the sanitizer build) must not thin the storm out
    for index in range(int(seconds / interval)):
        time.sleep(max(0.0, begin + index * interval - time.monotonic()))
        started.append(start(config, processes))
    started.extend(start(config, processes) for _ in range(burst))
    return started


def assert_all_standbys_exit_75(standbys):
    for standby in standbys:
        code, out, err = standby.wait(timeout=60)
        assert code == 75, err
        assert err.count("waiting as a standby") == 1, err
        assert "lock acquired" not in err and out == ""


# ---- shell-loop supervisor ----

def test_shell_loop_with_a_holder_does_not_spin(workdir, processes):
    config = lock_config(workdir, max_wait=30)
    holder = start_holder(config, processes)
    starts = workdir / "starts.txt"
    loop = subprocess.Popen(
        ["bash", "-c", 'while true; do echo start >> "$1"; "$2" -c "$3" </dev/null 2>>"$4"; done',
         "loop", str(starts), jarvis_binary(), str(config), str(workdir / "loop.err")],
        start_new_session=True)
    processes.append(loop)
    try:
        assert wait_for(lambda: "waiting as a standby" in
                        (workdir / "loop.err").read_text() if (workdir / "loop.err").exists()
                        else False, timeout=15)
        time.sleep(3)  # the observation window: a spinning loop would start many
        assert starts.read_text().count("start") == 1
    finally:
        os.killpg(loop.pid, signal.SIGKILL)
        loop.wait(timeout=10)
    assert holder.ping()


# ---- respawn storm ----

def test_respawn_storm_console_leaves_one_holder(workdir, processes):
    config = lock_config(workdir, max_wait=1)
    holder = start_holder(config, processes)
    standbys = storm(config, processes, seconds=2)
    assert len(standbys) >= 30
    assert_all_standbys_exit_75(standbys)
    assert holder.ping()
    assert int((workdir / "jarvis.lock").read_text().split()[0]) == holder.pid


def test_respawn_storm_telegram_no_overlap_no_409(workdir, fake, processes):
    config = telegram_config(workdir, fake, max_wait=1)
    holder = start_telegram(config, processes)
    assert wait_for(lambda: fake.counters()["polls"] >= 1, timeout=15)
    # The storm: a new instance every 100 ms for 10 s, plus 20 at once.
    texts = [f"storm-{index}" for index in range(100)]

    def feed():
        for text in texts:
            fake.message(7, "/echo " + text)
            time.sleep(0.1)

    feeder = threading.Thread(target=feed)
    feeder.start()
    standbys = storm(config, processes, seconds=10)
    feeder.join()
    assert len(standbys) >= 100
    assert_all_standbys_exit_75(standbys)
    assert wait_for(lambda: set(fake.sent_texts(7)) >= set(texts), timeout=20)
    counters = fake.counters()
    assert counters["overlaps"] == 0
    assert counters["conflicts_sent"] == 0
    assert counters["calls"].get("getMe", 0) == 1  # no standby touched the network
    assert sorted(fake.sent_texts(7)) == sorted(texts)  # each answered once
    holder.signal(signal.SIGTERM)
    assert holder.wait()[0] == 0


# ---- kill -9 handoff ----

def test_kill9_handoff_20_times_loses_no_message(workdir, fake, processes):
    config = telegram_config(workdir, fake, max_wait=0)
    holder = start_telegram(config, processes)
    assert wait_for(lambda: "lock acquired" in holder.err(), timeout=15)
    sent = []
    feeding = threading.Event()
    feeding.set()

    def feed():
        index = 0
        while feeding.is_set():
            text = f"handoff-{index}"
            fake.message(8, "/echo " + text)
            sent.append(text)
            index += 1
            time.sleep(0.01)

    feeder = threading.Thread(target=feed)
    feeder.start()
    takeovers_ms = []
    try:
        for _ in range(20):
            standby = start_telegram(config, processes)
            assert wait_until_standby(standby), standby.err()
            # kill mid-stream: only once this holder has answered something new
            answered = len(fake.sent_texts(8))
            assert wait_for(lambda: len(fake.sent_texts(8)) > answered, timeout=15)
            killed_at = time.monotonic()
            holder.process.kill()
            assert wait_for(lambda: "lock acquired" in standby.err(), timeout=15,
                            interval=0.001), standby.err()
            takeovers_ms.append((time.monotonic() - killed_at) * 1000)
            holder.wait()
            holder = standby
    finally:
        feeding.clear()
        feeder.join()
    assert wait_for(lambda: set(fake.sent_texts(8)) >= set(sent), timeout=30), \
        sorted(set(sent) - set(fake.sent_texts(8)))
    counters = fake.counters()
    assert counters["overlaps"] == 0
    assert counters["conflicts_sent"] == 0
    print(f"takeover after kill -9 (observed by the test): median "
          f"{statistics.median(takeovers_ms):.1f} ms, max {max(takeovers_ms):.1f} ms, "
          f"{len(sent)} messages, {len(fake.sent_texts(8))} replies")
    fake.message(8, "/echo final")  # the last holder is up and running
    assert wait_for(lambda: "final" in fake.sent_texts(8), timeout=15)
    holder.signal(signal.SIGTERM)
    assert holder.wait()[0] == 0


# ---- children forked by a plugin ----

@pytest.mark.parametrize("command", ["/fork_bare", "/fork_exec"])
def test_forked_child_does_not_keep_the_lock(workdir, processes, command):
    config = lock_config(workdir, max_wait=1,
                         plugins={"dir": conftest.test_plugin_dir(), "enable": "forker"})
    holder = start(config, processes)
    assert wait_for(lambda: "lock acquired" in holder.err(), timeout=15)
    holder.send_line(f"{command} 60")
    assert wait_for(lambda: "forked " in holder.out(), timeout=15), holder.err()
    child = int(holder.out().split("forked ")[1].split()[0])
    try:
        holder.process.kill()
        holder.wait()
        os.kill(child, 0)  # the child outlived the host
        successor = start(config, processes)
        assert wait_for(lambda: "lock acquired" in successor.err() or
                        successor.process.poll() is not None, timeout=15)
        assert "lock acquired" in successor.err(), successor.err()
        assert "waiting as a standby" not in successor.err()
        os.kill(child, 0)
        successor.close_stdin()
        assert successor.wait()[0] == 0
    finally:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ---- systemd watchdog from the poll loop ----

@pytest.fixture
def receiver(workdir):
    made = NotifyReceiver(str(workdir / "notify.sock"))
    yield made
    made.close()


def test_watchdog_pings_come_from_the_poll_loop(workdir, fake, processes, receiver):
    config = telegram_config(workdir, fake, max_wait=1, poll_timeout=1)
    env = {"NOTIFY_SOCKET": receiver.address, "WATCHDOG_USEC": "200000"}
    bot = start_telegram(config, processes, env=env)
    assert wait_for(lambda: receiver.assignments().count("WATCHDOG=1") >= 3, timeout=20), \
        receiver.assignments()
    lines = receiver.assignments()
    assert lines.index("READY=1") < lines.index("WATCHDOG=1")
    assert fake.counters()["calls"].get("getUpdates", 0) >= 1
    bot.signal(signal.SIGTERM)
    assert bot.wait()[0] == 0
    assert wait_for(lambda: "STOPPING=1" in receiver.assignments(), timeout=5)


def test_watchdog_meant_for_another_pid_is_not_ours(workdir, fake, processes, receiver):
    config = telegram_config(workdir, fake, max_wait=1, poll_timeout=1)
    env = {"NOTIFY_SOCKET": receiver.address, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"}
    bot = start_telegram(config, processes, env=env)
    assert wait_for(lambda: receiver.has("READY=1"), timeout=20)
    assert wait_for(lambda: fake.counters()["calls"].get("getUpdates", 0) >= 3, timeout=20)
    assert "WATCHDOG=1" not in receiver.assignments()
    bot.signal(signal.SIGTERM)
    assert bot.wait()[0] == 0


# ---- jarvis status against a polling holder ----

def test_status_reports_polling_last_poll_and_last_error(workdir, fake, processes):
    config = telegram_config(workdir, fake, max_wait=1, poll_timeout=1)
    bot = start_telegram(config, processes)
    assert wait_for(lambda: fake.counters()["calls"].get("getUpdates", 0) >= 2, timeout=20)
    fake.call("/control/fault", {"method": "getUpdates", "kind": "500", "count": 1})
    polls = fake.counters()["calls"]["getUpdates"]
    assert wait_for(lambda: fake.counters()["calls"]["getUpdates"] >= polls + 3, timeout=20)
    result = run_jarvis(["status", "-c", str(config)])
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert f"holder: pid {bot.pid} since " in result.stdout
    assert "polling: yes" in lines
    last_poll = [line for line in lines if line.startswith("last poll: ")]
    assert len(last_poll) == 1 and last_poll[0].endswith(" s ago)"), lines
    last_error = [line for line in lines if line.startswith("last error: ")]
    assert len(last_error) == 1 and last_error[0] != "last error: none", lines
    assert TOKEN.split(":")[1] not in result.stdout + result.stderr
    bot.process.kill()
    bot.wait()
    result = run_jarvis(["status", "-c", str(config)])
    assert result.returncode == 3
    assert "holder: none" in result.stdout.splitlines()
    assert "polling: no" in result.stdout.splitlines()  # the stale "1" is not believed
