"""The single-instance lock with real processes and signals: a second
instance waits as a standby and exits 75 at max_wait, takes over after a
kill -9, refuses hostile lock paths with 78, `jarvis status` reports the
holder, and systemd notify messages arrive in the right order."""
import os
import pathlib
import signal
import socket
import subprocess
import threading

import pytest

from conftest import (JarvisProcess, assert_no_sanitizer_report, run_jarvis, wait_for,
                      write_config)


class LiveJarvis(JarvisProcess):
    """A JarvisProcess whose stdout and stderr lines are collected while it
    runs, so a test can wait for a log line or a reply."""

    def __init__(self, args, env=None, stdin=subprocess.PIPE):
        super().__init__(args, env=env, stdin=stdin)
        self.out_lines = []
        self.err_lines = []
        self.readers = [self._start_reader(self.process.stdout, self.out_lines),
                        self._start_reader(self.process.stderr, self.err_lines)]

    @staticmethod
    def _start_reader(stream, lines):
        def read():
            for line in stream:
                lines.append(line)
        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread

    def out(self):
        return "".join(self.out_lines)

    def err(self):
        return "".join(self.err_lines)

    def wait(self, timeout=30):
        code = self.process.wait(timeout=timeout)
        for thread in self.readers:
            thread.join(timeout=10)
        assert_no_sanitizer_report(self.err())
        return code, self.out(), self.err()

    def close_stdin(self):
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.wait(timeout=10)
        except Exception:
            pass

    def ping(self, word="pong"):
        """Sends /ping and waits for its answer: proof the instance runs."""
        before = self.out().count(word)
        self.send_line("/ping")
        return wait_for(lambda: self.out().count(word) > before, timeout=15)


class NotifyReceiver:
    """Plays systemd: a datagram socket named by NOTIFY_SOCKET."""

    def __init__(self, address):
        self.address = address
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind("\0" + address[1:] if address.startswith("@") else address)
        self.socket.settimeout(0.05)
        self.messages = []
        self.running = True
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self):
        while self.running:
            try:
                self.messages.append(self.socket.recv(4096).decode())
            except socket.timeout:
                continue
            except OSError:
                return

    def assignments(self):
        """Every KEY=VALUE line received so far, in order."""
        return [line for message in list(self.messages) for line in message.split("\n")]

    def has(self, prefix):
        return any(line.startswith(prefix) for line in self.assignments())

    def close(self):
        self.running = False
        self.thread.join(timeout=5)
        self.socket.close()


def lock_config(workdir, max_wait=1, lock=None, bot=None, plugins=None):
    lock_section = {"max_wait": max_wait}
    lock_section.update(lock or {})
    return write_config(workdir, {"bot": dict(bot or {}), "lock": lock_section,
                                  "plugins": plugins or {"enable": "hello"}})


def start(config, processes, env=None, args=()):
    instance = LiveJarvis(list(args) + ["-c", str(config)], env=env)
    processes.append(instance)
    return instance


def start_holder(config, processes, env=None):
    holder = start(config, processes, env=env)
    assert wait_for(lambda: "lock acquired" in holder.err(), timeout=15), holder.err()
    assert holder.ping()
    return holder


def wait_until_standby(instance):
    return wait_for(lambda: "waiting as a standby" in instance.err(), timeout=15)


def lock_pid(path):
    text = pathlib.Path(path).read_text()
    return int(text.split()[0])


def status(config, env=None):
    return run_jarvis(["status", "-c", str(config)], env=env, timeout=30)


# ---- waiting, timing out, taking over ----

def test_second_instance_waits_quietly_then_exits_75(workdir, processes):
    config = lock_config(workdir, max_wait=1)
    holder = start_holder(config, processes)
    second = start(config, processes)
    code, out, err = second.wait(timeout=30)
    assert code == 75, err
    lines = err.strip().splitlines()
    assert len(lines) == 2, lines  # one "waiting" line, one quiet time-out line
    assert f"another jarvis (pid {holder.pid}, since " in lines[0]
    assert "waiting as a standby (max_wait 1 s)" in lines[0]
    assert str(workdir / "jarvis.lock") in lines[0]
    assert " INFO " in lines[1] and "exiting 75" in lines[1]
    assert "plugin" not in err and out == ""  # it loaded nothing, answered nothing
    assert holder.ping()
    assert lock_pid(workdir / "jarvis.lock") == holder.pid
    holder.close_stdin()
    code, _, _ = holder.wait()
    assert code == 0


