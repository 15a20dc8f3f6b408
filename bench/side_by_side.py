#!/usr/bin/env python3
"""Side by side: jarvis (hello plugin), grammY and Telegraf against the fast C
fake Bot API (bench/fake_botapi.c), in one run, each bot pinned to one core
and the fake to the other. Prints a table and the ratios against issue 9's
goals, and writes a JSON result file.

Usage: bench/side_by_side.py [--quick] [--bots jarvis,grammy,telegraf]
         [--jarvis ./jarvis] [--plugins ./plugins] [--json FILE]
         [--no-callgrind] [--callgrind-out FILE] [--idle-seconds 10] [--bot-core 0] [--fake-core 1]
         [--jarvis-commit ID] [--jarvis-bot-line "key = value" ...]
All traffic stays on 127.0.0.1; every run has a deadline, so a slow or stuck
bot is reported with what it answered, never waited for forever."""
import argparse
import json
import os
import pathlib
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[1]
BENCH_BUILD = REPO / "build" / "bench"
NODE_DIR = REPO / "bench" / "node"
TOKEN = "123456789:AAbenchBENCHbenchBENCHbenchBENCH12345"
TICKS = os.sysconf("SC_CLK_TCK")
# the peers have no limits: neither rates nor how many sends are in flight
RAISED_LIMITS = ("send_rate_per_chat = 1000000\nsend_burst_per_chat = 1000000\n"
                 "send_rate_total = 1000000\nsend_connections = 8\n")
GOALS = {"cpu_vs_grammy": 1 / 10, "cpu_vs_grammy_stretch": 1 / 25,
         "rate_vs_telegraf": 3.0, "rss_vs_grammy": 1 / 10}


def log(text):
    print(text, file=sys.stderr, flush=True)


# ---- the measured processes ----

def cpu_split(pid):
    """(utime, stime) of every thread of the process, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICKS, int(fields[12]) / TICKS


def cpu_seconds(pid):
    """utime + stime of every thread of the process, in seconds."""
    return sum(cpu_split(pid))


def run_time_ns(pid):
    """On-CPU time of the live threads from schedstat: nanoseconds, where
    /proc/PID/stat counts 10 ms ticks (too coarse for an idle bot)."""
    total = 0
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            pass  # a thread that ended in between
    return total


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def memory_mib(pid):
    """Resident memory now, split as /proc/PID/smaps_rollup counts it:
    private (this process's own pages) and shared (library and file pages
    other processes may map too), in MiB."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                fields[parts[0][:-1]] = int(parts[1])
    private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    shared = fields.get("Shared_Clean", 0) + fields.get("Shared_Dirty", 0)
    return {"rss_mib": round(fields.get("Rss", 0) / 1024, 1),
            "private_mib": round(private / 1024, 1), "shared_mib": round(shared / 1024, 1),
            "anonymous_mib": round(fields.get("Anonymous", 0) / 1024, 1)}


class Fake:
    """One fake_botapi run: started per (scenario, bot) so counters start at 0."""

    def __init__(self, core, count, chats, rate, deadline):
        self.process = subprocess.Popen(
            ["taskset", "-c", str(core), str(BENCH_BUILD / "fake_botapi"), "--token", TOKEN,
             "--count", str(count), "--chats", str(chats), "--rate", str(rate),
             "--command", "echo", "--deadline", str(deadline)],
            stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline().split()[1])
        self.result = None
        self.finished = threading.Event()
        threading.Thread(target=self._read_result, daemon=True).start()

    def _read_result(self):
        for line in self.process.stdout:
            if line.startswith("RESULT "):
                self.result = json.loads(line[7:])
                self.finished.set()

    def control(self, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/control/{name}",
                                    timeout=10) as answer:
            return json.loads(answer.read())

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def jarvis_config(workdir, port, plugins, raised, extra_lines):
    config = workdir / "plugins.ini"
    extra = "".join(line + "\n" for line in extra_lines)
    config.write_text(f"""[bot]
token = {TOKEN}
api_base = http://127.0.0.1:{port}
transport = telegram
poll_timeout = 30
state_dir = {workdir}/state
log_file = {workdir}/jarvis.log
log_level = warn
{RAISED_LIMITS if raised else ""}{extra}
[lock]
path = {workdir}/jarvis.lock
max_wait = 5

[plugins]
dir = {plugins}
enable = hello

[hello]
""")
    return config


