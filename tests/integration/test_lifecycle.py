"""The process around the bot: argv and exit codes, `check`, signals (stop
while a handler runs, stop while idle, SIGHUP log reopen) and periodic jobs.
Real binary, real signals; waits are failure guards, never assertions."""
import os
import queue
import re
import signal
import threading

import conftest
from conftest import JarvisProcess, config_with_slow, run_jarvis, wait_for, write_config

VERSION_LINE = "jarvis 0.1.0 (plugin ABI 1.3)\n"
GUARD_S = 30


class StdoutLines:
    """Collects a running process's stdout lines on a thread, so a test can
    wait for a line without ever blocking on a read."""

    def __init__(self, jarvis):
        self.lines = queue.Queue()
        self.seen = []
        self.thread = threading.Thread(target=self._pump, args=(jarvis.process.stdout,),
                                       daemon=True)
        self.thread.start()

    def _pump(self, stream):
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def next(self, timeout=GUARD_S):
        line = self.lines.get(timeout=timeout)
        self.seen.append(line)
        return line

    def wait_for(self, predicate, timeout=GUARD_S):
        while True:
            line = self.next(timeout)
            if predicate(line):
                return line

    def finish(self, timeout=GUARD_S):
        self.thread.join(timeout)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.seen


def start(processes, config):
    jarvis = JarvisProcess(["-c", str(config)])
    processes.append(jarvis)
    return jarvis


def stop_and_collect(jarvis, reader, signum=signal.SIGTERM):
    jarvis.signal(signum)
    returncode = jarvis.process.wait(timeout=GUARD_S)
    lines = reader.finish()
    stderr = jarvis.process.stderr.read()
    conftest.assert_no_sanitizer_report(stderr)
    return returncode, lines, stderr


# ---- argv ----

def test_help_and_version(workdir):
    result = run_jarvis(["--help"])
    assert result.returncode == 0
    assert result.stdout.startswith("usage: jarvis [run|status|check|reload] [-c FILE]")
    assert result.stderr == ""
    result = run_jarvis(["--version"])
    assert result.returncode == 0
    assert result.stdout == VERSION_LINE


def test_bad_usage_exits_64(workdir):
    for args in (["--bogus"], ["frobnicate"], ["-c"], ["run", "check"], ["-x", "run"]):
        result = run_jarvis(args)
        assert result.returncode == 64, args
        assert result.stdout == ""
        first, rest = result.stderr.split("\n", 1)
        assert first.startswith("jarvis: "), args
        assert "usage: jarvis" in rest


def test_missing_config_exits_78(workdir):
    missing = workdir / "nope.ini"
    result = run_jarvis(["-c", str(missing)])
    assert result.returncode == 78
    assert str(missing) in result.stderr
    assert result.stdout == ""


def test_bad_config_exits_78_naming_file_and_line(workdir):
    config = write_config(workdir, {"bot": {"workers": "many"}})
    result = run_jarvis(["-c", str(config)])
    assert result.returncode == 78
    line = next(n for n, text in enumerate(config.read_text().splitlines(), 1)
                if text.startswith("workers"))
    assert f"{config}:{line}:" in result.stderr
    # the same check applies to every subcommand
    assert run_jarvis(["check", "-c", str(config)]).returncode == 78


def test_unwritable_log_file_exits_78(workdir):
    log = workdir / "missing-dir" / "jarvis.log"
    result = run_jarvis(["-c", str(write_config(workdir, {"bot": {"log_file": log}}))])
    assert result.returncode == 78
    assert f"cannot open log_file '{log}'" in result.stderr


def test_check_loads_every_plugin(workdir):
    config = config_with_slow(workdir)
    result = run_jarvis(["check", "-c", str(config)])
    assert result.returncode == 0, result.stderr
    assert "2 of 2 enabled plugin(s) loaded, 0 refused: ok" in result.stdout


def test_check_fails_when_a_plugin_is_refused(workdir):
    config = write_config(workdir, {"plugins": {"enable": "hello, no_such_plugin"}})
    result = run_jarvis(["check", "-c", str(config)])
    assert result.returncode == 1
    assert "1 of 2 enabled plugin(s) loaded, 1 refused: FAILED" in result.stdout
    assert "no_such_plugin" in result.stderr


# ---- signals ----

def test_sigterm_while_idle_exits_0(workdir, processes):
    jarvis = start(processes, write_config(workdir, {}))
    reader = StdoutLines(jarvis)
    jarvis.send_line("/ping")
    assert reader.next() == "pong"  # up and reading stdin
    returncode, lines, stderr = stop_and_collect(jarvis, reader)
    assert returncode == 0, stderr
    assert lines == ["pong"]


def test_sigint_while_idle_exits_0(workdir, processes):
    jarvis = start(processes, write_config(workdir, {}))
    reader = StdoutLines(jarvis)
    jarvis.send_line("/ping")
    assert reader.next() == "pong"
    returncode, _, stderr = stop_and_collect(jarvis, reader, signal.SIGINT)
    assert returncode == 0, stderr


