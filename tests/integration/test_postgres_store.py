"""The postgres state backend (issue 14) through the real ./jarvis and a
private PostgreSQL cluster (pg_cluster.py) against tests/fakes/fake_telegram.py:
the store's semantics on both backends (the unit binary test_store_backends
with a database), a bot answering on postgres, kill -9 mid-flow, PostgreSQL
restarted mid-flow (one log line down, one back, 0 lost), and the DSN's
password in no log line and no status output."""
import os
import signal
import subprocess
import time

import pytest

import pg_cluster
from conftest import (OUT, log_text, postgres_cluster, run_jarvis, wait_for, write_config)
from conftest import stop_jarvis as stop
from test_pipeline import (all_answered, bot_config, delivery_report, echo_specs, kill9,
                           scaled, start_bot)

pytestmark = pytest.mark.skipif(not pg_cluster.available(),
                                reason="PostgreSQL server binaries not installed")


@pytest.fixture
def fake(processes):
    from conftest import start_fake_telegram
    return start_fake_telegram(processes)


@pytest.fixture
def database():
    """(cluster, name) of a fresh database."""
    cluster = postgres_cluster()
    return cluster, cluster.create_database()


def postgres_config(workdir, fake, database, **bot):
    """bot_config's bot with [state] on the given database."""
    cluster, name = database
    path = bot_config(workdir, fake, **bot)
    text = path.read_text()
    if "[state]" in text:  # JARVIS_TEST_STATE_BACKEND=postgres wrote one already
        text = text[:text.index("[state]")] + text[text.index("[plugins]"):]
    path.write_text(text + f"\n[state]\nbackend = postgres\ndsn = {cluster.dsn(name)}\n")
    return path


def table_counts(database):
    cluster, name = database
    line = cluster.psql("SELECT (SELECT count(*) FROM jarvis_inbox) || ' ' ||"
                        " (SELECT count(*) FROM jarvis_outbox)", name).strip()
    inbox, outbox = line.split()
    return int(inbox), int(outbox)


def assert_no_password(*texts):
    for text in texts:
        assert pg_cluster.PASSWORD not in text


def test_store_semantics_on_both_backends(database):
    """The unit binary's tests, its postgres group included: kv, binary
    values, byte-ordered prefixes, transactions, inbox, outbox with files,
    sent records, re-open, two webhook hosts' claims, migration from an empty
    database and from version 1, a newer schema refused."""
    cluster, name = database
    binary = OUT / "unit" / "test_store_backends"
    result = subprocess.run([str(binary)], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, JARVIS_TEST_PG_DSN=cluster.dsn(name)))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[  PASSED  ] 13 test(s)." in output, output  # the sqlite group
    assert "[  PASSED  ] 14 test(s)." in output, output  # the postgres group
    assert_no_password(output)
    # the last test's newer version was refused and left as it was
    assert cluster.psql("SELECT version FROM jarvis_schema_version", name).strip() == "99"


def test_bot_answers_on_postgres(workdir, fake, processes, database):
    """Messages in, one answer each; what is done leaves inbox and outbox;
    the offset and the plugin's own key-value data are in PostgreSQL, the
    state dir holds no SQLite file; status and log name no password."""
    config = postgres_config(workdir, fake, database, log_level="info")
    bot = start_bot(config, processes)
    expected = [f"31-{index}" for index in range(20)]
    fake.messages(echo_specs(expected))
    assert wait_for(lambda: all_answered(fake, expected), timeout=30)
    assert wait_for(lambda: table_counts(database) == (0, 0), timeout=10)
    status = run_jarvis(["-c", str(config), "status"], timeout=60)
    check = run_jarvis(["-c", str(config), "check", "-v"], timeout=60)
    assert check.returncode == 0, check.stderr
    assert "dsn" in check.stdout + check.stderr
    status_json = run_jarvis(["-c", str(config), "status", "--json"], timeout=60)
    out, err = stop(bot)
    assert delivery_report(fake, expected) == ([], 0, 0)
    cluster, name = database
    keys = cluster.psql("SELECT convert_from(space, 'UTF8') || '/' || convert_from(key, 'UTF8')"
                        " FROM jarvis_kv ORDER BY 1", name).split()
    assert "core/telegram.offset" in keys or any(key.startswith("core/") for key in keys), keys
    assert not (workdir / "state" / "jarvis.db").exists()
    assert "postgres" in status_json.stdout, status_json.stdout + status_json.stderr
    assert_no_password(log_text(workdir), out, err, status.stdout, status.stderr,
                       status_json.stdout, status_json.stderr, check.stdout, check.stderr)


def test_kill9_mid_flow_loses_nothing(workdir, fake, processes, database):
    """A stream of messages, kill -9 at moments spread over it, restarted
    at once: every message answered, at most one repeat a kill."""
    kills = scaled(8, 4)
    config = postgres_config(workdir, fake, database, log_level="info", shutdown_grace_ms=2000)
    expected = [f"{4100 + index % 5}-{index}" for index in range(kills * 8)]
    fake.call("/control/stream", {"messages": echo_specs(expected), "rate": 20})
    for kill in range(kills):
        bot = start_bot(config, processes)
        time.sleep(0.3 + 0.15 * (kill % 4))
        kill9(bot)
    polls = fake.counters()["polls"]
    bot = start_bot(config, processes)
    assert wait_for(lambda: fake.counters()["stream_left"] == 0, timeout=60)
    assert wait_for(lambda: all_answered(fake, expected), timeout=90, interval=0.2), \
        delivery_report(fake, expected)[0][:20]
    # the earlier runs may have answered everything: stop this one once it is up
    assert wait_for(lambda: fake.counters()["polls"] > polls, timeout=30)
    stop(bot)
    lost, duplicates, apologies = delivery_report(fake, expected)
    assert lost == []
    assert duplicates <= kills
    assert apologies == 0
    assert_no_password(log_text(workdir))


