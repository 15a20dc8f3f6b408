"""Shared fixtures for integration tests: they drive the real ./jarvis binary
(or the sanitizer build, via JARVIS_OUT) with real plugins, real files,
processes and signals; only remote services are fakes on 127.0.0.1."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
OUT = (REPO / os.environ.get("JARVIS_OUT", ".")).resolve()
FAKES = REPO / "tests" / "fakes"
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


# JARVIS_TEST_STATE_BACKEND=postgres: every config written by write_config
# keeps its state in a private PostgreSQL cluster (one database per test
# directory), so the same scenarios run against the postgres backend.
STATE_BACKEND = os.environ.get("JARVIS_TEST_STATE_BACKEND", "sqlite")
_cluster = None
_databases = {}


def postgres_cluster():
    """The session's private PostgreSQL cluster, started on first use
    (stopped by its pid when the session ends)."""
    global _cluster
    if _cluster is None:
        import pg_cluster
        _cluster = pg_cluster.start_cluster()
    return _cluster


def postgres_dsn_for(directory):
    """A URI (with the password) of a database of its own for directory."""
    key = str(pathlib.Path(directory).resolve())
    if key not in _databases:
        _databases[key] = postgres_cluster().create_database()
    return postgres_cluster().dsn(_databases[key])


def jarvis_binary():
    return str(OUT / "jarvis")


def built_plugin_dir():
    return str(OUT / "plugins")


def test_plugin_dir():
    return str(OUT / "test-plugins")


def assert_no_sanitizer_report(text):
    for marker in SANITIZER_MARKERS:
        assert marker not in text, "sanitizer report:\n" + text


def write_config(directory, sections, extra_text=""):
    """sections: {"bot": {"workers": 2}, ...} -> plugins.ini path. Sections
    given as None are written empty. [bot] state_dir and [plugins] dir get
    test-friendly defaults unless given."""
    directory = pathlib.Path(directory)
    sections = {name: dict(values or {}) for name, values in sections.items()}
    bot = sections.setdefault("bot", {})
    bot.setdefault("token", "")
    bot.setdefault("state_dir", str(directory / "state"))
    lock = sections.setdefault("lock", {})
    lock.setdefault("path", str(directory / "jarvis.lock"))
    plugins = sections.setdefault("plugins", {})
    plugins.setdefault("dir", built_plugin_dir())
    plugins.setdefault("enable", "hello")
    if STATE_BACKEND == "postgres" and "state" not in sections:
        sections["state"] = {"backend": "postgres", "dsn": postgres_dsn_for(directory)}
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            lines.append(f"{key} = {value}")
        lines.append("")
    path = directory / "plugins.ini"
    path.write_text("\n".join(lines) + extra_text)
    return path


def run_jarvis(args, stdin_text="", timeout=60, env=None, cwd=None):
    """Runs ./jarvis to completion; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.pop("TELEGRAM_BOT_TOKEN", None)
    full_env.pop("XAI_API_KEY", None)
    if env:
        full_env.update(env)
    result = subprocess.run([jarvis_binary()] + list(args), input=stdin_text, text=True,
                            capture_output=True, timeout=timeout, env=full_env, cwd=cwd)
    assert_no_sanitizer_report(result.stderr)
    return result


def run_console(config_path, stdin_text, timeout=60, env=None):
    return run_jarvis(["-c", str(config_path)], stdin_text, timeout=timeout, env=env)


def hello_and_slow_plugin_dir(workdir):
    """A 0700 plugin dir holding the built hello.so and the slow test plugin
    (/sleep, /say, a job), for tests of budgets, order and signals."""
    directory = pathlib.Path(workdir) / "plugins"
    directory.mkdir(mode=0o700)
    shutil.copy(os.path.join(built_plugin_dir(), "hello.so"), directory / "hello.so")
    shutil.copy(os.path.join(test_plugin_dir(), "slow.so"), directory / "slow.so")
    for item in directory.iterdir():
        os.chmod(item, 0o700)
    return directory


def config_with_slow(workdir, bot=None, enable="hello, slow", slow=None):
    """plugins.ini loading hello and slow from hello_and_slow_plugin_dir;
    bot and slow are the [bot] and [slow] settings."""
    sections = {"bot": bot or {},
                "plugins": {"dir": hello_and_slow_plugin_dir(workdir), "enable": enable}}
    if slow:
        sections["slow"] = slow
    return write_config(workdir, sections)


