"""One poller across hosts (issue 14, item 2): two jarvis "hosts" (separate
state dirs, lock files and logs; nothing shared but a private PostgreSQL
cluster) against one fake Telegram while messages flow. Each host runs under
a small supervisor that restarts it when it exits, as systemd's
Restart=on-failure does. Overlapping getUpdates are the fake's "overlaps"
counter (a newer poll arriving while an older one's client still waits)."""
import collections
import json
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time

import pytest

import pg_cluster
from conftest import (assert_no_sanitizer_report, jarvis_binary, start_fake_telegram,
                      telegram_bot_settings, wait_for, write_config)

TOKEN = "424242:AAfailoverSECRETfailoverSECRET1234"
BOT_ID = 424242
SANITIZER_BUILD = "san" in os.environ.get("JARVIS_OUT", "")
LOCK_LOST_EXIT = 69

pytestmark = pytest.mark.skipif(not pg_cluster.available(),
                                reason="PostgreSQL server binaries are not installed")


@pytest.fixture(scope="module")
def cluster():
    server = pg_cluster.start_cluster()
    yield server
    server.close()


@pytest.fixture
def database(cluster):
    return cluster.create_database()


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes, "--token", TOKEN)


class Host:
    """One machine: its own directory, config, lock file and log, and a
    supervisor thread that starts jarvis again after each exit."""

    def __init__(self, directory, name, fake, dsn, lease_s, restart_delay=0.3, plugins=None):
        self.directory = pathlib.Path(directory) / name
        self.directory.mkdir(mode=0o700)
        bot = telegram_bot_settings(self.directory, fake.base, TOKEN)
        sections = {"bot": bot, "lock": {"max_wait": 0},
                    "state": {"backend": "postgres", "dsn": "env:JARVIS_PG_DSN",
                              "lease_s": lease_s}}
        if plugins is not None:
            sections["plugins"] = plugins
        self.config = write_config(self.directory, sections)
        self.env = dict(os.environ, JARVIS_PG_DSN=dsn)
        for variable in ("TELEGRAM_BOT_TOKEN", "XAI_API_KEY"):
            self.env.pop(variable, None)
        self.restart_delay = restart_delay
        self.exits = []  # return codes, in order
        self.starts = 0
        self.process = None
        self.stopping = False
        self.lock = threading.Lock()
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.supervise, daemon=True)
        self.thread.start()
        assert wait_for(lambda: self.process is not None, timeout=10)
        return self

    def spawn(self):
        with open(self.directory / "stderr.txt", "a") as err:
            process = subprocess.Popen([jarvis_binary(), "-c", str(self.config)],
                                       stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                       env=self.env)
        with self.lock:
            self.process = process
            self.starts += 1

    def supervise(self):
        while not self.stopping:
            self.spawn()
            code = self.process.wait()
            self.exits.append(code)
            if self.stopping:
                return
            time.sleep(self.restart_delay)

    @property
    def pid(self):
        with self.lock:
            return self.process.pid if self.process else None

    def log(self):
        path = self.directory / "jarvis.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stderr(self):
        path = self.directory / "stderr.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    def signal(self, signum):
        with self.lock:
            self.process.send_signal(signum)

    def stop(self):
        self.stopping = True
        with self.lock:
            process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.thread is not None:
            self.thread.join(timeout=30)
        assert_no_sanitizer_report(self.stderr())
        # everything goes to the log file; libpq's notices must not reach stderr
        assert "NOTICE" not in self.stderr(), self.stderr()


@pytest.fixture
def hosts(workdir, fake, cluster, database):
    made = []

    def make(name, lease_s, plugins=None):
        host = Host(workdir, name, fake, cluster.dsn(database), lease_s, plugins=plugins)
        made.append(host)
        return host
    yield make
    for host in made:
        host.stop()


def lease_holder_pid(cluster, database):
    """The pid the lease row names, if its session really holds the lock
    (None before the first holder created the table)."""
    if cluster.psql("SELECT to_regclass('jarvis_lease') IS NULL", database=database).strip() == "t":
        return None
    out = cluster.psql(
        "SELECT r.pid FROM jarvis_lease r JOIN pg_locks l ON l.pid = r.backend_pid"
        " AND l.locktype = 'advisory' AND l.granted AND l.objid = "
        f"{BOT_ID} WHERE r.bot_id = {BOT_ID}", database=database).strip()
    return int(out) if out else None


def reply_counts(fake):
    return collections.Counter(message["text"] for message in fake.sent())


def stream(fake, texts, rate):
    fake.call("/control/stream", {"messages": [{"chat_id": 7000 + index % 5,
                                                "text": "/echo " + text}
                                               for index, text in enumerate(texts)],
                                  "rate": rate})


def delivery(fake, expected):
    counts = reply_counts(fake)
    lost = [text for text in expected if counts[text] == 0]
    duplicates = sum(counts[text] - 1 for text in expected if counts[text] > 1)
    return lost, duplicates


def polls_after(fake, moment):
    return [poll for poll in fake.call("/control/polls")["polls"] if poll["start"] > moment]


def first_poll_after(fake, moment):
    polls = polls_after(fake, moment)
    return min(poll["start"] for poll in polls) if polls else None


def wait_for_holder(cluster, database, host, timeout=30):
    return wait_for(lambda: lease_holder_pid(cluster, database) == host.pid, timeout=timeout)


