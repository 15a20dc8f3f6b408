#!/usr/bin/env python3
"""jarvis's replies per second with the state in SQLite and in PostgreSQL,
in the same run, against the fast C fake Bot API (bench/fake_botapi.c):
the same scenarios as bench/side_by_side.py (its measure()), jarvis pinned
to one core, the fake to the other, PostgreSQL a private cluster
(tests/integration/pg_cluster.py, fsync on, as in production) on 127.0.0.1.

Usage: bench/postgres_backend.py [--quick] [--rounds 1] [--json FILE]
Prints one line per (scenario, backend) and the postgres/sqlite ratio."""
import argparse
import json
import pathlib
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "integration"))

import pg_cluster  # noqa: E402
import side_by_side  # noqa: E402

SCENARIOS = [  # (name, updates, chats, offered rate per s; 0 = all at once)
    ("burst 2000 x 10 chats", 2000, 10, 0),
    ("burst 4000 x 100 chats", 4000, 100, 0),
]
QUICK_SCENARIOS = [("burst 500 x 10 chats", 500, 10, 0)]


def scenario(name, count, chats, rate):
    return {"name": name, "count": count, "chats": chats, "rate": rate, "deadline": 120,
            "raised_limits": True, "idle": False}


def jarvis_args(extra_lines):
    return argparse.Namespace(jarvis=REPO / "jarvis", plugins=REPO / "plugins", bot_core=0,
                              fake_core=1, startup_timeout=30, jarvis_bot_line=extra_lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one 500-update burst")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each (scenario, backend)")
    parser.add_argument("--json", type=pathlib.Path,
                        default=REPO / "build" / "bench" / "postgres_backend.json")
    args = parser.parse_args()
    side_by_side.prepare(argparse.Namespace(bots=["jarvis"], no_callgrind=True,
                                            jarvis=REPO / "jarvis"))
    cluster = pg_cluster.Cluster()
    # durable like a production server: fsync and full_page_writes on
    cluster.fsync = True
    cluster.start()
    runs = []
    try:
        for name, count, chats, rate in (QUICK_SCENARIOS if args.quick else SCENARIOS):
            for round_index in range(args.rounds):
                database = cluster.create_database()
                backends = {
                    "sqlite": [],
                    # the [state] section rides in after the [bot] keys
                    "postgres": ["", "[state]", "backend = postgres",
                                 f"dsn = {cluster.dsn(database)}"],
                }
                for backend, lines in backends.items():
                    side_by_side.log(f"{name}: {backend} (round {round_index + 1})")
                    figures = side_by_side.measure("jarvis", scenario(name, count, chats, rate),
                                                   jarvis_args(lines))
                    figures["backend"] = backend
                    figures.pop("logs", None) if not figures.get("error") else None
                    runs.append(figures)
    finally:
        cluster.close()
    print(f"\n{'scenario':28} {'backend':9} {'replies/s':>10} {'answered':>9} {'cpu ms/reply':>13}"
          f" {'p50 ms':>7} {'p99 ms':>7}")
    for run in runs:
        if run.get("error"):
            print(f"{run['scenario']:28} {run['backend']:9} ERROR {run['error']}")
            continue
        latency = run.get("latency_ms") or {}
        print(f"{run['scenario']:28} {run['backend']:9} {run['replies_per_s']:>10,.0f} "
              f"{run['answered']:>9} {run['cpu_per_reply_ms'] or 0:>13.3f} "
              f"{latency.get('p50', 0):>7} {latency.get('p99', 0):>7}")
    for name in dict.fromkeys(run["scenario"] for run in runs):
        rates = {backend: [run["replies_per_s"] for run in runs if run["scenario"] == name and
                           run["backend"] == backend and not run.get("error")]
                 for backend in ("sqlite", "postgres")}
        if rates["sqlite"] and rates["postgres"]:
            ratio = max(rates["postgres"]) / max(rates["sqlite"])
            print(f"{name}: postgres/sqlite = {ratio:.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"started": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                     "runs": runs}, indent=2) + "\n")
    print(f"result file: {args.json}")
    return 1 if any(run.get("error") for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
