"""One poller across hosts, continued (test_failover.py has the hosts, their
supervisor and the helpers): kill -9 the holder ten times, a holder stopped
inside a handler (its late commit is fenced), and a hung database. A file of
its own so that tests/run's kill-scenario part runs these beside the 25 s
SIGSTOP of test_failover.py instead of after it."""
import os
import pathlib
import signal
import subprocess
import time

from conftest import hello_and_slow_plugin_dir, jarvis_binary, wait_for
from test_failover import (LOCK_LOST_EXIT, cluster, database, delivery, fake,  # noqa: F401
                           first_poll_after, hosts, lease_holder_pid, polls_after, pytestmark,
                           reply_counts, stream, wait_for_holder)


def test_kill9_the_holder_ten_times(hosts, fake, cluster, database):
    """kill -9 whichever host holds the lock, ten times, while messages flow;
    each kill the other host takes over, nothing is lost, at most one repeat
    a failover, and no two hosts ever poll at once."""
    kills = 10
    pair = [hosts("a", lease_s=2).start()]
    assert wait_for_holder(cluster, database, pair[0]), pair[0].log()
    pair.append(hosts("b", lease_s=2).start())
    assert wait_for(lambda: "waiting as a standby" in pair[1].log(), timeout=20)
    expected = [f"kill-{n}" for n in range(kills * 25)]
    stream(fake, expected, rate=20)
    takeovers = []
    for _ in range(kills):
        time.sleep(1.0)
        holder = next(host for host in pair if lease_holder_pid(cluster, database) == host.pid)
        other = pair[1] if holder is pair[0] else pair[0]
        assert wait_for(lambda: "waiting as a standby" in other.log()
                        and other.pid is not None, timeout=20)
        killed_at = time.time()
        os.kill(holder.pid, signal.SIGKILL)
        assert wait_for_holder(cluster, database, other, timeout=20), other.log()
        assert wait_for(lambda: first_poll_after(fake, killed_at), timeout=20)
        takeovers.append(first_poll_after(fake, killed_at) - killed_at)
    assert wait_for(lambda: fake.counters()["stream_left"] == 0, timeout=60)
    assert wait_for(lambda: not delivery(fake, expected)[0], timeout=60), delivery(fake, expected)
    lost, duplicates = delivery(fake, expected)
    print(f"\nkill -9 x{kills}: lost={len(lost)} duplicates={duplicates} "
          f"takeover median={sorted(takeovers)[len(takeovers) // 2]:.3f}s "
          f"max={max(takeovers):.3f}s overlaps={fake.counters()['overlaps']}")
    assert lost == []
    assert duplicates <= kills
    assert fake.counters()["overlaps"] == 0
    assert sum(code == -signal.SIGKILL for host in pair for code in host.exits) == kills


def table_counts(cluster, database):
    inbox, outbox = cluster.psql("SELECT (SELECT count(*) FROM jarvis_inbox) || ' ' ||"
                                 " (SELECT count(*) FROM jarvis_outbox)", database).split()
    return int(inbox), int(outbox)