def test_sigterm_stops_a_waiting_standby_cleanly(workdir, processes):
    config = lock_config(workdir, max_wait=0)
    holder = start_holder(config, processes)
    standby = start(config, processes)
    assert wait_until_standby(standby), standby.err()
    standby.signal(signal.SIGTERM)
    code, out, err = standby.wait(timeout=10)
    assert code == 0, err  # a clean stop, not a time-out (75) nor death by signal
    assert "stop requested while waiting" in err
    assert out == "" and "plugin" not in err
    assert holder.ping()
    assert lock_pid(workdir / "jarvis.lock") == holder.pid


def test_standby_takes_over_after_kill9(workdir, processes):
    config = lock_config(workdir, max_wait=0)
    holder = start_holder(config, processes)
    standby = start(config, processes)
    assert wait_until_standby(standby), standby.err()
    assert "max_wait 0 = forever" in standby.err()
    assert "lock acquired" not in standby.err()
    holder.process.kill()
    holder.wait()
    assert wait_for(lambda: "lock acquired" in standby.err(), timeout=15), standby.err()
    assert standby.ping()
    assert lock_pid(workdir / "jarvis.lock") == standby.pid
    assert (workdir / "jarvis.lock").exists()
    standby.signal(signal.SIGTERM)
    code, _, err = standby.wait()
    assert code == 0, err
    assert (workdir / "jarvis.lock").exists()  # never unlinked


def test_clean_stop_hands_over_to_standby(workdir, processes):
    config = lock_config(workdir, max_wait=0)
    holder = start_holder(config, processes)
    standby = start(config, processes)
    assert wait_until_standby(standby)
    holder.signal(signal.SIGTERM)
    assert holder.wait()[0] == 0
    assert wait_for(lambda: "lock acquired" in standby.err(), timeout=15)
    assert standby.ping()


# ---- hostile lock paths: exit 78, one line, nothing written ----

def expect_refusal(config, path, reason):
    result = run_jarvis(["-c", str(config)], timeout=30)
    assert result.returncode == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert str(path) in lines[0] and reason in lines[0], lines[0]
    assert result.stdout == ""


def test_symlink_at_lock_path_refused(workdir):
    target = workdir / "precious.txt"
    target.write_bytes(b"precious bytes\n\x00\x01")
    before = target.read_bytes()
    lock = workdir / "jarvis.lock"
    lock.symlink_to(target)
    expect_refusal(lock_config(workdir), lock, "symbolic link")
    assert target.read_bytes() == before
    assert lock.is_symlink()


def test_foreign_owned_lock_file_refused(workdir):
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    lock = workdir / "jarvis.lock"
    lock.write_text("12 34\n")
    os.chmod(lock, 0o600)
    os.chown(lock, 65534, 65534)
    expect_refusal(lock_config(workdir), lock, "owned by uid 65534")
    assert lock.read_text() == "12 34\n"


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o770])
def test_shared_writable_directory_refused(workdir, mode):
    shared = workdir / "shared"
    shared.mkdir()
    os.chmod(shared, mode)
    lock = shared / "jarvis.lock"
    expect_refusal(lock_config(workdir, lock={"path": str(lock)}), lock,
                   "writable by group or others")
    assert list(shared.iterdir()) == []


def test_group_writable_lock_file_refused(workdir):
    lock = workdir / "jarvis.lock"
    lock.write_text("untouched\n")
    os.chmod(lock, 0o660)
    expect_refusal(lock_config(workdir), lock, "mode 0660")
    assert lock.read_text() == "untouched\n"


