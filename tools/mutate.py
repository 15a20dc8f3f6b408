#!/usr/bin/env python3
"""Mutation testing for the core: applies hand-made mutants (tools/mutants.py)
one at a time to a scratch copy of the tree under /tmp, builds it (normal
build), runs the tests named for each mutant and prints killed/survived per
mutant and a score per file. Never touches the working tree; always exits 0.

  tools/mutate.py                 every mutant
  tools/mutate.py -k telegram     the mutants whose id or file contains a word
  tools/mutate.py --list          the mutants, not run
"""
import argparse
import collections
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
from mutants import MUTANTS  # noqa: E402

PYTHON = "/usr/bin/python3"  # the Debian python with python3-pytest, as tests/run uses
TEST_TIME_LIMIT = 240  # a mutant that hangs a test is killed by the hang (slowest honest run: ~90 s)


def copy_tree(destination):
    """The tracked and new (not ignored) files of the working tree: a clean
    checkout plus tests not yet committed, without build products."""
    listing = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"],
                             cwd=REPO, check=True, capture_output=True).stdout
    for name in listing.decode().split("\0"):
        if not name:
            continue
        source = REPO / name
        if not source.is_file():
            continue  # deleted but still tracked
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def unit_binaries(tests):
    return ["unit/" + test.split("/", 1)[1] for test in tests if test.startswith("unit/")]


def build(tree, tests, log):
    # the loader's deliberately broken plugins, as test-build makes them
    test_plugins = ["test-plugins/" + source.stem + ".so"
                    for source in sorted((tree / "tests" / "plugins").glob("*.c"))
                    if source.stem != "versioned"]
    test_plugins += ["test-plugins/versioned_v1.so", "test-plugins/versioned_v2.so"]
    targets = ["all"] + test_plugins + unit_binaries(tests)
    result = subprocess.run(["nice", "make", "-j2"] + targets, cwd=tree, stdout=log,
                            stderr=subprocess.STDOUT)
    return result.returncode == 0


def run_tests(tree, tests, log):
    """0 every test passed, else the first failing test."""
    pytest_ids = [test for test in tests if not test.startswith("unit/")
                  and (tree / test.split("::")[0]).exists()]
    env = dict(os.environ, JARVIS_OUT=".")
    for binary in unit_binaries(tests):
        try:
            result = subprocess.run(["nice", "./" + binary], cwd=tree, stdout=log,
                                    stderr=subprocess.STDOUT, timeout=TEST_TIME_LIMIT, env=env)
        except subprocess.TimeoutExpired:
            return binary + " (hung)"
        if result.returncode != 0:
            return binary
    if pytest_ids:
        command = ["nice", PYTHON, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider"]
        try:
            result = subprocess.run(command + pytest_ids, cwd=tree, stdout=log,
                                    stderr=subprocess.STDOUT, timeout=TEST_TIME_LIMIT, env=env)
        except subprocess.TimeoutExpired:
            return "pytest (hung)"
        if result.returncode in (2, 3, 4, 5):  # interrupted, internal error, usage, none run
            raise RuntimeError(f"pytest could not run the tests (exit {result.returncode})")
        if result.returncode != 0:
            return "pytest"
    return None


def apply(tree, mutant):
    """The original text of the file, or None when the snippet is not there
    exactly once (an invalid mutant: the code moved on)."""
    path = tree / mutant["file"]
    text = path.read_text()
    if text.count(mutant["original"]) != 1:
        return None
    path.write_text(text.replace(mutant["original"], mutant["replacement"]))
    return text


def restore(tree, mutant, text):
    path = tree / mutant["file"]
    path.write_text(text)
    # a fresh mtime: make rebuilds what the mutant built
    now = time.time()
    os.utime(path, (now, now))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="word", help="only mutants whose id or file contains this")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--keep", action="store_true", help="keep the scratch tree")
    arguments = parser.parse_args()
    chosen = [m for m in MUTANTS
              if not arguments.word or arguments.word in m["id"] or arguments.word in m["file"]]
    if arguments.list:
        for mutant in chosen:
            print(f"{mutant['id']:40} {mutant['file']:32} {' '.join(mutant['tests'])}")
        return
    tree = pathlib.Path(tempfile.mkdtemp(prefix="jarvis-mutation-"))
    log_path = tree.with_suffix(".log")
    print(f"mutation: scratch tree {tree}, log {log_path}", flush=True)
    results = collections.OrderedDict()  # file -> [killed, valid]
    try:
        copy_tree(tree)
        with open(log_path, "w") as log:
            all_tests = sorted({t for m in chosen for t in m["tests"]})
            if not build(tree, all_tests, log):
                print("mutation: the unmodified tree does not build; see the log")
                return
            for mutant in chosen:
                started = time.monotonic()
                log.write(f"\n==== {mutant['id']}\n")
                log.flush()
                counts = results.setdefault(mutant["file"], [0, 0])
                original = apply(tree, mutant)
                if original is None:
                    verdict = "INVALID (snippet not found exactly once)"
                elif not build(tree, mutant["tests"], log):
                    verdict = "INVALID (does not build)"
                    restore(tree, mutant, original)
                else:
                    try:
                        failed = run_tests(tree, mutant["tests"], log)
                    except RuntimeError as problem:
                        failed = problem
                    restore(tree, mutant, original)
                    if isinstance(failed, RuntimeError):
                        verdict = f"ERROR    {failed}"  # no verdict on the mutant
                    elif failed:
                        counts[0] += 1
                        counts[1] += 1
                        verdict = f"killed   by {failed}"
                    else:
                        counts[1] += 1
                        verdict = "SURVIVED"
                print(f"{mutant['id']:40} {verdict} ({time.monotonic() - started:.0f} s)",
                      flush=True)
        print("\nfile                              killed/valid  score")
        total_killed = total_valid = 0
        for name, (killed, valid) in results.items():
            total_killed += killed
            total_valid += valid
            score = f"{100 * killed / valid:.0f} %" if valid else "-"
            print(f"{name:34} {killed:3}/{valid:<3}       {score}")
        if total_valid:
            print(f"{'total':34} {total_killed:3}/{total_valid:<3}       "
                  f"{100 * total_killed / total_valid:.0f} %")
    finally:
        if not arguments.keep:
            shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    main()
    sys.exit(0)
