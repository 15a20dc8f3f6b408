#!/usr/bin/env python3
"""The core's include graph: files, include arrows, module circles and
depth, and (with --check) the layering rule of ARCHITECTURE.md: a file may
include only headers of its own layer or of layers below it.

Arrows are the includes. For circles and depth a header also leads to
every .c file that implements it (defines a function the header
declares), so "a.c includes b.h, b.h is implemented by b.c and c.c, c.c
includes a.h" is the circle it is. Circles are the strongly connected
groups of such files; depth is the longest chain. Usage: tools/include_graph.py [--check] [--list]"""
import argparse
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
CORE = ROOT / "core"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# lowest first: a layer may include its own and lower layers only
LAYERS = ["base", "config", "state", "instance", "plugin", "dispatch", "transport", "supervise", "."]


def core_files():
    return sorted(p for p in CORE.rglob("*") if p.suffix in (".c", ".h"))


def resolve(name, by_name):
    target = by_name.get(pathlib.Path(name).name)
    return target


def layer_of(path):
    relative = path.relative_to(CORE)
    return relative.parts[0] if len(relative.parts) > 1 else "."


def graph():
    files = core_files()
    by_name = {p.name: p for p in files}
    arrows = []
    for path in files:
        for name in INCLUDE.findall(path.read_text(errors="replace")):
            target = resolve(name, by_name)
            if target is not None and target != path:
                arrows.append((path, target))
    return files, arrows


DECLARED = re.compile(r"^[A-Za-z_][\w \t\*]*?\b([a-z_][a-z0-9_]*)\s*\([^;{]*\)\s*"
                      r"(?:__attribute__\(\(.*\)\))?\s*;", re.M | re.S)
DEFINED = re.compile(r"^(?!static)[A-Za-z_][\w \t\*]*?\b([a-z_][a-z0-9_]*)\s*\([^;{]*\)\s*\{",
                     re.M | re.S)


def implementation_arrows(files):
    """header -> each .c file that defines a function the header declares."""
    defined = {}
    for path in files:
        if path.suffix == ".c":
            for name in DEFINED.findall(path.read_text(errors="replace")):
                defined.setdefault(name, set()).add(path)
    arrows = []
    for path in files:
        if path.suffix == ".h":
            for name in set(DECLARED.findall(path.read_text(errors="replace"))):
                arrows.extend((path, source) for source in defined.get(name, ()))
    return arrows


def module(path):
    """A .c file and its .h of the same name are one module."""
    return path.with_suffix("")


def circles_and_depth(arrows, files):
    edges = {module(path): set() for path in files}
    for source, target in arrows + implementation_arrows(files):
        if module(source) != module(target):
            edges[module(source)].add(module(target))
    index, low, stack, on_stack, groups = {}, {}, [], set(), []
    counter = [0]

    def connect(node):  # Tarjan, iterative enough for a few hundred modules
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            groups.append(group)

    sys.setrecursionlimit(10000)
    for node in list(edges):
        if node not in index:
            connect(node)
    group_of = {m: i for i, g in enumerate(groups) for m in g}
    depth = {}

    def longest(group):
        if group not in depth:
            depth[group] = 0
            nexts = {group_of[n] for m in groups[group] for n in edges[m]} - {group}
            depth[group] = 1 + max((longest(n) for n in nexts), default=0)
        return depth[group]

    deepest = max((longest(g) for g in range(len(groups))), default=0)
    return [g for g in groups if len(g) > 1], deepest


def layering_problems(arrows):
    problems = []
    for source, target in arrows:
        low, high = layer_of(target), layer_of(source)
        if high not in LAYERS or low not in LAYERS:
            problems.append(f"{source.relative_to(ROOT)}: folder not in ARCHITECTURE.md's layers")
        elif LAYERS.index(low) > LAYERS.index(high):
            problems.append(f"{source.relative_to(ROOT)} includes "
                            f"{target.relative_to(ROOT)}: {high}/ may not include {low}/")
    return sorted(set(problems))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on circles or layering")
    parser.add_argument("--list", action="store_true", help="print the circles' members")
    args = parser.parse_args()
    files, arrows = graph()
    circles, depth = circles_and_depth(arrows, files)
    print(f"files {len(files)}, include arrows {len(arrows)}, "
          f"modules in circles {sum(len(c) for c in circles)} ({len(circles)} circles), "
          f"depth {depth}")
    if args.list:
        for circle in circles:
            print("circle:", ", ".join(sorted(str(m.relative_to(ROOT)) for m in circle)))
    if not args.check:
        return 0
    problems = layering_problems(arrows)
    for problem in problems:
        print(problem)
    if circles:
        print(f"{len(circles)} circle(s) of modules: run with --list")
    return 1 if problems or circles else 0


if __name__ == "__main__":
    sys.exit(main())