def bot_command(bot, args, workdir, port, raised):
    api_root = f"http://127.0.0.1:{port}"
    if bot == "jarvis":
        config = jarvis_config(workdir, port, args.plugins.resolve(), raised, args.jarvis_bot_line)
        return [str(args.jarvis.resolve()), "-c", str(config)]
    script = NODE_DIR / f"{bot}_bot.js"
    return [shutil.which("node") or "node", str(script), TOKEN, api_root]


def start_bot(bot, args, workdir, fake, raised, wrapper=()):
    command = ["taskset", "-c", str(args.bot_core), *wrapper,
               *bot_command(bot, args, workdir, fake.port, raised)]
    output = open(workdir / f"{bot}.out", "w")
    process = subprocess.Popen(command, cwd=workdir, stdin=subprocess.DEVNULL,
                               stdout=output, stderr=subprocess.STDOUT)
    output.close()
    deadline = time.monotonic() + args.startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{bot} exited with {process.returncode} before polling; "
                               f"see {workdir}/{bot}.out")
        if fake.control("status")["polls"] > 0:
            return process
        time.sleep(0.02)
    stop_process(process)
    raise RuntimeError(f"{bot} did not call getUpdates within {args.startup_timeout} s")


def stop_process(process):
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---- one measured run ----

def measure(bot, scenario, args, idle_seconds=0):
    """Runs one bot through one scenario; returns its figures (or an error)."""
    workdir = pathlib.Path(tempfile.mkdtemp(prefix=f"side-by-side-{bot}-"))
    fake = Fake(args.fake_core, scenario["count"], scenario["chats"], scenario["rate"],
                scenario["deadline"])
    process = None
    figures = {"bot": bot, "scenario": scenario["name"]}
    try:
        process = start_bot(bot, args, workdir, fake, scenario["raised_limits"])
        time.sleep(0.3)  # start-up work (getMe, setMyCommands, loading) is not counted
        split_before, fake_cpu_before = cpu_split(process.pid), cpu_seconds(fake.process.pid)
        cpu_before = sum(split_before)
        fake.control("start")
        if not fake.finished.wait(scenario["deadline"] + 10):
            raise RuntimeError("the fake never reported a result")
        split_after = cpu_split(process.pid)
        cpu = sum(split_after) - cpu_before
        kernel_cpu = split_after[1] - split_before[1]
        fake_cpu = cpu_seconds(fake.process.pid) - fake_cpu_before
        result = fake.result
        answered = result["answered"]
        figures.update({
            "complete": result["complete"], "answered": answered, "count": result["count"],
            "replies_per_s": result["replies_per_s"], "elapsed_s": result["elapsed_s"],
            "cpu_s": round(cpu, 3),
            "cpu_per_reply_ms": round(cpu * 1000 / answered, 4) if answered else None,
            "kernel_share_pct": round(100 * kernel_cpu / cpu, 1) if cpu else None,
            "peak_rss_mib": round(peak_rss_kib(process.pid) / 1024, 1),
            "memory_after_run": memory_mib(process.pid),
            "latency_ms": result["latency_ms"], "duplicates": result["duplicates"],
            "unmatched": result["unmatched"], "redeliveries": result["redeliveries"],
            "polls": result["polls"], "overlaps": result["overlaps"],
            "unmatched_examples": result.get("unmatched_examples", []),
            "fake_core_busy_pct": round(100 * fake_cpu / result["elapsed_s"], 1)
            if result["elapsed_s"] else None,
        })
        if idle_seconds:
            time.sleep(1)  # let the last batch settle before the quiet window
            idle_before = run_time_ns(process.pid)
            time.sleep(idle_seconds)
            idle_ms = (run_time_ns(process.pid) - idle_before) / 1e6
            figures["idle_cpu_ms"] = round(idle_ms, 2)
            figures["idle_cpu_pct"] = round(idle_ms / 10 / idle_seconds, 4)
            figures["idle_seconds"] = idle_seconds
    except (RuntimeError, OSError, ValueError) as error:
        figures["error"] = f"{error} (logs kept in {workdir})"
        log(f"  {bot} {scenario['name']}: {figures['error']}")
    finally:
        if process:
            stop_process(process)
        fake.stop()
        if "error" in figures or not figures.get("complete"):
            figures["logs"] = str(workdir)  # kept: the bot's log tells why
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return figures