def test_postgres_restart_mid_flow(workdir, fake, processes, database):
    """PostgreSQL stopped (fast shutdown: sessions end) while messages flow,
    down for 3 s, started again: the bot stops polling and sending, says
    so once, says once that it is back, and answers every message."""
    cluster, _ = database
    config = postgres_config(workdir, fake, database, log_level="info")
    bot = start_bot(config, processes)
    fake.message(51, "/echo warm")
    assert wait_for(lambda: fake.sent_texts(51) == ["warm"], timeout=20)
    expected = [f"{5200 + index % 4}-{index}" for index in range(80)]
    fake.call("/control/stream", {"messages": echo_specs(expected), "rate": 20})
    time.sleep(1.0)
    cluster.stop(signal.SIGINT)
    time.sleep(3.0)
    polls_while_down = fake.counters()["polls"]
    time.sleep(1.0)
    polls_later = fake.counters()["polls"]
    cluster.start()
    assert wait_for(lambda: fake.counters()["stream_left"] == 0, timeout=60)
    assert wait_for(lambda: all_answered(fake, expected), timeout=90, interval=0.2), \
        delivery_report(fake, expected)[0][:20]
    time.sleep(0.5)
    stop(bot)
    log = log_text(workdir)
    lost, duplicates, apologies = delivery_report(fake, expected)
    assert lost == []
    assert duplicates <= 1
    assert log.count("is unreachable") == 1, log
    assert log.count("is back after") == 1, log
    assert "cannot commit" not in log and "cannot write updates" not in log, log
    # and no other complaint, per retry or per update: the one line down is all
    complaints = [line for line in log.splitlines() if " ERROR " in line or " WARN " in line]
    assert len(complaints) == 1, complaints
    # no getUpdates while the store was down (one may have been in flight)
    assert polls_later - polls_while_down <= 1, (polls_while_down, polls_later)
    assert_no_password(log)


def test_unreachable_database_at_start_is_one_clear_line(workdir, fake, processes):
    """A dsn whose server does not answer: jarvis exits with one line that
    names host and port, not the password."""
    port = pg_cluster.free_port()
    config = bot_config(workdir, fake)
    text = config.read_text()
    if "[state]" in text:
        text = text[:text.index("[state]")] + text[text.index("[plugins]"):]
    config.write_text(text + "\n[state]\nbackend = postgres\n"
                      f"dsn = host=127.0.0.1 port={port} user=bot password=hunter2hunter2 "
                      "connect_timeout=2\n")
    result = run_jarvis(["-c", str(config)], timeout=60)
    log = log_text(workdir)
    assert result.returncode != 0
    assert f"127.0.0.1:{port}" in log + result.stderr
    assert "hunter2" not in log + result.stderr + result.stdout


def test_a_migration_lock_held_elsewhere_ends_the_start_with_one_line(workdir, fake, processes,
                                                                     database):
    """Another host stuck mid-migration holds the schema's advisory lock:
    the start does not hang on it (before, it waited forever) but ends with
    one line that says what it waited for and names no password; once the
    lock is free the next start migrates and answers."""
    cluster, name = database
    env = dict(os.environ, PGPASSWORD=pg_cluster.PASSWORD)
    psql = str(pg_cluster.PG_BIN / "psql") if (pg_cluster.PG_BIN / "psql").exists() else "psql"
    holder = subprocess.Popen(
        [psql, "-h", "127.0.0.1", "-p", str(cluster.port), "-U", pg_cluster.SUPERUSER, "-d", name,
         "-c", "SELECT pg_advisory_lock(1784772214, 1), pg_sleep(600)"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1784772214"
        assert wait_for(lambda: cluster.psql(held, name).strip() == "1", timeout=30)
        config = postgres_config(workdir, fake, database)
        result = run_jarvis(["-c", str(config)], timeout=60)
        log = log_text(workdir) + result.stderr
        assert result.returncode != 0, log
        lines = [line for line in log.splitlines() if "no answer within" in line]
        assert len(lines) == 1, log
        assert "migration lock" in lines[0] and f"127.0.0.1:{cluster.port}" in lines[0], lines[0]
        assert_no_password(log, result.stdout)
    finally:
        # the server notices a vanished client only after pg_sleep: end its session
        cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                     " AND classid = 1784772214", name)
        holder.kill()
        holder.wait()
    bot = start_bot(config, processes)
    fake.messages(echo_specs(["32-0"]))
    assert wait_for(lambda: all_answered(fake, ["32-0"]), timeout=30)
    stop(bot)


def test_backend_postgres_without_dsn_is_a_config_error(workdir):
    config = write_config(workdir, {"state": {"backend": "postgres"}})
    result = run_jarvis(["-c", str(config), "check"], timeout=60)
    assert result.returncode == 78, result.stderr
    assert "backend = postgres needs a dsn" in result.stderr