def test_default_lock_in_safe_xdg_runtime_dir(workdir, processes):
    runtime = workdir / "runtime"
    runtime.mkdir(mode=0o700)
    env = {"XDG_RUNTIME_DIR": str(runtime)}
    config = lock_config(workdir, lock={"path": ""})
    holder = start_holder(config, processes, env=env)
    assert lock_pid(runtime / "jarvis.lock") == holder.pid
    assert not (workdir / "state" / "jarvis.lock").exists()
    result = status(config, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"holder: pid {holder.pid} since " in result.stdout


def test_unsafe_xdg_runtime_dir_falls_back_to_state_dir(workdir, processes):
    runtime = workdir / "runtime"
    runtime.mkdir()
    os.chmod(runtime, 0o755)
    config = lock_config(workdir, lock={"path": ""})
    holder = start_holder(config, processes, env={"XDG_RUNTIME_DIR": str(runtime)})
    assert lock_pid(workdir / "state" / "jarvis.lock") == holder.pid
    assert list(runtime.iterdir()) == []
    assert "XDG_RUNTIME_DIR" in holder.err()


# ---- jarvis status ----

def test_status_with_nobody_and_no_state(workdir):
    config = lock_config(workdir)
    result = status(config)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "holder: none" in result.stdout.splitlines()
    assert "polling: no" in result.stdout.splitlines()
    assert "no state yet" in result.stdout
    assert not (workdir / "state").exists()  # status creates nothing


def test_status_on_an_empty_state_dir_creates_no_database(workdir):
    config = lock_config(workdir)
    (workdir / "state").mkdir(mode=0o700)
    result = status(config)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "no state yet" in result.stdout and "holds no database" in result.stdout
    assert list((workdir / "state").iterdir()) == []  # looking created nothing


def test_status_with_holder_then_after_it_died(workdir, processes):
    config = lock_config(workdir, max_wait=0)
    holder = start_holder(config, processes)
    standby = start(config, processes)
    assert wait_until_standby(standby)
    before = (workdir / "jarvis.lock").read_bytes()
    result = status(config)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"holder: pid {holder.pid} since " in result.stdout
    assert "polling: unknown" in result.stdout  # console mode keeps no poll status
    assert (workdir / "jarvis.lock").read_bytes() == before
    assert holder.ping()  # undisturbed
    assert "lock acquired" not in standby.err()  # status did not free the lock
    holder.process.kill()
    holder.wait()
    assert wait_for(lambda: "lock acquired" in standby.err(), timeout=15)
    assert standby.ping()  # running, its signal handlers installed
    standby.signal(signal.SIGTERM)
    assert standby.wait()[0] == 0
    result = status(config)
    assert result.returncode == 3, result.stdout
    assert "holder: none" in result.stdout


def test_status_unreadable_lock_exits_1(workdir):
    lock = workdir / "jarvis.lock"
    lock.symlink_to(workdir / "elsewhere")
    result = status(lock_config(workdir))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "holder: unknown" in result.stdout
    assert not (workdir / "elsewhere").exists()


# ---- systemd notify ----

@pytest.fixture
def receivers():
    made = []
    yield made
    for receiver in made:
        receiver.close()


def receiver_for(receivers, address):
    receiver = NotifyReceiver(address)
    receivers.append(receiver)
    return receiver


def test_notify_ready_only_once_the_lock_is_held(workdir, processes, receivers):
    config = lock_config(workdir, max_wait=0)
    holder_socket = receiver_for(receivers, str(workdir / "holder.sock"))
    standby_socket = receiver_for(receivers, f"@jarvis-test-standby-{os.getpid()}")
    holder = start_holder(config, processes, env={"NOTIFY_SOCKET": holder_socket.address})
    assert wait_for(lambda: holder_socket.has("READY=1"), timeout=10)
    standby = start(config, processes, env={"NOTIFY_SOCKET": standby_socket.address})
    expected_status = f"STATUS=waiting for lock held by pid {holder.pid}"
    assert wait_for(lambda: standby_socket.has(expected_status), timeout=15), \
        standby_socket.assignments()
    assert wait_for(lambda: standby_socket.has("EXTEND_TIMEOUT_USEC="), timeout=5)
    assert not standby_socket.has("READY=1")

    holder.process.kill()
    holder.wait()
    assert wait_for(lambda: standby_socket.has("READY=1"), timeout=15)
    # the log line was written before READY, but the test reads stderr through
    # a pipe and a thread: give it the moment to arrive
    assert wait_for(lambda: "lock acquired" in standby.err(), timeout=5)
    lines = standby_socket.assignments()
    assert lines.index(expected_status) < lines.index("READY=1")
    assert not standby_socket.has("STOPPING=1")
    standby.signal(signal.SIGTERM)
    assert standby.wait()[0] == 0
    assert wait_for(lambda: standby_socket.has("STOPPING=1"), timeout=5)
    lines = standby_socket.assignments()
    assert lines.index("READY=1") < lines.index("STOPPING=1")


def test_notify_standby_timing_out_never_sends_ready(workdir, processes, receivers):
    config = lock_config(workdir, max_wait=1)
    start_holder(config, processes)
    receiver = receiver_for(receivers, str(workdir / "standby.sock"))
    standby = start(config, processes, env={"NOTIFY_SOCKET": receiver.address})
    assert standby.wait()[0] == 75
    assert wait_for(lambda: receiver.has("STATUS=waiting for lock"), timeout=5)
    assert "EXTEND_TIMEOUT_USEC=6000000" in receiver.assignments()  # max_wait + 5 s
    assert not receiver.has("READY=1")
