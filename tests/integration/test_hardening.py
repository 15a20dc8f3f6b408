"""The security review's findings (issue 17) through the real ./jarvis: an
unsafe state_dir is refused (78), a damaged or unwritable state database
stops the bot with 74 and a recovery hint and is left byte for byte as it
was, and the process is not dumpable unless [bot] allow_core_dumps says so."""
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

from conftest import (JarvisProcess, assert_no_sanitizer_report, hello_and_crasher_plugin_dir,
                      jarvis_binary, run_console, start_fake_telegram, telegram_bot_settings,
                      wait_for, write_config)

OTHER_UID = 65534  # nobody


def state_config(workdir, **bot):
    return write_config(workdir, {"bot": dict({"state_dir": str(workdir / "state")}, **bot)})


def refusal_lines(result):
    return [line for line in result.stderr.splitlines() if " ERROR " in line or line.startswith("jarvis:")]


# ---- item 4: state_dir owner and mode -------------------------------------

@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777])
def test_state_dir_writable_by_others_is_refused(workdir, mode):
    state = workdir / "state"
    state.mkdir()
    os.chmod(state, mode)
    result = run_console(state_config(workdir), "/ping\n")
    assert result.returncode == 78, result.stderr
    lines = refusal_lines(result)
    assert len(lines) == 1, result.stderr
    assert f"state_dir {state} is writable by group or others (mode {mode:04o})" in lines[0]
    assert list(state.iterdir()) == []  # no database was created in it
    assert "pong" not in result.stdout


def test_state_dir_owned_by_another_user_is_refused(workdir):
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    state = workdir / "state"
    state.mkdir(mode=0o700)
    os.chown(state, OTHER_UID, OTHER_UID)
    result = run_console(state_config(workdir), "/ping\n")
    assert result.returncode == 78, result.stderr
    lines = refusal_lines(result)
    assert len(lines) == 1 and f"owned by uid {OTHER_UID}" in lines[0], result.stderr
    assert list(state.iterdir()) == []


def test_private_state_dir_behind_a_symlink_is_accepted(workdir):
    real = workdir / "private-state"
    real.mkdir(mode=0o700)
    (workdir / "state").symlink_to(real)  # as systemd's DynamicUser lays it out
    result = run_console(state_config(workdir), "/ping\n")
    assert result.returncode == 0, result.stderr
    assert "pong" in result.stdout
    assert (real / "jarvis.db").exists()


# ---- item 6: a state database that cannot be used --------------------------

def page_size(database):
    """SQLite's page size from the file header (offset 16, big-endian; 1 = 65536)."""
    size = int.from_bytes(database.read_bytes()[16:18], "big")
    return 65536 if size == 1 else size


def make_database(workdir):
    """A real database written by a first run, closed cleanly."""
    result = run_console(state_config(workdir), "/ping\n" * 20)
    assert result.returncode == 0, result.stderr
    database = workdir / "state" / "jarvis.db"
    assert database.stat().st_size >= 4 * page_size(database)
    return database


def expect_unusable(workdir, database, kind):
    before = database.read_bytes()
    result = run_console(state_config(workdir), "/ping\n")
    assert result.returncode == 74, result.stderr
    lines = refusal_lines(result)
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert f"state database {database}" in line, line
    assert kind in line, line
    assert database.read_bytes() == before  # never written, truncated or replaced
    assert "pong" not in result.stdout
    return line


def test_garbage_database_stops_with_74_and_a_recovery_hint(workdir):
    state = workdir / "state"
    state.mkdir(mode=0o700)
    database = state / "jarvis.db"
    database.write_bytes(b"this is not a database, but someone's notes\n" * 200)
    line = expect_unusable(workdir, database, "is damaged (file is not a database)")
    assert f"mv {database} {database}.broken" in line
    assert "loses the Telegram offset" in line
    assert sorted(p.name for p in state.iterdir()) == ["jarvis.db"]  # no -wal, no -shm