def test_sigterm_lets_a_running_handler_finish(workdir, processes):
    marker = workdir / "sleeping"
    config = config_with_slow(workdir, bot={"shutdown_grace_ms": 20000})
    jarvis = start(processes, config)
    reader = StdoutLines(jarvis)
    jarvis.send_line(f"/sleep 1500 {marker}")
    assert wait_for(marker.exists, timeout=GUARD_S)  # the handler is running now
    returncode, lines, stderr = stop_and_collect(jarvis, reader)
    assert returncode == 0, stderr
    assert lines == ["slept 1500"]


def test_handler_stuck_past_grace_exits_1_without_unloading(workdir, processes):
    marker = workdir / "sleeping"
    config = config_with_slow(workdir, bot={"shutdown_grace_ms": 200})
    jarvis = start(processes, config)
    reader = StdoutLines(jarvis)
    jarvis.send_line(f"/sleep 60000 {marker}")
    assert wait_for(marker.exists, timeout=GUARD_S)
    returncode, lines, stderr = stop_and_collect(jarvis, reader)
    assert returncode == 1
    assert lines == []
    assert "1 message(s) still being handled" in stderr
    assert "exiting without unloading plugins" in stderr


def test_sigterm_after_end_of_input_still_delivers_the_reply(workdir, processes):
    marker = workdir / "sleeping"
    jarvis = start(processes, config_with_slow(workdir))
    reader = StdoutLines(jarvis)
    jarvis.send_line(f"/sleep 1000 {marker}")
    jarvis.process.stdin.close()  # end of input: jarvis is now waiting for replies
    assert wait_for(marker.exists, timeout=GUARD_S)
    returncode, lines, stderr = stop_and_collect(jarvis, reader)
    assert returncode == 0, stderr
    assert lines == ["slept 1000"]


def test_job_stuck_past_grace_exits_1(workdir, processes):
    config = config_with_slow(workdir, bot={"shutdown_grace_ms": 200},
                              slow={"job_interval_ms": 100, "job_sleep_ms": 60000})
    jarvis = start(processes, config)
    reader = StdoutLines(jarvis)
    assert reader.next() == "slow tick 1"  # sent as the job starts its long run
    returncode, _, stderr = stop_and_collect(jarvis, reader)
    assert returncode == 1
    assert "job slow/tick still running after the shutdown grace period" in stderr
    assert "exiting without unloading plugins" in stderr


def test_sighup_reopens_the_log_file(workdir, processes):
    log = workdir / "jarvis.log"
    rotated = workdir / "jarvis.log.1"
    jarvis = start(processes, write_config(workdir, {"bot": {"log_file": log}}))
    reader = StdoutLines(jarvis)
    jarvis.send_line("/ping")
    assert reader.next() == "pong"
    os.rename(log, rotated)
    jarvis.signal(signal.SIGHUP)
    assert wait_for(log.exists, timeout=GUARD_S), "SIGHUP did not reopen the log"
    returncode, _, stderr = stop_and_collect(jarvis, reader)
    assert returncode == 0, stderr
    assert "running" in rotated.read_text()
    new_text = log.read_text()
    assert "log reopened" in new_text
    assert "stopping" in new_text
    assert "stopping" not in rotated.read_text()


# ---- jobs ----

def test_hello_tick_job_fires_repeatedly(workdir, processes):
    config = write_config(workdir, {"hello": {"tick_interval_ms": 100, "tick_chat": 1}})
    jarvis = start(processes, config)
    reader = StdoutLines(jarvis)
    ticks = [reader.wait_for(lambda line: line.startswith("tick ")) for _ in range(3)]
    assert ticks == ["tick 1", "tick 2", "tick 3"]
    returncode, _, stderr = stop_and_collect(jarvis, reader)
    assert returncode == 0, stderr


def test_slow_job_never_overlaps_itself(workdir, processes):
    # each run takes 250 ms against a 100 ms interval: ticks must be skipped
    config = config_with_slow(workdir, slow={"job_interval_ms": 100, "job_sleep_ms": 250,
                                             "job_chat": 1})
    jarvis = start(processes, config)
    reader = StdoutLines(jarvis)
    for n in (1, 2, 3):
        assert reader.wait_for(lambda line: line.startswith("slow tick")) == f"slow tick {n}"
    jarvis.send_line("/jobstats")
    stats = reader.wait_for(lambda line: line.startswith("ticks "))
    assert re.fullmatch(r"ticks \d+ overlaps 0", stats), stats
    returncode, _, stderr = stop_and_collect(jarvis, reader)
    assert returncode == 0, stderr
    assert re.search(r"job slow/tick ran past its next tick; skipped \d+ tick", stderr), stderr
