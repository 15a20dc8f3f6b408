"""Group commits through the real ./jarvis and real SQLite against
tests/fakes/fake_telegram.py, read from the metrics (GET /metrics): a burst
of updates shares commits (far fewer COMMITs than handled commits and sent
marks), and one message at low load commits at once, never on the bound's
timer, its sent mark folded in from the sent journal by one commit of its
own (asserted by what committed them, not by time)."""
import socket
import subprocess
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import (JarvisProcess, hello_and_slow_plugin_dir, log_text, run_jarvis,
                      start_fake_telegram, telegram_bot_settings, wait_for, write_config)
from conftest import stop_jarvis as stop

TOKEN = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def counters(port, name, label):
    """{label value: value} of one counter family."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[sample.labels.get(label, "")] = sample.value
    return found


def outbox_waiting(config):
    for line in run_jarvis(["status", "-c", str(config)]).stdout.splitlines():
        if line.startswith("outbox: ") and line.endswith(" message part(s) waiting"):
            return int(line.split()[1])
    return None


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes)


def start_bot(workdir, fake, processes, port):
    settings = telegram_bot_settings(workdir, fake.base, TOKEN)
    config = write_config(workdir, {"bot": settings,
                                    "metrics": {"listen": f"127.0.0.1:{port}"},
                                    "plugins": {"dir": str(hello_and_slow_plugin_dir(workdir)),
                                                "enable": "hello, slow"}})
    bot = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(bot)
    assert wait_for(lambda: "metrics: serving" in log_text(workdir), timeout=20)
    return config, bot


def answered(fake, texts):
    sent = {message["text"] for message in fake.sent()}
    return all(text in sent for text in texts)


def test_a_burst_shares_commits(workdir, fake, processes):
    port = free_port()
    config, bot = start_bot(workdir, fake, processes, port)
    texts = [f"burst-{index}" for index in range(1000)]
    fake.messages([{"chat_id": 9000 + index % 10, "text": "/echo " + text}
                   for index, text in enumerate(texts)])
    assert wait_for(lambda: answered(fake, texts), timeout=120, interval=0.2)
    assert wait_for(lambda: outbox_waiting(config) == 0, timeout=20)
    units = counters(port, "jarvis_store_units_total", "kind")
    commits = counters(port, "jarvis_store_commits_total", "why")
    stop(bot)
    print(f"\nunits={units} commits={commits}")
    assert units.get("handled") == 1000
    assert units.get("sent") == 1000
    # 2000 units that committed one by one before: clearly fewer commits now
    assert sum(commits.values()) < 1000, commits


def test_one_message_commits_at_once(workdir, fake, processes):
    port = free_port()
    config, bot = start_bot(workdir, fake, processes, port)
    fake.message(9100, "/echo alone")
    assert wait_for(lambda: fake.sent_texts(9100) == ["alone"], timeout=20)
    assert wait_for(lambda: outbox_waiting(config) == 0, timeout=20)
    commits = counters(port, "jarvis_store_commits_total", "why")
    units = counters(port, "jarvis_store_units_total", "kind")
    stop(bot)
    assert units.get("handled") == 1 and units.get("sent") == 1, units
    # nothing else was ready: the handled commit committed when written,
    # without waiting for the bound's timer; the mark went to the sent
    # journal and was folded in by a commit of its own once at rest
    assert commits.get("idle") == 1, commits
    assert commits.get("journal") == 1, commits
    assert commits.get("timer", 0) == 0, commits
