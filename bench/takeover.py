#!/usr/bin/env python3
"""Takeover latency of the single-instance lock: a holder polls
tests/fakes/fake_telegram.py, a standby of the real ./jarvis blocks in flock;
the holder is killed with SIGKILL and we time (a) the kill until the
standby's "lock acquired" log line and (b) the kill until the new holder's
first getUpdates reaches the fake. Also: start to first getUpdates of a
fresh instance with nobody holding the lock.

Usage: bench/takeover.py [--kills 50] [--starts 20]
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
import threading
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]
OUT = (REPO / os.environ.get("JARVIS_OUT", ".")).resolve()
TOKEN = "123456789:AAbenchTAKEOVERbenchTAKEOVERbench12345"


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


class Instance:
    """A running ./jarvis whose log lines (stderr) are read as they come."""

    def __init__(self, config):
        self.process = subprocess.Popen([str(OUT / "jarvis"), "-c", str(config)],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line)

    def first_line_with(self, text):
        return next((line for line in list(self.lines) if text in line), None)

    def stop(self, signum=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(signum)
        self.process.wait(timeout=30)
        self.reader.join(timeout=10)


def wait_for(predicate, timeout=30.0, interval=0.0005):
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


def write_config(directory, fake):
    path = pathlib.Path(directory) / "plugins.ini"
    path.write_text(
        "[bot]\n"
        f"token = {TOKEN}\napi_base = {fake.base}\npoll_timeout = 5\nlog_level = info\n"
        f"state_dir = {directory}/state\n"
        "[lock]\n"
        f"path = {directory}/jarvis.lock\nmax_wait = 0\n"
        "[plugins]\n"
        f"dir = {OUT}/plugins\nenable = hello\n")
    return path


def first_poll_after(fake, moment):
    return wait_for(lambda: next((s for s in fake.poll_starts() if s >= moment), None))


def measure_start_to_first_poll(fake, config, starts):
    figures = []
    for _ in range(starts):
        started = time.time()
        instance = Instance(config)
        figures.append((first_poll_after(fake, started) - started) * 1000)
        instance.stop()
    return figures


def measure_takeovers(fake, config, kills):
    to_lock, to_poll = [], []
    holder = Instance(config)
    wait_for(lambda: holder.first_line_with("lock acquired"))
    for _ in range(kills):
        standby = Instance(config)
        wait_for(lambda: standby.first_line_with("waiting as a standby"))
        wait_for(lambda: holder.first_line_with(" running ("))  # the holder is polling
        killed = time.time()  # just before the kill: the figures err high, not low
        os.kill(holder.process.pid, signal.SIGKILL)
        acquired = wait_for(lambda: standby.first_line_with("lock acquired"))
        to_lock.append((log_time(acquired) - killed) * 1000)
        to_poll.append((first_poll_after(fake, killed) - killed) * 1000)
        holder.stop()
        holder = standby
    holder.stop()
    return to_lock, to_poll


def summary(name, figures):
    return (f"| {name} | {len(figures)} | {statistics.median(figures):.1f} ms | "
            f"{statistics.mean(figures):.1f} ms | {max(figures):.1f} ms |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--starts", type=int, default=20)
    options = parser.parse_args()
    fake = Fake()
    try:
        with tempfile.TemporaryDirectory(prefix="jarvis-takeover-") as directory:
            os.chmod(directory, 0o700)
            config = write_config(directory, fake)
            starts = measure_start_to_first_poll(fake, config, options.starts)
            to_lock, to_poll = measure_takeovers(fake, config, options.kills)
    finally:
        fake.close()
    print("| what | runs | median | mean | max |")
    print("| --- | --- | --- | --- | --- |")
    print(summary("kill -9 -> standby's \"lock acquired\" log line (stamps truncated to 1 ms)",
                  to_lock))
    print(summary("kill -9 -> new holder's first getUpdates at the fake", to_poll))
    print(summary("start (no holder) -> first getUpdates", starts))


if __name__ == "__main__":
    main()
