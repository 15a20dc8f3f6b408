#!/usr/bin/env python3
"""Webhook ingress ([bot] mode = webhook): how fast the real ./jarvis takes
POSTed updates. K kept-alive clients POST N /ping updates straight to the
listener (as Telegram would through the proxy, with the secret); each 200
comes only after the synced inbox commit, so the acknowledgement latency
(median, p99) is that commit's. Then the end-to-end figure: replies/s until
tests/fakes/fake_telegram.py has every answer. Rate limits are lifted.

--postgres keeps the state in a private PostgreSQL cluster
(tests/integration/pg_cluster.py, fsync on) instead of SQLite: the same
figures with the commit a round trip, the update_id lock and the claims of
hosts sharing the database (docs/webhook.md).

Usage: bench/webhook_ingress.py [--count 2000] [--clients 8] [--chats 50] [--postgres]
       (JARVIS_OUT=build/san for the sanitizer build)"""
import argparse
import http.client
import json
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from telegram_throughput import control, start_fake  # bench/ is on the path as a script

REPO = pathlib.Path(__file__).resolve().parents[1]
OUT = (REPO / os.environ.get("JARVIS_OUT", ".")).resolve()
TOKEN = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"
SECRET = "bench-Secret_0123456789abcdef"
PATH = "/hook"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def update(update_id, chat_id):
    return json.dumps({"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()), "text": "/ping",
        "chat": {"id": chat_id, "type": "private"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "B"},
        "entities": [{"offset": 0, "length": 5, "type": "bot_command"}]}}).encode()


def post_all(port, ids, chats, latencies, failures):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    for update_id in ids:
        started = time.monotonic()
        connection.request("POST", PATH, update(update_id, 1 + update_id % chats), headers)
        response = connection.getresponse()
        response.read()
        latencies.append(time.monotonic() - started)
        if response.status != 200:
            failures.append(response.status)
    connection.close()


def wait_listening(port, bot, deadline_s=30):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if bot.poll() is not None:
            raise RuntimeError("jarvis exited: " + bot.stderr.read())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the webhook listener did not come up")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--postgres", action="store_true", help="the state in PostgreSQL")
    args = parser.parse_args()
    cluster, state = None, ""
    if args.postgres:
        sys.path.insert(0, str(REPO / "tests" / "integration"))
        import pg_cluster
        cluster = pg_cluster.Cluster()
        cluster.fsync = True  # durable like a production server
        cluster.start()
        state = f"[state]\nbackend = postgres\ndsn = {cluster.dsn(cluster.create_database())}\n"
    fake, fake_port = start_fake()
    port = free_port()
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="jarvis-webhook-bench-"))
    try:
        config = workdir / "plugins.ini"
        config.write_text(f"""[bot]
token = {TOKEN}
api_base = http://127.0.0.1:{fake_port}
mode = webhook
state_dir = {workdir}/state
log_level = warn
send_rate_per_chat = 100000
send_burst_per_chat = 100000
send_rate_total = 1000000
[webhook]
listen = 127.0.0.1:{port}
url = https://bot.example{PATH}
secret = {SECRET}
max_connections = 100
[lock]
path = {workdir}/jarvis.lock
[plugins]
dir = {OUT}/plugins
enable = hello
{state}""")
        bot = subprocess.Popen([str(OUT / "jarvis"), "-c", str(config)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        wait_listening(port, bot)
        latencies, failures = [], []
        ids = list(range(1, args.count + 1))
        shares = [ids[i::args.clients] for i in range(args.clients)]
        started = time.monotonic()
        pool = [threading.Thread(target=post_all, args=(port, share, args.chats, latencies,
                                                        failures)) for share in shares]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        acked = time.monotonic() - started
        while control(fake_port, "/control/counters")["sent"] < args.count:
            time.sleep(0.005)
        answered = time.monotonic() - started
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=30)
        latencies.sort()
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"acknowledged: {args.count} POSTs from {args.clients} clients in {acked:.2f} s = "
              f"{args.count / acked:.0f} updates/s (non-200: {len(failures)})")
        print(f"ack latency (synced inbox commit): median {statistics.median(latencies) * 1000:.1f}"
              f" ms, p99 {p99 * 1000:.1f} ms")
        print(f"replies: all {args.count} sent after {answered:.2f} s = "
              f"{args.count / answered:.0f} replies/s end to end")
    finally:
        fake.kill()
        fake.wait()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    sys.exit(main())
