#!/usr/bin/env python3
"""Kernel work per reply of jarvis: syscalls by kind and thread, context
switches by thread, utime vs stime, under the side-by-side harness's fake
Bot API (bench/fake_botapi.c) with the send limits raised.

Usage: bench/kernel_per_reply.py [--count 1000] [--chats 10] [--no-trace]
         [--jarvis ./jarvis] [--plugins ./plugins]
Syscalls are counted by `perf trace -s` attached to the running bot (it slows
the bot, so the time figures come from a second, untraced run unless
--no-trace). Thread roles come from the thread names (prctl PR_SET_NAME)."""
import argparse
import collections
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import side_by_side as sbs  # noqa: E402


def threads(pid):
    """{tid: (name, voluntary, involuntary, utime ticks, stime ticks)}"""
    found = {}
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
            stat = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = re.search(r"^Name:\s*(.*)$", status, re.M).group(1)
        vol = int(re.search(r"^voluntary_ctxt_switches:\s*(\d+)", status, re.M).group(1))
        invol = int(re.search(r"^nonvoluntary_ctxt_switches:\s*(\d+)", status, re.M).group(1))
        found[int(task.name)] = (name, vol, invol, int(stat[11]), int(stat[12]))
    return found


def role(name):
    """Folds numbered threads (worker-1, worker-2) into one role."""
    return re.sub(r"[-_ ]?\d+$", "", name) or name


def diff_by_role(before, after):
    roles = collections.defaultdict(lambda: [0, 0, 0, 0, 0])
    for tid, now in after.items():
        then = before.get(tid, (now[0], 0, 0, 0, 0))
        entry = roles[role(now[0])]
        entry[0] += 1
        for index in range(1, 5):
            entry[index] += now[index] - then[index]
    return roles


def parse_perf_trace(text):
    """perf trace -s output -> {thread name: {syscall: calls}}"""
    per_thread = collections.defaultdict(collections.Counter)
    current = None
    for line in text.splitlines():
        header = re.match(r"^\s*(.+?) \((\d+)\), \d+ events", line)
        if header:
            current = role(header.group(1).strip())
            continue
        row = re.match(r"^\s+([a-z_0-9]+)\s+(\d+)\s+\d+\s+[\d.]+", line)
        if row and current is not None:
            per_thread[current][row.group(1)] += int(row.group(2))
    return per_thread


def run(args, trace):
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="kernel-per-reply-"))
    fake = sbs.Fake(args.fake_core, args.count, args.chats, 0, 120)
    process = tracer = None
    try:
        process = sbs.start_bot("jarvis", args, workdir, fake, True)
        time.sleep(0.5)
        if trace:
            trace_out = workdir / "trace.txt"
            tracer = subprocess.Popen(["perf", "trace", "-s", "-p", str(process.pid),
                                       "-o", str(trace_out)], stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # perf attaches to every thread
        before = threads(process.pid)
        fake.control("start")
        if not fake.finished.wait(130):
            raise RuntimeError("the fake never reported a result")
        after = threads(process.pid)
        syscalls = {}
        if tracer:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=30)
            syscalls = parse_perf_trace(trace_out.read_text())
        return fake.result, diff_by_role(before, after), syscalls
    finally:
        if tracer and tracer.poll() is None:
            tracer.kill()
        if process:
            sbs.stop_process(process)
        fake.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=10)
    parser.add_argument("--no-trace", action="store_true")
    parser.add_argument("--jarvis", type=pathlib.Path, default=sbs.REPO / "jarvis")
    parser.add_argument("--plugins", type=pathlib.Path, default=sbs.REPO / "plugins")
    parser.add_argument("--bot-core", type=int, default=0)
    parser.add_argument("--fake-core", type=int, default=1)
    parser.add_argument("--startup-timeout", type=float, default=30)
    args = parser.parse_args()
    args.bots, args.no_callgrind, args.jarvis_bot_line = ["jarvis"], True, []
    sbs.prepare(args)

    if not args.no_trace:
        result, _, syscalls = run(args, True)
        replies = result["answered"] or 1
        print(f"syscalls per reply ({result['answered']} replies, perf trace -s):")
        total = 0
        for name, counts in sorted(syscalls.items()):
            calls = sum(counts.values())
            total += calls
            top = ", ".join(f"{kind} {count / replies:.2f}" for kind, count in counts.most_common(8))
            print(f"  {name:16} {calls / replies:6.2f}  ({top})")
        print(f"  {'all':16} {total / replies:6.2f}")

    result, roles, _ = run(args, False)
    replies = result["answered"] or 1
    ticks = sbs.TICKS
    print(f"untraced run: {result['answered']} replies, {result['replies_per_s']} replies/s")
    print(f"  {'thread':16} {'n':>2} {'vol/reply':>9} {'invol/reply':>11} {'user ms':>8} {'sys ms':>8}")
    sums = [0, 0, 0, 0]
    for name, (count, vol, invol, utime, stime) in sorted(roles.items()):
        sums = [sums[0] + vol, sums[1] + invol, sums[2] + utime, sums[3] + stime]
        print(f"  {name:16} {count:2} {vol / replies:9.3f} {invol / replies:11.3f} "
              f"{utime * 1000 / ticks:8.0f} {stime * 1000 / ticks:8.0f}")
    print(f"  {'all':16}    {sums[0] / replies:9.3f} {sums[1] / replies:11.3f} "
          f"{sums[2] * 1000 / ticks:8.0f} {sums[3] * 1000 / ticks:8.0f}")
    cpu = (sums[2] + sums[3]) / ticks
    print(f"  CPU per reply {cpu * 1000 / replies:.4f} ms "
          f"(user {sums[2] / ticks * 1000 / replies:.4f}, sys {sums[3] / ticks * 1000 / replies:.4f})")


if __name__ == "__main__":
    main()