def fetch_json(url, body=None):
    """GETs url, or POSTs body as JSON when given; returns the decoded JSON
    answer. How tests drive and read the fakes' /control endpoints."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class FakeTelegram:
    """The /control endpoints of a running tests/fakes/fake_telegram.py."""

    def __init__(self, base):
        self.base = base

    def call(self, path, body=None):
        return fetch_json(self.base + path, body)

    def message(self, chat_id, text, **extra):
        """Queues a text message update; returns its update_id."""
        return self.call("/control/message", dict(extra, chat_id=chat_id, text=text))["update_id"]

    def raw_update(self, update_id, payload):
        """Queues payload (bytes, possibly not JSON) as update update_id."""
        request = urllib.request.Request(f"{self.base}/control/update_raw?update_id={update_id}",
                                         data=payload, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def fault(self, method, kind, count=1, **extra):
        self.call("/control/fault", dict(extra, method=method, kind=kind, count=count))

    def sent(self, chat_id=None):
        suffix = "" if chat_id is None else f"?chat_id={chat_id}"
        return self.call("/control/sent" + suffix)["messages"]

    def sent_texts(self, chat_id):
        return [message["text"] for message in self.sent(chat_id)]

    texts = sent_texts

    def messages(self, specs):
        """Queues several message updates at once; returns their update_ids."""
        return self.call("/control/messages", {"messages": specs})["update_ids"]

    def update(self, update):
        """Queues any update object; returns its update_id."""
        return self.call("/control/update", {"update": update})["update_id"]

    def counters(self):
        return self.call("/control/counters")

    def confirmed(self, update_id):
        """True once the bot confirmed update_id to Telegram (getUpdates with
        a higher offset): the host confirms only after its handlers finished."""
        return self.counters()["confirmed_offset"] > update_id


def start_fake_telegram(processes, *args):
    """Starts tests/fakes/fake_telegram.py (args: --token, --username, ...),
    registered in the processes fixture; returns its FakeTelegram."""
    process, base = start_fake("fake_telegram.py", *args)
    processes.append(process)
    return FakeTelegram(base)


def telegram_bot_settings(workdir, api_base, token, **overrides):
    """[bot] settings for a bot polling a fake: short polls and backoff, send
    rate limits lifted, a debug log in workdir/jarvis.log."""
    settings = {"token": token, "api_base": api_base, "poll_timeout": 2,
                "log_level": "debug", "backoff_initial_ms": 50, "backoff_max_ms": 400,
                "send_rate_per_chat": 10000, "send_burst_per_chat": 10000,
                "send_rate_total": 100000, "shutdown_grace_ms": 5000,
                "log_file": str(pathlib.Path(workdir) / "jarvis.log")}
    settings.update(overrides)
    return settings


def hello_and_crasher_plugin_dir(workdir):
    """A plugin dir holding the built hello.so and the crasher test plugin
    (/crash, /long, /emoji), as [plugins] dir wants."""
    directory = pathlib.Path(workdir) / "plugins"
    directory.mkdir(mode=0o755)
    shutil.copy(os.path.join(built_plugin_dir(), "hello.so"), directory / "hello.so")
    shutil.copy(os.path.join(test_plugin_dir(), "crasher.so"), directory / "crasher.so")
    return directory


def log_text(workdir):
    """The bot's log file workdir/jarvis.log ("" until it exists)."""
    path = pathlib.Path(workdir) / "jarvis.log"
    return path.read_text(errors="replace") if path.exists() else ""


def stop_jarvis(bot, expect=0, timeout=30):
    """SIGTERM, wait, check the exit status; returns (stdout, stderr)."""
    bot.signal(signal.SIGTERM)
    code, out, err = bot.wait(timeout=timeout)
    assert code == expect, err
    return out, err


class JarvisProcess:
    """A long-running jarvis for signal and timing tests."""

    def __init__(self, args, env=None, stdin=subprocess.PIPE, cwd=None):
        full_env = dict(os.environ)
        full_env.pop("TELEGRAM_BOT_TOKEN", None)
        full_env.pop("XAI_API_KEY", None)
        if env:
            full_env.update(env)
        self.process = subprocess.Popen([jarvis_binary()] + list(args), stdin=stdin,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env=full_env, cwd=cwd)

    @property
    def pid(self):
        return self.process.pid

    def send_line(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def signal(self, signum=signal.SIGTERM):
        self.process.send_signal(signum)

    def wait(self, timeout=30):
        out, err = self.process.communicate(timeout=timeout)
        assert_no_sanitizer_report(err)
        return self.process.returncode, out, err

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.communicate(timeout=10)
        except Exception:
            pass


def wait_for(predicate, timeout=10.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@pytest.fixture
def workdir(tmp_path):
    os.chmod(tmp_path, 0o700)
    return tmp_path


@pytest.fixture
def processes():
    """Collects JarvisProcess / Popen objects and kills leftovers after the test."""
    started = []
    yield started
    for item in started:
        try:
            if isinstance(item, JarvisProcess):
                item.kill()
            elif item.poll() is None:
                item.send_signal(signal.SIGKILL)
                item.wait(timeout=10)
        except Exception:
            pass


def start_fake(script, *args):
    """Starts tests/fakes/<script> on 127.0.0.1 with a free port. The fake
    prints 'PORT <n>' as its first stdout line. Returns (Popen, base_url).
    Kill it with .kill() (or register it in the processes fixture)."""
    process = subprocess.Popen([sys.executable, str(FAKES / script), "--port", "0"] + list(args),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"{script} did not start: {line!r} {process.stderr.read()}")
    port = int(line.split()[1])
    return process, f"http://127.0.0.1:{port}"
