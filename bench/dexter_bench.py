#!/usr/bin/env python3
"""Answer latency of dexter_finance for "Is SOL bullish right now?", measured
through the real ./jarvis in console mode against tests/fakes/fake_coingecko.py
on loopback: each question is written to stdin and timed until its answer's
last line (the not-financial-advice note) appears on stdout.

  warm: cache_ttl = 3600, the first answer fills the cache, the rest are timed
  cold: cache_ttl = 0, every answer fetches simple/price and market_chart

Usage: bench/dexter_bench.py [--count N] [--out DIR]  (run `make` first;
JARVIS_OUT=build/san for the sanitizer build)."""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
QUESTION = "Is SOL bullish right now?"
DISCLAIMER = "Not financial advice"


def start_fake():
    process = subprocess.Popen([sys.executable, str(REPO / "tests/fakes/fake_coingecko.py"),
                                "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        sys.exit(f"fake_coingecko did not start: {line!r}")
    return process, f"http://127.0.0.1:{int(line.split()[1])}"


def write_config(directory, out, base_url, cache_ttl):
    plugins = ", ".join(name for name in ("sentiment", "grok_weighting", "dexter_finance")
                        if (out / "plugins" / f"{name}.so").exists())
    path = directory / "plugins.ini"
    path.write_text(f"""[bot]
token =
state_dir = {directory / 'state'}
log_file = {directory / 'jarvis.log'}
[lock]
path = {directory / 'jarvis.lock'}
[plugins]
dir = {out / 'plugins'}
enable = {plugins}
[sentiment]
lexicon = {REPO / 'plugins/sentiment/lexicon.txt'}
[dexter_finance]
provider = coingecko
base_url = {base_url}/api/v3
cache_ttl = {cache_ttl}
narrative = false
""")
    return path


def measure(out, base_url, cache_ttl, count, warmup):
    with tempfile.TemporaryDirectory() as name:
        directory = pathlib.Path(name)
        config = write_config(directory, out, base_url, cache_ttl)
        env = dict(os.environ)
        env.pop("XAI_API_KEY", None)
        process = subprocess.Popen([str(out / "jarvis"), "-c", str(config)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
        timings = []
        try:
            for index in range(warmup + count):
                started = time.perf_counter()
                process.stdin.write(QUESTION + "\n")
                process.stdin.flush()
                while True:
                    line = process.stdout.readline()
                    if not line:
                        sys.exit("jarvis exited early; see " + str(directory / "jarvis.log"))
                    if line.startswith(DISCLAIMER):
                        break
                if index >= warmup:
                    timings.append((time.perf_counter() - started) * 1000.0)
        finally:
            process.stdin.close()
            process.wait(timeout=30)
        return timings


def summary(label, timings):
    ordered = sorted(timings)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    return (f"{label:5s} n={len(timings):4d}  median {statistics.median(timings):7.2f} ms  "
            f"mean {statistics.mean(timings):7.2f} ms  p90 {p90:7.2f} ms  "
            f"max {ordered[-1]:7.2f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    out = (REPO / os.environ.get("JARVIS_OUT", ".")).resolve()
    if not (out / "jarvis").exists() or not (out / "plugins/dexter_finance.so").exists():
        sys.exit("build first: make")
    fake, base_url = start_fake()
    try:
        warm = measure(out, base_url, 3600, args.count, warmup=1)
        cold = measure(out, base_url, 0, args.count, warmup=1)
    finally:
        fake.kill()
        fake.wait(timeout=10)
    print(f'dexter_finance answer latency, "{QUESTION}", console mode, fake CoinGecko on loopback')
    print(summary("warm", warm))
    print(summary("cold", cold))


if __name__ == "__main__":
    main()
