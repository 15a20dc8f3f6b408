#!/usr/bin/env python3
"""Failover time across hosts on the postgres backend: two ./jarvis "hosts"
(separate state dirs, lock files and logs; nothing shared but a private
PostgreSQL cluster, tests/integration/pg_cluster.py) poll
tests/fakes/fake_telegram.py, one holding the database lock, the other
waiting as a standby. The holder is killed with SIGKILL (--kills times, then
restarted as the new standby) and we time, from just before the kill, (a) the
standby's "database lock acquired" log line and (b) the new holder's first
getUpdates at the fake. Then --stops times the holder is SIGSTOPped (hung,
its session alive) and we time the first getUpdates of the standby, which
must end the stale session once the lease (--lease, default 10 s) runs out.

Usage: bench/failover.py [--kills 20] [--stops 3] [--lease 10]
       (JARVIS_OUT=build/san for the sanitizer build)"""
import argparse
import calendar
import json
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]
OUT = (REPO / os.environ.get("JARVIS_OUT", ".")).resolve()
sys.path.insert(0, str(REPO / "tests" / "integration"))
import pg_cluster  # noqa: E402  (the tests' private cluster)

TOKEN = "987654:AAbenchFAILOVERbenchFAILOVERbench123"
BOT_ID = 987654


class Fake:
    def __init__(self):
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "tests/fakes/fake_telegram.py"), "--port", "0",
             "--token", TOKEN], stdout=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{int(self.process.stdout.readline().split()[1])}"

    def call(self, path):
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            return json.loads(response.read())

    def poll_starts(self):
        return [poll["start"] for poll in self.call("/control/polls")["polls"]]

    def close(self):
        self.process.kill()
        self.process.wait()


class Host:
    def __init__(self, root, name, fake, dsn, lease_s):
        self.directory = pathlib.Path(root) / name
        self.directory.mkdir(mode=0o700)
        self.log_path = self.directory / "jarvis.log"
        self.config = self.directory / "plugins.ini"
        self.config.write_text(
            "[bot]\n"
            f"token = {TOKEN}\napi_base = {fake.base}\npoll_timeout = 5\nlog_level = info\n"
            f"state_dir = {self.directory}/state\nlog_file = {self.log_path}\n"
            "[lock]\n"
            f"path = {self.directory}/jarvis.lock\nmax_wait = 0\n"
            "[state]\n"
            f"backend = postgres\ndsn = env:JARVIS_PG_DSN\nlease_s = {lease_s}\n"
            "[plugins]\n"
            f"dir = {OUT}/plugins\nenable = hello\n")
        self.env = dict(os.environ, JARVIS_PG_DSN=dsn)
        self.process = None

    def start(self):
        self.process = subprocess.Popen([str(OUT / "jarvis"), "-c", str(self.config)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, env=self.env)
        return self

    def lines_after(self, text, moment):
        if not self.log_path.exists():
            return []
        return [line for line in self.log_path.read_text(errors="replace").splitlines()
                if text in line and log_time(line) >= moment - 0.002]

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_for(predicate, timeout=60.0, interval=0.002):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met in time")


def log_time(line):
    """Unix time of a log line's "2026-11-28T05:01:23.368Z" prefix."""
    stamp = line.split()[0]
    whole, millis = stamp.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + int(millis) / 1000


def first_poll_after(fake, moment):
    return wait_for(lambda: next((s for s in fake.poll_starts() if s >= moment), None))


def ready_pair(holder, holder_since, standby, standby_since):
    """Waits until holder polls and standby waits for the database lock."""
    wait_for(lambda: holder.lines_after("database lock acquired", holder_since))
    wait_for(lambda: holder.lines_after(" running (", holder_since))
    wait_for(lambda: standby.lines_after("waiting as a standby", standby_since))


def measure_kills(fake, pair, kills):
    to_lock, to_poll = [], []
    holder, standby = pair
    holder_since = standby_since = 0
    for _ in range(kills):
        ready_pair(holder, holder_since, standby, standby_since)
        killed = time.time()  # just before the kill: the figures err high, not low
        os.kill(holder.process.pid, signal.SIGKILL)
        holder.process.wait()
        acquired = wait_for(lambda: standby.lines_after("database lock acquired", killed))
        to_lock.append((log_time(acquired[0]) - killed) * 1000)
        to_poll.append((first_poll_after(fake, killed) - killed) * 1000)
        holder_since, standby_since = killed, time.time()
        holder.start()  # the supervisor's restart: the new standby
        holder, standby = standby, holder
    return to_poll, to_lock, (holder, standby)


def measure_stops(fake, pair, stops):
    figures = []
    holder, standby = pair
    holder_since = standby_since = 0
    for _ in range(stops):
        ready_pair(holder, holder_since, standby, standby_since)
        time.sleep(0.5)
        stopped = time.time()
        holder.process.send_signal(signal.SIGSTOP)
        figures.append((first_poll_after(fake, stopped + 0.05) - stopped) * 1000)
        holder.process.send_signal(signal.SIGCONT)
        holder.process.wait(timeout=60)  # it finds its lease gone and exits 69
        holder_since, standby_since = stopped, time.time()
        holder.start()
        holder, standby = standby, holder
    return figures


def summary(name, figures):
    return (f"| {name} | {len(figures)} | {statistics.median(figures):.1f} ms | "
            f"{statistics.mean(figures):.1f} ms | {max(figures):.1f} ms |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--stops", type=int, default=3)
    parser.add_argument("--lease", type=int, default=10)
    options = parser.parse_args()
    if not pg_cluster.available():
        print("PostgreSQL server binaries are not installed; skipped")
        return
    cluster = pg_cluster.start_cluster()
    fake = Fake()
    hosts = []
    try:
        dsn = cluster.dsn(cluster.create_database())
        with tempfile.TemporaryDirectory(prefix="jarvis-failover-") as directory:
            os.chmod(directory, 0o700)
            hosts = [Host(directory, "a", fake, dsn, options.lease),
                     Host(directory, "b", fake, dsn, options.lease)]
            hosts[0].start()
            wait_for(lambda: hosts[0].lines_after(" running (", 0))
            hosts[1].start()
            to_poll, to_lock, pair = measure_kills(fake, hosts, options.kills)
            stops = measure_stops(fake, pair, options.stops) if options.stops > 0 else []
            for host in hosts:
                host.stop()
    finally:
        for host in hosts:
            host.stop()
        fake.close()
        cluster.close()
    print("| what | runs | median | mean | max |")
    print("| --- | --- | --- | --- | --- |")
    print(summary("kill -9 -> standby's \"database lock acquired\" log line", to_lock))
    print(summary("kill -9 -> new holder's first getUpdates at the fake", to_poll))
    if stops:
        print(summary(f"SIGSTOP (lease_s {options.lease}) -> standby's first getUpdates", stops))


if __name__ == "__main__":
    main()
