"""Operations through the real ./jarvis: GET /metrics scraped while messages
flow through the fake Telegram and parsed with prometheus_client's text
parser, counters checked against what was sent; [metrics] listen refused on
a non-loopback address; `jarvis status` and `status --json`; the one log
line per update in text and JSON; and the canary token in none of them."""
import json
import pathlib
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import (JarvisProcess, built_plugin_dir, hello_and_crasher_plugin_dir, log_text,
                      run_jarvis, start_fake, start_fake_telegram, telegram_bot_settings,
                      wait_for, write_config)
from conftest import stop_jarvis as stop

CANARY = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"
CANARY_SECRET = "AAcanaryCANARYcanaryCANARYcanary12345"
SECRET_WORD = "hush-7f3a"  # in message texts: only a debug log may show it


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def samples(text):
    """{(sample name, ((label, value), ...)): value}, through the real parser."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(parsed, name, **labels):
    return parsed.get((name, tuple(sorted(labels.items()))), 0)


@pytest.fixture
def fake(processes):
    return start_fake_telegram(processes)


def start_bot(workdir, fake, processes, port, **bot):
    settings = telegram_bot_settings(workdir, fake.base, CANARY, **bot)
    plugin_dir = hello_and_crasher_plugin_dir(workdir)
    config = write_config(workdir, {"bot": settings,
                                    "metrics": {"listen": f"127.0.0.1:{port}"},
                                    "plugins": {"dir": str(plugin_dir),
                                                "enable": "hello, crasher"}})
    bot_process = JarvisProcess(["-c", str(config)], stdin=subprocess.DEVNULL)
    processes.append(bot_process)
    assert wait_for(lambda: "metrics: serving" in log_text(workdir), timeout=20)
    return config, bot_process


def test_metrics_count_what_flowed(workdir, fake, processes):
    port = free_port()
    fake.fault("getUpdates", "500")
    config, bot = start_bot(workdir, fake, processes, port, log_level="info")
    chats = [300 + index for index in range(10)]
    pings = [{"chat_id": chat, "text": "/ping"} for chat in chats for _ in range(3)]
    echoes = [{"chat_id": chat, "text": f"/echo {SECRET_WORD} {chat}"} for chat in chats]
    scrapes = []
    stop_scraping = threading.Event()

    def keep_scraping():
        while not stop_scraping.is_set():
            scrapes.append(samples(scrape(port)))
            time.sleep(0.02)

    scraper = threading.Thread(target=keep_scraping)
    scraper.start()
    try:
        fake.messages(pings + echoes)
        assert wait_for(lambda: fake.counters()["sent"] >= len(pings) + len(echoes), timeout=30)
        fake.fault("sendMessage", "403")
        fake.message(999, "/echo refused")
        assert wait_for(lambda: "refused (403" in log_text(workdir), timeout=10)
    finally:
        stop_scraping.set()
        scraper.join()
    handled = len(pings) + len(echoes) + 1
    final = wait_for(lambda: (lambda parsed: parsed if value(
        parsed, "jarvis_updates_total", outcome="handled") == handled else None)(
            samples(scrape(port))), timeout=10)
    assert final, samples(scrape(port))
    # every scrape along the way parsed, and the counters only grew
    assert len(scrapes) >= 2
    seen = [value(parsed, "jarvis_updates_total", outcome="handled") for parsed in scrapes]
    assert seen == sorted(seen)
    assert value(final, "jarvis_messages_sent_total") == fake.counters()["sent"] == handled - 1
    assert value(final, "jarvis_send_errors_total", kind="403") == 1
    assert value(final, "jarvis_telegram_poll_errors_total", kind="5xx") == 1
    assert value(final, "jarvis_updates_total", outcome="poison") == 0
    assert value(final, "jarvis_handler_duration_seconds_count",
                 plugin="hello", command="ping") == len(pings)
    assert value(final, "jarvis_handler_duration_seconds_count",
                 plugin="hello", command="echo") == len(echoes) + 1
    assert value(final, "jarvis_handler_duration_seconds_bucket",
                 plugin="hello", command="ping", le="+Inf") == len(pings)
    assert value(final, "jarvis_inbox_depth") == 0
    assert value(final, "jarvis_outbox_depth") == 0
    assert value(final, "jarvis_plugins_loaded") == 2
    assert value(final, "jarvis_build_info", version="0.1.0") == 1
    start = value(final, "process_start_time_seconds")
    assert time.time() - 120 < start <= time.time()
    text = scrape(port)
    assert "# TYPE jarvis_handler_duration_seconds histogram" in text
    assert "# TYPE jarvis_updates_total counter" in text
    out, err = stop(bot)
    assert CANARY_SECRET not in text + out + err + log_text(workdir)
    assert SECRET_WORD not in log_text(workdir)  # info: texts stay out of the log


def test_other_paths_and_methods_are_refused(workdir, fake, processes):
    port = free_port()
    _, bot = start_bot(workdir, fake, processes, port)
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
    assert missing.value.code == 404
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", data=b"x",
                                     method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 405
    stop(bot)


def metrics_config(workdir, metrics):
    return write_config(workdir, {"metrics": metrics})


@pytest.mark.parametrize("listen", ["0.0.0.0:9464", "[::]:9464", "192.168.1.10:9464"])
def test_non_loopback_listen_is_a_config_error(workdir, listen):
    config = metrics_config(workdir, {"listen": listen})
    result = run_jarvis(["check", "-c", str(config)])
    assert result.returncode == 78, result.stderr
    line = next(line for line in config.read_text().splitlines() if line.startswith("listen"))
    number = config.read_text().splitlines().index(line) + 1
    assert f"{config}:{number}: [metrics] listen {listen} is not a loopback address" in \
        result.stderr
    assert "allow_remote = true" in result.stderr


def test_allow_remote_accepts_and_bad_addresses_are_named(workdir):
    config = metrics_config(workdir, {"listen": "0.0.0.0:9464", "allow_remote": "true"})
    assert run_jarvis(["check", "-c", str(config)]).returncode == 0
    config = metrics_config(workdir, {"listen": "[::1]:9464"})
    assert run_jarvis(["check", "-c", str(config)]).returncode == 0
    for listen, problem in [("127.0.0.1", "expected HOST:PORT"),
                            ("127.0.0.1:0", "port must be a number 1..65535"),
                            ("127.0.0.1:99999", "port must be a number 1..65535"),
                            ("metrics.example:9464", "names are not looked up")]:
        config = metrics_config(workdir, {"listen": listen})
        result = run_jarvis(["check", "-c", str(config)])
        assert result.returncode == 78, result.stderr
        assert problem in result.stderr
        assert re.search(rf"{re.escape(str(config))}:\d+: \[metrics\] listen", result.stderr)


def status(config, *extra):
    return run_jarvis(["status", *extra, "-c", str(config)], timeout=30)


def test_status_text_and_json(workdir, fake, processes):
    port = free_port()
    config, bot = start_bot(workdir, fake, processes, port)
    fake.fault("getUpdates", "502")
    for chat in (41, 42):
        fake.message(chat, "/ping")
    assert wait_for(lambda: fake.counters()["sent"] >= 2, timeout=20)

    def snapshot_counts_both():
        report = json.loads(status(config, "--json").stdout)
        counters = {(c["name"], tuple(sorted(c["labels"].items()))): c["value"]
                    for c in report.get("counters", [])}
        handled = counters.get(("jarvis_updates_total", (("outcome", "handled"),)))
        return report if handled == 2 and report.get("recent_errors") else None

    report = wait_for(snapshot_counts_both, timeout=10, interval=0.2)
    assert report, status(config, "--json").stdout
    assert report["holder"] == {"state": "running", "pid": bot.pid,
                                "since": report["holder"]["since"]}
    assert report["version"] == "0.1.0"
    assert report["uptime_s"] >= 0
    assert [p["name"] for p in report["plugins"]] == ["hello", "crasher"]
    assert all(p["version"] == "1.0.0" for p in report["plugins"])
    assert report["inbox"] == 0 and report["outbox"] == 0
    assert report["polling"] == "yes"
    assert any("getUpdates failing" in e["message"] for e in report["recent_errors"])
    assert len(report["recent_errors"]) <= 3

    result = status(config)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert f"holder: pid {bot.pid} since " in result.stdout
    assert "version: 0.1.0" in lines
    assert any(line.startswith("uptime: ") for line in lines)
    assert "plugins: hello 1.0.0, crasher 1.0.0" in lines
    assert "inbox: 0 update(s) waiting" in lines
    assert '  jarvis_updates_total{outcome="handled"} 2' in lines
    assert "recent errors:" in lines
    errors = lines[lines.index("recent errors:") + 1:]
    assert any("getUpdates failing" in line for line in errors)
    for text in (result.stdout, json.dumps(report)):
        assert CANARY_SECRET not in text

    bot.process.kill()
    bot.process.wait()
    result = status(config, "--json")
    assert result.returncode == 3
    dead = json.loads(result.stdout)
    assert dead["holder"] == {"state": "none"}
    assert "version" not in dead and "counters" not in dead  # the old snapshot is not believed
    assert dead["polling"] == "no"


def test_an_idle_bot_does_not_rewrite_its_status_snapshot(workdir, fake, processes):
    """The snapshot is written when what it says changes (and again when the
    file went away), not every second: an idle bot writes nothing."""
    config, bot = start_bot(workdir, fake, processes, free_port(), poll_timeout=30)
    snapshot = pathlib.Path(workdir) / "state" / "status.json"

    def handled(count):
        report = json.loads(status(config, "--json").stdout)
        return any(c["name"] == "jarvis_updates_total" and c["value"] == count and
                   c["labels"] == {"outcome": "handled"} for c in report.get("counters", []))

    fake.message(43, "/ping")
    assert wait_for(lambda: handled(1), timeout=20, interval=0.2)
    time.sleep(1.5)  # the write after the last change is done
    written = snapshot.stat()
    time.sleep(3)  # three snapshot periods with nothing new
    now = snapshot.stat()
    assert (now.st_ino, now.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    snapshot.unlink()
    assert wait_for(snapshot.exists, timeout=10)
    fake.message(43, "/ping")
    assert wait_for(lambda: handled(2), timeout=20, interval=0.2)
    stop(bot)


def test_status_json_without_any_state(workdir):
    config = write_config(workdir, {})
    result = status(config, "--json")
    assert result.returncode == 3
    report = json.loads(result.stdout)
    assert report["holder"] == {"state": "none"}
    assert report["state"]["problem"] == "does not exist"
    assert not (workdir / "state").exists()
    assert run_jarvis(["check", "--json", "-c", str(config)]).returncode == 64


def update_lines(log):
    return [line for line in log.splitlines() if re.search(r"\] update \d+ chat -?\d+: ", line)]


def test_one_text_line_per_update(workdir, fake, processes):
    config, bot = start_bot(workdir, fake, processes, free_port(), log_level="info")
    ping = fake.message(51, "/ping")
    echo = fake.message(51, f"/echo {SECRET_WORD}")
    text = fake.message(52, f"just chatting {SECRET_WORD}")
    other = fake.message(-53, "/ping@OtherBot", chat_type="group")
    assert wait_for(lambda: len(update_lines(log_text(workdir))) >= 4, timeout=20)
    stop(bot)
    lines = update_lines(log_text(workdir))
    assert len(lines) == 4, lines
    by_id = {int(re.search(r"update (\d+) ", line).group(1)): line for line in lines}
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO  \[core\] "
    assert re.match(stamp + rf"update {ping} chat 51: command /ping, plugin hello, "
                    r"\d+\.\d ms, replied$", by_id[ping]), by_id[ping]
    assert re.search(r"command /echo, plugin hello, \d+\.\d ms, replied$", by_id[echo])
    assert re.search(r"chat 52: text for message handlers, plugin none, .* no reply$",
                     by_id[text])
    assert re.search(r"chat -53: a command for another bot, plugin none, .* ignored$",
                     by_id[other])
    log = log_text(workdir)
    assert SECRET_WORD not in log and CANARY_SECRET not in log


def test_json_log_lines(workdir, fake, processes):
    config, bot = start_bot(workdir, fake, processes, free_port(), log_format="json")
    update_id = fake.message(61, f"/echo {SECRET_WORD}")
    assert wait_for(lambda: f'"update_id":{update_id}' in log_text(workdir), timeout=20)
    stop(bot)
    events = [json.loads(line) for line in log_text(workdir).splitlines()]
    assert all({"time", "level", "origin", "message"} <= set(event) for event in events)
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e["time"]) for e in events)
    (update,) = [event for event in events if event.get("update_id") == update_id]
    assert update["level"] == "info" and update["origin"] == "core"
    assert update["chat_id"] == 61 and update["command"] == "echo"
    assert update["handler"] == "command" and update["plugin"] == "hello"
    assert update["outcome"] == "replied" and update["duration_ms"] >= 0
    assert update["text"] == f"/echo {SECRET_WORD}"  # this bot logs at debug
    assert any(event["level"] == "debug" for event in events)
    assert CANARY_SECRET not in log_text(workdir)


def test_json_log_at_info_leaves_the_text_out(workdir, fake, processes):
    config, bot = start_bot(workdir, fake, processes, free_port(), log_format="json",
                            log_level="info")
    update_id = fake.message(62, f"/echo {SECRET_WORD}")
    assert wait_for(lambda: f'"update_id":{update_id}' in log_text(workdir), timeout=20)
    stop(bot)
    (update,) = [json.loads(line) for line in log_text(workdir).splitlines()
                 if f'"update_id":{update_id}' in line]
    assert "text" not in update
    assert SECRET_WORD not in log_text(workdir)


DEXTER_QUESTION = "/ask what is the outlook for SOL"


@pytest.mark.skipif(not pathlib.Path(built_plugin_dir(), "dexter_finance.so").exists(),
                    reason="dexter_finance.so not built")
def test_plugin_http_requests_by_status_class(workdir, processes):
    coingecko_process, coingecko = start_fake("fake_coingecko.py")
    processes.append(coingecko_process)
    port = free_port()
    config = write_config(workdir, {
        "bot": {"log_file": str(workdir / "jarvis.log")},
        "metrics": {"listen": f"127.0.0.1:{port}"},
        "plugins": {"enable": "dexter_finance"},
        "dexter_finance": {"provider": "coingecko", "base_url": f"{coingecko}/api/v3",
                           "timeout_ms": 5000}})
    bot = JarvisProcess(["-c", str(config)])
    processes.append(bot)
    assert wait_for(lambda: "metrics: serving" in log_text(workdir), timeout=20)

    def fake_calls():
        with urllib.request.urlopen(f"{coingecko}/control", timeout=10) as response:
            return json.loads(response.read())["calls"].get("total", 0)

    def http_counts():
        parsed = samples(scrape(port))
        return {labels: count for (name, labels), count in parsed.items()
                if name == "jarvis_plugin_http_requests_total"}

    bot.send_line(DEXTER_QUESTION)
    assert wait_for(lambda: fake_calls() > 0 and sum(http_counts().values()) == fake_calls(),
                    timeout=20)
    ok = http_counts()
    assert set(ok) == {(("plugin", "dexter_finance"), ("status_class", "2xx"))}
    request = urllib.request.Request(f"{coingecko}/control", method="POST",
                                     data=json.dumps({"fail": "server_error"}).encode())
    urllib.request.urlopen(request, timeout=10).read()
    bot.send_line("/ask what is the outlook for ETH")
    assert wait_for(lambda: http_counts().get(
        (("plugin", "dexter_finance"), ("status_class", "5xx")), 0) >= 1, timeout=20)
    assert sum(http_counts().values()) == fake_calls()
    bot.signal(signal.SIGTERM)
    code, _, _ = bot.wait()
    assert code == 0


def test_unknown_log_format_is_a_config_error(workdir):
    config = write_config(workdir, {"bot": {"log_format": "xml"}})
    result = run_jarvis(["check", "-c", str(config)])
    assert result.returncode == 78
    assert re.search(rf"{re.escape(str(config))}:\d+: unknown log_format \(found 'xml', "
                     r"expected text or json\)", result.stderr), result.stderr