def test_sigstop_the_holder_for_25_seconds(hosts, fake, cluster, database):
    """The issue's numbers: lease_s 10 (the default), SIGSTOP 25 s. The
    standby ends the stopped holder's session within lease_s plus a few
    seconds; on SIGCONT the old holder finds its lease gone before its next
    getUpdates or send, says so, exits 69 and comes back as a standby."""
    lease_s = 10
    first = hosts("a", lease_s=lease_s).start()
    assert wait_for_holder(cluster, database, first), first.log()
    second = hosts("b", lease_s=lease_s).start()
    assert wait_for(lambda: "waiting as a standby" in second.log(), timeout=20)
    # 28 s of messages, through the stop and past SIGCONT; 4 s more are
    # streamed after SIGCONT
    expected = [f"stop-{n}" for n in range(280)]
    after_resume = [f"resumed-{n}" for n in range(40)]
    stream(fake, expected, rate=10)
    # stopped while it answers the stream
    assert wait_for(lambda: len(fake.sent()) >= 10, timeout=20), first.log()
    stopped_pid = first.pid
    stopped_at = time.time()
    first.signal(signal.SIGSTOP)
    assert wait_for_holder(cluster, database, second, timeout=lease_s + 10), second.log()
    # the stopped host polls no more: a poll that starts after it is the standby's
    took_over = wait_for(lambda: first_poll_after(fake, stopped_at + 0.2), timeout=10)
    assert took_over is not None
    takeover_s = took_over - stopped_at
    assert takeover_s <= lease_s + 4, takeover_s
    time.sleep(max(0.0, stopped_at + 25 - time.time()))
    overlaps_before = fake.counters()["overlaps"]
    sends_before = len(fake.sent())
    first.signal(signal.SIGCONT)
    resumed_at = time.time()
    stream(fake, after_resume, rate=10)
    expected += after_resume
    # whatever the old holder polls (and 409s) after it runs again, it polls
    # before it exits
    assert wait_for(lambda: LOCK_LOST_EXIT in first.exits, timeout=30), (first.exits, first.log())
    overlaps = fake.counters()["overlaps"] - overlaps_before
    assert overlaps <= 1, overlaps
    assert first.exits[0] == LOCK_LOST_EXIT
    assert "database lock for bot 424242 lost" in first.log()
    assert first.log().count("database lock for bot 424242 lost") == 1
    # back as a standby behind the new holder
    assert wait_for(lambda: first.pid != stopped_pid and
                    first.log().count("waiting as a standby") >= 1, timeout=20), first.log()
    assert fake.counters()["overlaps"] - overlaps_before == overlaps
    assert lease_holder_pid(cluster, database) == second.pid
    assert wait_for(lambda: fake.counters()["stream_left"] == 0, timeout=60)
    assert wait_for(lambda: not delivery(fake, expected)[0], timeout=60), delivery(fake, expected)
    lost, duplicates = delivery(fake, expected)
    print(f"\nSIGSTOP 25 s, lease_s {lease_s}: takeover after {takeover_s:.2f}s, "
          f"overlaps at resume={overlaps}, lost={len(lost)}, duplicates={duplicates}, "
          f"sent by anyone in the first second after SIGCONT: "
          f"{sum(1 for m in fake.sent()[sends_before:] if m['time'] < resumed_at + 1)}")
    assert lost == []
    assert duplicates <= 1


def test_standby_stops_cleanly_and_bad_dsn_is_a_config_error(hosts, fake, cluster, database,
                                                              workdir):
    first = hosts("a", lease_s=2).start()
    assert wait_for_holder(cluster, database, first)
    second = hosts("b", lease_s=2).start()
    assert wait_for(lambda: "waiting as a standby" in second.log(), timeout=20)
    second.stopping = True
    second.signal(signal.SIGTERM)
    second.thread.join(timeout=30)
    assert second.exits == [0], second.log()
    assert "stop requested while waiting for the database lock" in second.log()
    env = dict(second.env, JARVIS_PG_DSN="host=127.0.0.1 port=1 password='openQuote9876")
    result = subprocess.run([jarvis_binary(), "-c", str(second.config)], capture_output=True,
                            text=True, env=env, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 78, result.stderr
    assert "[state] dsn cannot be read" in second.log()
    assert "openQuote9876" not in second.log() + result.stderr


def test_only_one_host_polls_and_status_names_it(hosts, fake, cluster, database):
    first = hosts("a", lease_s=3).start()
    assert wait_for_holder(cluster, database, first), first.log()
    second = hosts("b", lease_s=3).start()
    assert wait_for(lambda: "waiting as a standby" in second.log(), timeout=20), second.log()
    assert f"host {socket.gethostname()}, pid {first.pid}" in second.log()
    stream(fake, [f"one-{n}" for n in range(30)], rate=20)
    assert wait_for(lambda: all(reply_counts(fake)[f"one-{n}"] for n in range(30)), timeout=30)
    time.sleep(3 * 3)  # three leases: the standby renews nothing, takes nothing
    assert lease_holder_pid(cluster, database) == first.pid
    assert fake.counters()["overlaps"] == 0
    assert "database lock acquired" not in second.log()
    status = subprocess.run([jarvis_binary(), "status", "--json", "-c", str(second.config)],
                            capture_output=True, text=True, env=second.env, timeout=30)
    report = json.loads(status.stdout)
    assert report["database_lock"]["state"] == "held", report
    assert report["database_lock"]["hostname"] == socket.gethostname()
    assert report["database_lock"]["pid"] == first.pid
    assert report["database_lock"]["since"].endswith("Z")
    text = subprocess.run([jarvis_binary(), "status", "-c", str(second.config)],
                          capture_output=True, text=True, env=second.env, timeout=30).stdout
    assert f"database lock: held by host {socket.gethostname()} pid {first.pid} since" in text
    for output in (status.stdout + status.stderr, text, first.log(), second.log()):
        assert pg_cluster.PASSWORD not in output
        assert "AAfailoverSECRET" not in output