def test_sigstop_inside_a_slow_handler_commits_nothing_after_the_takeover(
        hosts, fake, cluster, database, workdir):
    """The fence of the store's commits: the holder is stopped while a
    handler runs; the standby takes over and answers that update from the
    shared inbox. When the old holder runs again its handler returns at once
    (its sleep ran out meanwhile): its handled commit (inbox mark and outbox
    row) is refused by the database, so no reply is left stranded in the
    outbox for a holder that will never send it, and it stands down."""
    lease_s = 3
    plugins = {"dir": str(hello_and_slow_plugin_dir(workdir)), "enable": "hello, slow"}
    first = hosts("a", lease_s=lease_s, plugins=plugins).start()
    assert wait_for_holder(cluster, database, first), first.log()
    second = hosts("b", lease_s=lease_s, plugins=plugins).start()
    assert wait_for(lambda: "waiting as a standby" in second.log(), timeout=20), second.log()
    expected = [f"slow-{n}" for n in range(60)]
    stream(fake, expected[:20], rate=20)
    assert wait_for(lambda: all(reply_counts(fake)[text] for text in expected[:20]), timeout=30)
    marker = pathlib.Path(workdir) / "handling"
    fake.message(7100, f"/sleep 4000 {marker}")
    assert wait_for(marker.exists, timeout=20), first.log()
    stopped_pid = first.pid
    stopped_at = time.time()
    first.signal(signal.SIGSTOP)
    marker.unlink()
    assert wait_for_holder(cluster, database, second, timeout=lease_s + 20), second.log()
    # the new holder handles the stopped one's update again, from the inbox
    assert wait_for(lambda: reply_counts(fake)["slept 4000"] >= 1, timeout=30), second.log()
    assert first_poll_after(fake, stopped_at + 0.2) is not None
    stream(fake, expected[20:], rate=20)
    overlaps_before = fake.counters()["overlaps"]
    first.signal(signal.SIGCONT)
    assert wait_for(lambda: LOCK_LOST_EXIT in first.exits, timeout=30), (first.exits, first.log())
    assert first.exits[0] == LOCK_LOST_EXIT
    assert wait_for(lambda: first.pid != stopped_pid and
                    "waiting as a standby" in first.log(), timeout=20), first.log()
    assert fake.counters()["overlaps"] - overlaps_before <= 1
    assert lease_holder_pid(cluster, database) == second.pid
    assert wait_for(lambda: fake.counters()["stream_left"] == 0, timeout=60)
    everything = expected + ["slept 4000"]
    assert wait_for(lambda: not delivery(fake, everything)[0], timeout=60), \
        delivery(fake, everything)
    lost, duplicates = delivery(fake, everything)
    assert lost == []
    assert duplicates <= 1, reply_counts(fake)
    # nothing the old holder did after the takeover stayed behind
    assert wait_for(lambda: table_counts(cluster, database) == (0, 0), timeout=30), \
        (table_counts(cluster, database), first.log())
    assert "a commit was refused: the lease row names a newer holder" in first.log()
    assert "database lock for bot 424242 lost" in first.log()


def cluster_pids(cluster):
    """The postmaster and every process it started (its backends, the
    checkpointer, the WAL writer...)."""
    postmaster = cluster.process.pid
    children = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            children.append(int(entry.name))
    return [postmaster] + children


def signal_cluster(cluster, signum):
    for pid in cluster_pids(cluster):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def test_a_hung_database_stops_the_holder_without_hanging_it(hosts, fake, cluster, database):
    """SIGSTOP the whole PostgreSQL cluster: its kernel still accepts and
    acknowledges, so only the client's own deadline notices. The holder
    says once that the database is unreachable, stops polling, still
    answers `jarvis status`, and once the cluster runs again (SIGCONT) it
    is back: nothing lost, and it did not stand down."""
    lease_s = 3
    holder = hosts("a", lease_s=lease_s).start()
    assert wait_for_holder(cluster, database, holder), holder.log()
    expected = [f"hang-{n}" for n in range(120)]
    stream(fake, expected[:40], rate=20)
    assert wait_for(lambda: all(reply_counts(fake)[text] for text in expected[:40]), timeout=30)
    stream(fake, expected[40:], rate=10)
    try:
        signal_cluster(cluster, signal.SIGSTOP)
        hung_at = time.time()
        assert wait_for(lambda: "is unreachable (no answer within" in holder.log(),
                        timeout=30), holder.log()
        # the poller stops: at most the poll under way when the line came
        seen_at = time.time()
        time.sleep(2 * lease_s)
        assert len(polls_after(fake, seen_at)) <= 1, polls_after(fake, seen_at)
        status = subprocess.run([jarvis_binary(), "status", "-c", str(holder.config)],
                                capture_output=True, text=True, env=holder.env, timeout=60,
                                stdin=subprocess.DEVNULL)
        assert "database lock:" in status.stdout, status.stdout + status.stderr
        assert holder.process.poll() is None
        assert holder.exits == []
    finally:
        signal_cluster(cluster, signal.SIGCONT)
    assert wait_for(lambda: "is back after" in holder.log(), timeout=60), holder.log()
    assert wait_for(lambda: fake.counters()["stream_left"] == 0, timeout=60)
    assert wait_for(lambda: not delivery(fake, expected)[0], timeout=60), \
        (delivery(fake, expected), holder.log())
    lost, duplicates = delivery(fake, expected)
    print(f"\nhung cluster: lost={len(lost)} duplicates={duplicates} "
          f"unreachable after {seen_at - hung_at:.1f}s")
    assert lost == []
    assert holder.exits == [], holder.log()
    assert holder.log().count("is unreachable (no answer within") == 1
    assert fake.counters()["overlaps"] == 0
