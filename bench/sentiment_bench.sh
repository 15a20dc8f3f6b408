#!/usr/bin/env bash
# Builds and runs bench/sentiment_bench.c against the normal build's plugin
# and core archives (run `make` first). Args: [lexicon] [scorer rounds].
set -eu
cd "$(dirname "$0")/.."
make -s build/obj/plugins/libsentiment.a build/obj/libjarvis_core.a
mkdir -p build/bench
cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -Iinclude -Iplugins -iquote core -pthread \
  -o build/bench/sentiment_bench bench/sentiment_bench.c \
  build/obj/plugins/libsentiment.a build/obj/libjarvis_core.a \
  -lcurl -ljansson -linih -lsqlite3 -ldl -lm -pthread
exec build/bench/sentiment_bench "${1:-plugins/sentiment/lexicon.txt}" "${2:-40}"