def callgrind_per_reply(args, count):
    """Instructions (Ir) per reply of jarvis under callgrind, counted only
    between the start of the injection and its last reply."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        return {"error": "valgrind is not installed (apt-get install valgrind)"}
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="side-by-side-callgrind-"))
    out_file = workdir / "callgrind.out"
    deadline = 120  # under valgrind jarvis runs ~50x slower; a partial run still counts
    fake = Fake(args.fake_core, count, 10, 0, deadline)
    process = None
    wrapper = ("valgrind", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={out_file}")
    try:
        process = start_bot("jarvis", args, workdir, fake, True, wrapper)
        time.sleep(0.5)
        subprocess.run(["callgrind_control", "-i", "on", str(process.pid)], check=True,
                       capture_output=True, timeout=60)
        fake.control("start")
        if not fake.finished.wait(deadline + 10):
            raise RuntimeError("the fake never reported a result")
        subprocess.run(["callgrind_control", "-i", "off", str(process.pid)], check=True,
                       capture_output=True, timeout=60)
        stop_process(process)
        process = None
        instructions = None
        for line in out_file.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                instructions = int(line.split()[1])
        answered = fake.result["answered"]
        if not instructions or not answered:
            raise RuntimeError(f"no instruction total ({instructions}) or no replies ({answered})")
        return {"replies": answered, "count": count, "complete": fake.result["complete"],
                "instructions": instructions,
                "instructions_per_reply": round(instructions / answered)}
    except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as error:
        log(f"  callgrind: {error}")
        return {"error": str(error)}
    finally:
        if process:
            stop_process(process)
        fake.stop()
        if args.callgrind_out and out_file.exists():
            shutil.copyfile(out_file, args.callgrind_out)  # for callgrind_annotate
        shutil.rmtree(workdir, ignore_errors=True)


def load_client(args, connections, threads=False):
    """botapi_load against a fresh fake: its figures and its own CPU a call."""
    fake = Fake(args.fake_core, 0, 1, 0, 0)
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        answer = subprocess.run(["taskset", "-c", str(args.bot_core),
                                 str(BENCH_BUILD / "botapi_load"), str(fake.port), TOKEN,
                                 str(connections), "3", *(["--threads"] if threads else [])],
                                capture_output=True, text=True, timeout=30)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        figures = json.loads(answer.stdout)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if figures.get("calls"):
            figures["client_cpu_per_call_us"] = round(cpu * 1e6 / figures["calls"], 2)
        return figures
    except (ValueError, subprocess.SubprocessError) as error:
        return {"error": str(error)}
    finally:
        fake.stop()


def fake_ceiling(args):
    """sendMessage/s the fake answers on its core, driven from the bots' core."""
    return load_client(args, 8)


def client_models(args):
    """What a sendMessage round trip costs the client on this machine, by how
    it waits: a blocking thread a connection (jarvis's sender before its send
    loop) against one epoll thread (the loop; Node's model)."""
    return {"threads_4": load_client(args, 4, threads=True),
            "epoll_4": load_client(args, 4), "epoll_8": load_client(args, 8)}


def rss_floor():
    """The resident memory of a program that only links jarvis's libraries
    and initialises libcurl (bench/rss_floor.c), in MiB."""
    try:
        answer = subprocess.run([str(BENCH_BUILD / "rss_floor")], capture_output=True, text=True,
                                timeout=30)
        figures = json.loads(answer.stdout)
        peak = max(figures["peak_rss_kib"], figures["rss_kib"])  # VmHWM can lag VmRSS
        return {"peak_rss_mib": round(peak / 1024, 1)}
    except (OSError, ValueError, KeyError, subprocess.SubprocessError) as error:
        return {"error": str(error)}


