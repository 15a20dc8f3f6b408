#!/usr/bin/env python3
"""End-to-end Telegram throughput: replies per second for a stream of /ping
through tests/fakes/fake_telegram.py and the real ./jarvis, the fake's own
ceiling (sendMessage straight from Python) in the same run, and the host's
peak RSS (VmHWM). Rate limits are lifted so the pipeline itself is measured.

Usage: bench/telegram_throughput.py [--count 3000] [--chats 50]
       (JARVIS_OUT=build/san for the sanitizer build)"""
import argparse
import http.client
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading
import time

from side_by_side import peak_rss_kib  # bench/ is on the path when run as a script

REPO = pathlib.Path(__file__).resolve().parents[1]
OUT = (REPO / os.environ.get("JARVIS_OUT", ".")).resolve()
TOKEN = "123456789:AAcanaryCANARYcanaryCANARYcanary12345"


def start_fake():
    process = subprocess.Popen([sys.executable, str(REPO / "tests/fakes/fake_telegram.py"),
                                "--port", "0"], stdout=subprocess.PIPE, text=True)
    port = int(process.stdout.readline().split()[1])
    return process, port


def control(port, path, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = None if body is None else json.dumps(body)
    connection.request("GET" if body is None else "POST", path, data,
                       {"Content-Type": "application/json"})
    answer = json.loads(connection.getresponse().read())
    connection.close()
    return answer


def fake_ceiling(port, count, threads=4):
    """sendMessage calls per second from `threads` kept-alive clients."""
    def worker(n):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in range(n):
            body = json.dumps({"chat_id": 1, "text": "pong"})
            connection.request("POST", f"/bot{TOKEN}/sendMessage", body,
                               {"Content-Type": "application/json"})
            connection.getresponse().read()
        connection.close()
    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(count // threads,)) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return (count // threads * threads) / (time.monotonic() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--chats", type=int, default=50)
    args = parser.parse_args()
    fake, port = start_fake()
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="jarvis-tg-bench-"))
    try:
        ceiling = fake_ceiling(port, 2000)
        control(port, "/control/reset", {})
        config = workdir / "plugins.ini"
        config.write_text(f"""[bot]
token = {TOKEN}
api_base = http://127.0.0.1:{port}
poll_timeout = 5
state_dir = {workdir}/state
log_level = warn
send_rate_per_chat = 100000
send_burst_per_chat = 100000
send_rate_total = 1000000
[lock]
path = {workdir}/jarvis.lock
[plugins]
dir = {OUT}/plugins
enable = hello
""")
        bot = subprocess.Popen([str(OUT / "jarvis"), "-c", str(config)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        while control(port, "/control/counters")["calls"].get("getUpdates", 0) == 0:
            time.sleep(0.01)
        messages = [{"chat_id": 1 + i % args.chats, "text": "/ping"} for i in range(args.count)]
        started = time.monotonic()
        control(port, "/control/messages", {"messages": messages})
        while control(port, "/control/counters")["sent"] < args.count:
            time.sleep(0.005)
        elapsed = time.monotonic() - started
        rss = peak_rss_kib(bot.pid)
        bot.send_signal(signal.SIGTERM)
        bot.wait(timeout=30)
        print(f"replies: {args.count} over {args.chats} chats in {elapsed:.2f} s = "
              f"{args.count / elapsed:.0f} replies/s")
        print(f"fake ceiling (sendMessage only, 4 clients): {ceiling:.0f} calls/s")
        print(f"host peak RSS: {rss / 1024:.1f} MiB")
    finally:
        fake.kill()
        fake.wait()


if __name__ == "__main__":
    main()