def test_truncated_database_stops_with_74_and_is_left_as_found(workdir):
    database = make_database(workdir)
    with open(database, "r+b") as file:
        file.truncate(database.stat().st_size // 2)
    line = expect_unusable(workdir, database, "is damaged")
    assert "mv " in line


def test_database_with_a_damaged_page_is_not_written_to(workdir):
    database = make_database(workdir)
    data = bytearray(database.read_bytes())
    page = page_size(database)
    data[2 * page:3 * page] = b"\xa5" * page  # a b-tree page turned to noise
    database.write_bytes(bytes(data))
    expect_unusable(workdir, database, "is damaged")


def test_read_only_file_system_stops_with_74(workdir):
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1)")
    database = make_database(workdir)
    state = workdir / "state"
    before = database.read_bytes()
    config = state_config(workdir)
    # a private mount namespace: the state dir is bound read-only for this
    # one process only (as root, or as a user through a user namespace)
    script = ('mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && '
              'shift && exec "$@"')
    namespace = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    probe = subprocess.run(namespace + ["true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("cannot create a mount namespace here")
    result = subprocess.run(namespace + ["sh", "-c", script, "sh", str(state), jarvis_binary(),
                                         "-c", str(config)],
                            input="/ping\n", text=True, capture_output=True, timeout=60)
    assert_no_sanitizer_report(result.stderr)
    assert result.returncode == 74, result.stderr
    lines = refusal_lines(result)
    assert len(lines) == 1, result.stderr
    assert f"state database {database} cannot be used (Read-only file system)" in lines[0]
    assert "nothing was changed" in lines[0]
    assert database.read_bytes() == before


# ---- item 3: no core dumps, /proc/PID private ------------------------------

def run_as_other_user():
    """(uid, preexec_fn): another uid when we are root (so that root-owned
    /proc files tell), else ourselves (root then owns them only if hidden)."""
    if os.geteuid() != 0:
        return os.geteuid(), None

    def drop():
        os.setgroups([])
        os.setgid(OTHER_UID)
        os.setuid(OTHER_UID)
    return OTHER_UID, drop


@pytest.mark.parametrize("allow", [None, "false", "true"])
def test_process_is_not_dumpable_unless_allowed(allow):
    uid, drop = run_as_other_user()
    directory = pathlib.Path(tempfile.mkdtemp(prefix="jarvis-dump-"))
    try:
        os.chmod(directory, 0o700)
        os.chown(directory, uid, -1)
        bot = {} if allow is None else {"allow_core_dumps": allow}
        config = write_config(directory, {"bot": bot})
        os.chown(config, uid, -1)
        env = dict(os.environ, JARVIS_DUMP_CANARY="secret-in-environ")
        process = subprocess.Popen([jarvis_binary(), "-c", str(config)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=env, cwd=directory, preexec_fn=drop)
        try:
            # the lock is taken after the config (and allow_core_dumps) is read
            assert wait_for(lambda: (directory / "jarvis.lock").exists() and
                            (directory / "jarvis.lock").stat().st_size > 0, timeout=20)
            environ = pathlib.Path(f"/proc/{process.pid}/environ")
            reader = subprocess.run(["cat", str(environ)], capture_output=True, preexec_fn=drop)
            if allow == "true":
                assert environ.stat().st_uid == uid
                assert reader.returncode == 0 and b"secret-in-environ" in reader.stdout
            else:
                # non-dumpable: the kernel hands /proc/PID to root and refuses
                # the process's own uid (no core file, no ptrace either)
                assert environ.stat().st_uid == 0
                assert reader.returncode != 0 and b"secret-in-environ" not in reader.stdout
        finally:
            out, err = process.communicate("/ping\n", timeout=30)
        assert process.returncode == 0, err
        assert "pong" in out
        assert_no_sanitizer_report(err)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_systemd_unit_forbids_cores_and_does_not_restart_unusable_state():
    unit = (pathlib.Path(__file__).resolve().parents[2] / "contrib" / "jarvis.service.in").read_text()
    settings = dict(line.split("=", 1) for line in unit.splitlines()
                    if "=" in line and not line.startswith("#"))
    assert settings["LimitCORE"] == "0"
    assert set(settings["RestartPreventExitStatus"].split()) == {"64", "74", "78"}


# ---- item 2: the lock file deleted while held -----------------------------

def test_deleted_lock_file_holder_stands_down_and_newcomer_waits(workdir, processes):
    fake = start_fake_telegram(processes)
    settings = telegram_bot_settings(workdir, fake.base, "123456789:AAcanaryCANARYcanaryCANARYcanary12345",
                                     log_file="", poll_timeout=3)
    plugins = {"dir": str(hello_and_crasher_plugin_dir(workdir)), "enable": "hello"}
    config = write_config(workdir, {"bot": settings, "plugins": plugins})
    lock = workdir / "jarvis.lock"
    first = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(first)
    fake.message(5, "/ping")
    assert wait_for(lambda: fake.sent_texts(5) == ["pong"], timeout=20)
    # mid long poll: the first holder is inside a 3 s getUpdates
    assert wait_for(lambda: fake.counters()["active_polls"] == 1, timeout=10)
    os.unlink(lock)
    second = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(second)
    code, _, first_err = first.wait(timeout=30)
    assert code == 69, first_err
    stand_down = [line for line in first_err.splitlines() if "standing down" in line]
    assert len(stand_down) == 1 and "deleted or replaced while we held it" in stand_down[0]
    fake.message(5, "/ping")
    assert wait_for(lambda: fake.sent_texts(5) == ["pong", "pong"], timeout=20)
    second.signal()
    code, _, second_err = second.wait(timeout=30)
    assert code == 0, second_err
    counters = fake.counters()
    # never two pollers: no getUpdates overlapped another, no 409 was sent
    assert counters["overlaps"] == 0 and counters["conflicts_sent"] == 0, counters
    assert f"pid {first.pid} still runs with an earlier lock file" in second_err, second_err
    assert lock.exists()  # the newcomer's file; nobody recreated one under the old holder