# ---- setup ----

def install_missing_tools(args):
    """Like `make deps`: the Debian packages the bench needs, installed when root."""
    wanted = {"taskset": "util-linux", "make": "make", "cc": "build-essential"}
    if any(bot != "jarvis" for bot in args.bots):
        wanted.update({"node": "nodejs", "npm": "npm"})
    if "jarvis" in args.bots and not args.no_callgrind:
        wanted.update({"valgrind": "valgrind", "callgrind_control": "valgrind"})
    missing = sorted({package for tool, package in wanted.items() if not shutil.which(tool)})
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"side_by_side: missing tools; install: apt-get install {' '.join(missing)}")
    log(f"installing: {' '.join(missing)}")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def prepare(args):
    install_missing_tools(args)
    subprocess.run(["make", "-s", "-f", "bench/Makefile"], cwd=REPO, check=True)
    if "jarvis" in args.bots and not args.jarvis.exists():
        subprocess.run(["make", "-s", "-j2", "all"], cwd=REPO, check=True)
    node_bots = [bot for bot in args.bots if bot != "jarvis"]
    if node_bots and not (NODE_DIR / "node_modules").is_dir():
        log("installing the Node peers (npm ci)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)


def versions(args):
    def run(command, cwd=REPO):
        try:
            return subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    packages = lock.get("packages", {})
    jarvis_repo = args.jarvis.resolve().parent
    # The last commit that changed what the binary is built from, not bench/.
    sources = ["core", "plugins", "include", "Makefile"]
    commit = run(["git", "log", "-1", "--format=%h", "--", *sources], jarvis_repo)
    dirty = run(["git", "status", "--porcelain", "--untracked-files=no", "--", *sources],
                jarvis_repo)
    return {"jarvis_binary": str(args.jarvis.resolve()),
            "jarvis_commit": args.jarvis_commit or (commit or "unknown") + ("-dirty" if dirty else ""),
            "checkout_head": run(["git", "rev-parse", "--short", "HEAD"], jarvis_repo),
            "grammy": packages.get("node_modules/grammy", {}).get("version"),
            "telegraf": packages.get("node_modules/telegraf", {}).get("version"),
            "node": run(["node", "--version"]), "kernel": os.uname().release,
            "cpus": os.cpu_count()}


def scenarios(args):
    quick = args.quick
    latency_seconds = 10 if quick else 20
    return [
        {"name": "throughput 1,000 x 10 chats" if quick else "throughput 5,000 x 10 chats",
         "count": 1000 if quick else 5000, "chats": 10, "rate": 0, "raised_limits": True,
         "deadline": 60 if quick else 120, "idle": True},
        {"name": "throughput 4,000 x 100 chats" if quick else "throughput 20,000 x 100 chats",
         "count": 4000 if quick else 20000, "chats": 100, "rate": 0, "raised_limits": True,
         "deadline": 90 if quick else 240, "idle": False},
        {"name": f"latency 25 msg/s x {latency_seconds} s, 100 chats, default limits",
         "count": 25 * latency_seconds, "chats": 100, "rate": 25, "raised_limits": False,
         "deadline": latency_seconds + 30, "idle": False},
    ]


# ---- repeats ----

# Figures a repeated run reports as the median of its runs (each figure on
# its own); the rest (names, flags, idle figures from the first run) is the
# first run's.
MEDIAN_FIGURES = ("replies_per_s", "elapsed_s", "cpu_s", "cpu_per_reply_ms", "kernel_share_pct",
                  "peak_rss_mib", "fake_core_busy_pct", "answered", "duplicates", "unmatched",
                  "redeliveries", "polls", "overlaps")
SPREAD_FIGURES = ("replies_per_s", "cpu_per_reply_ms", "peak_rss_mib")


def median_of(values):
    values = sorted(value for value in values if isinstance(value, (int, float)))
    return statistics.median(values) if values else None


def combine(samples):
    """One bot's repeated runs of one scenario as one row of figures."""
    if len(samples) == 1:
        return samples[0]
    failed = [sample for sample in samples if sample.get("error")]
    combined = dict(failed[0] if failed else samples[0])
    combined["repeats"] = len(samples)
    if failed:
        return combined
    combined["complete"] = all(sample.get("complete") for sample in samples)
    for key in MEDIAN_FIGURES:
        combined[key] = median_of(sample.get(key) for sample in samples)
    for group in ("latency_ms", "memory_after_run"):
        keys = set().union(*((sample.get(group) or {}).keys() for sample in samples))
        combined[group] = {key: median_of((sample.get(group) or {}).get(key)
                                          for sample in samples) for key in keys}
    combined["spread"] = {key: [min(sample[key] for sample in samples),
                                max(sample[key] for sample in samples)]
                          for key in SPREAD_FIGURES
                          if all(sample.get(key) is not None for sample in samples)}
    if not combined["complete"]:
        combined["logs"] = next(sample.get("logs") for sample in samples if not sample.get("complete"))
    return combined


# ---- report ----

def ratio(numerator, denominator):
    if numerator is None or denominator in (None, 0):
        return None
    return numerator / denominator


def goals(runs):
    by = {(run["scenario"], run["bot"]): run for run in runs}
    verdicts = []
    for scenario in dict.fromkeys(run["scenario"] for run in runs):
        if not scenario.startswith("throughput"):
            continue
        jarvis, grammy, telegraf = (by.get((scenario, bot), {}) for bot in
                                    ("jarvis", "grammy", "telegraf"))
        checks = [
            ("CPU/reply jarvis / grammY", ratio(jarvis.get("cpu_per_reply_ms"),
                                                 grammy.get("cpu_per_reply_ms")),
             GOALS["cpu_vs_grammy"], "at most"),
            ("replies/s jarvis / Telegraf", ratio(jarvis.get("replies_per_s"),
                                                   telegraf.get("replies_per_s")),
             GOALS["rate_vs_telegraf"], "at least"),
            ("peak RSS jarvis / grammY", ratio(jarvis.get("peak_rss_mib"),
                                                grammy.get("peak_rss_mib")),
             GOALS["rss_vs_grammy"], "at most"),
        ]
        for name, value, goal, sense in checks:
            met = None if value is None else (value <= goal if sense == "at most"
                                              else value >= goal)
            entry = {"scenario": scenario, "ratio": name, "value": value,
                     "goal": f"{sense} {goal:g}", "met": met}
            if name.startswith("CPU") and value is not None:
                entry["stretch_met"] = value <= GOALS["cpu_vs_grammy_stretch"]
            verdicts.append(entry)
    return verdicts


def cell(value, digits=2):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def print_table(result, bots):
    rows = [("replies/s", "replies_per_s", 0), ("CPU/reply ms", "cpu_per_reply_ms", 3),
            ("of it in the kernel %", "kernel_share_pct", 1),
            ("peak RSS MiB", "peak_rss_mib", 1), ("RSS after run MiB", "rss_mib", 1),
            ("private MiB", "private_mib", 1), ("shared MiB", "shared_mib", 1),
            ("answered", "answered", 0),
            ("elapsed s", "elapsed_s", 2), ("redeliveries", "redeliveries", 0),
            ("duplicates", "duplicates", 0), ("polls", "polls", 0),
            ("fake core busy %", "fake_core_busy_pct", 1)]
    latency_rows = [("latency p50 ms", "p50"), ("latency p99 ms", "p99"),
                    ("latency max ms", "max")]
    runs = result["runs"]
    print(f"\njarvis {result['versions']['jarvis_commit']}, grammY "
          f"{result['versions']['grammy']}, Telegraf {result['versions']['telegraf']}, "
          f"node {result['versions']['node']}; load average before: {result['loadavg_before']}")
    for scenario in dict.fromkeys(run["scenario"] for run in runs):
        by_bot = {run["bot"]: run for run in runs if run["scenario"] == scenario}
        repeats = max((run.get("repeats", 1) for run in by_bot.values()), default=1)
        print(f"\n## {scenario}" + (f" (each figure the median of {repeats} runs a bot, "
                                    f"interleaved)" if repeats > 1 else ""))
        print("| figure | " + " | ".join(bots) + " |")
        print("|---|" + "---|" * len(bots))
        for label, key, digits in rows + [(label, key, 2) for label, key in latency_rows]:
            values = []
            for bot in bots:
                run = by_bot.get(bot, {})
                if label.startswith("latency"):
                    value = (run.get("latency_ms") or {}).get(key)
                elif key in ("rss_mib", "private_mib", "shared_mib"):
                    value = (run.get("memory_after_run") or {}).get(key)
                else:
                    value = run.get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool) and digits == 0:
                    value = int(round(value))
                values.append(cell(value, digits))
            print(f"| {label} | " + " | ".join(values) + " |")
        for label, key, digits in (("replies/s, runs' range", "replies_per_s", 0),
                                   ("CPU/reply ms, runs' range", "cpu_per_reply_ms", 3)):
            if any(key in (run.get("spread") or {}) for run in by_bot.values()):
                print(f"| {label} | " + " | ".join(
                    " - ".join(cell(round(v) if digits == 0 else v, digits)
                               for v in (by_bot.get(bot, {}).get("spread") or {}).get(key, []))
                    or "-" for bot in bots) + " |")
        if any("idle_cpu_ms" in run for run in by_bot.values()):
            seconds = next(run["idle_seconds"] for run in by_bot.values() if "idle_seconds" in run)
            print(f"| idle CPU ms in {seconds:g} s (after the run) | " + " | ".join(
                cell(by_bot.get(bot, {}).get("idle_cpu_ms"), 2) for bot in bots) + " |")
        for bot in bots:
            run = by_bot.get(bot, {})
            if run.get("error"):
                print(f"{bot}: ERROR {run['error']}")
            elif run and not run.get("complete"):
                print(f"{bot}: deadline passed with {run['answered']} of {run['count']} "
                      f"answered; logs in {run.get('logs')}")
            if run.get("unmatched"):
                print(f"{bot}: {run['unmatched']} replies paired with no update, e.g. "
                      f"{json.dumps(run.get('unmatched_examples'))}")
    callgrind = result.get("callgrind")
    if callgrind:
        if callgrind.get("error"):
            print(f"\ncallgrind: ERROR {callgrind['error']}")
        else:
            partial = "" if callgrind["complete"] else f" of {callgrind['count']} (deadline)"
            print(f"\ncallgrind (jarvis, {callgrind['replies']}{partial} /echo x 10 chats): "
                  f"{callgrind['instructions_per_reply']:,} instructions per reply")
    ceiling = result.get("fake_ceiling", {})
    fastest = max((run.get("replies_per_s") or 0 for run in runs), default=0)
    if ceiling.get("calls_per_s"):
        print(f"fake ceiling: {ceiling['calls_per_s']:,.0f} sendMessage/s on one core = "
              f"{ceiling['calls_per_s'] / fastest if fastest else 0:.1f}x the fastest bot "
              f"({fastest:,.0f} replies/s)")
    models = result.get("client_models", {})
    if all(model.get("client_cpu_per_call_us") for model in models.values()) and models:
        print("client CPU a sendMessage round trip (botapi_load on the bots' core): " +
              ", ".join(f"{name.replace('_', ' x ')} {model['client_cpu_per_call_us']} us"
                        for name, model in models.items()))
    floor = result.get("rss_floor", {})
    if floor.get("peak_rss_mib"):
        grammy_peaks = [run.get("peak_rss_mib") for run in runs
                        if run.get("bot") == "grammy" and run.get("peak_rss_mib")
                        and run["scenario"].startswith("throughput")]
        tenth = (f"; the goal, 1/10 of grammY's peak in the throughput runs, is "
                 f"{min(grammy_peaks) / 10:.1f}-{max(grammy_peaks) / 10:.1f} MiB"
                 if grammy_peaks else "")
        print(f"RSS floor: a program that only links jarvis's libraries and calls "
              f"curl_global_init (bench/rss_floor.c) peaks at {floor['peak_rss_mib']} MiB{tenth}")
    print("\n## goals (issue 9)")
    for verdict in result["goals"]:
        value = "-" if verdict["value"] is None else f"{verdict['value']:.3f}"
        met = {True: "met", False: "NOT met", None: "no figure"}[verdict["met"]]
        stretch = ""
        if "stretch_met" in verdict:
            stretch = f" (stretch 1/25: {'met' if verdict['stretch_met'] else 'not met'})"
        print(f"- {verdict['scenario']}: {verdict['ratio']} = {value}, goal "
              f"{verdict['goal']}: {met}{stretch}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller runs (1,000 x 10, 4,000 x 100, 10 s latency)")
    parser.add_argument("--bots", default="jarvis,grammy,telegraf")
    parser.add_argument("--jarvis", type=pathlib.Path, default=REPO / "jarvis")
    parser.add_argument("--plugins", type=pathlib.Path, default=REPO / "plugins")
    parser.add_argument("--json", type=pathlib.Path, default=BENCH_BUILD / "side_by_side.json")
    parser.add_argument("--no-callgrind", action="store_true")
    parser.add_argument("--callgrind-count", type=int, default=None,
                        help="replies in the callgrind run (default 2,000; quick 500)")
    parser.add_argument("--callgrind-out", type=pathlib.Path, default=None,
                        help="keep callgrind's profile in this file (for callgrind_annotate)")
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--bot-core", type=int, default=0)
    parser.add_argument("--fake-core", type=int, default=1)
    parser.add_argument("--startup-timeout", type=float, default=30)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each throughput scenario per bot, interleaved; the table "
                             "gives each figure's median (default 3; this shared machine's "
                             "speed varies from run to run by a third)")
    parser.add_argument("--throughput-only", action="store_true",
                        help="skip the latency scenario (for quick A/B runs of one change)")
    parser.add_argument("--jarvis-commit", default=None,
                        help="the commit to report for a --jarvis built outside a git checkout")
    parser.add_argument("--jarvis-bot-line", action="append", default=[], metavar="'KEY = VALUE'",
                        help="an extra line for jarvis's [bot] section (repeatable), "
                             "for a jarvis whose keys differ")
    args = parser.parse_args()
    args.bots = [bot.strip() for bot in args.bots.split(",") if bot.strip()]
    unknown = set(args.bots) - {"jarvis", "grammy", "telegraf"}
    if unknown:
        parser.error(f"unknown bot {', '.join(sorted(unknown))} (expected jarvis, grammy, telegraf)")
    started = time.monotonic()
    prepare(args)
    result = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "quick": args.quick, "versions": versions(args),
              "loadavg_before": open("/proc/loadavg").read().split()[:3],
              "cores": {"bot": args.bot_core, "fake": args.fake_core}, "runs": []}
    log("fake ceiling (botapi_load, 8 connections, 3 s)")
    result["fake_ceiling"] = fake_ceiling(args)
    log("client models (botapi_load: 4 blocking threads, epoll over 4 and 8 connections)")
    result["client_models"] = client_models(args)
    result["rss_floor"] = rss_floor()
    for scenario in scenarios(args):
        if args.throughput_only and not scenario["name"].startswith("throughput"):
            continue
        repeats = args.repeat if scenario["name"].startswith("throughput") else 1
        samples = {bot: [] for bot in args.bots}
        for repeat in range(repeats):
            for bot in args.bots:  # interleaved: a slow spell of the machine hits every bot
                log(f"{scenario['name']}: {bot} (run {repeat + 1} of {repeats})")
                idle = args.idle_seconds if scenario["idle"] and repeat == 0 else 0
                samples[bot].append(measure(bot, scenario, args, idle))
        for bot in args.bots:
            result["runs"].append(combine(samples[bot]))
            if repeats > 1:
                result.setdefault("samples", []).extend(samples[bot])
    if "jarvis" in args.bots and not args.no_callgrind:
        count = args.callgrind_count or (500 if args.quick else 2000)
        log(f"callgrind: jarvis, {count} /echo x 10 chats")
        result["callgrind"] = callgrind_per_reply(args, count)
    result["goals"] = goals(result["runs"])
    result["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
    result["wall_s"] = round(time.monotonic() - started, 1)
    print_table(result, args.bots)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nresult file: {args.json} (whole run {result['wall_s']} s)")
    failed = [run for run in result["runs"] if run.get("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
