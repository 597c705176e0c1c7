#!/usr/bin/env bash
# The token estimator against the real tokenizer: installs the npm package gpt-tokenizer (for
# this test only, into tests/tokenizer/node_modules), counts the corpus with it (o200k_base and
# cl100k_base), then runs the accuracy test, which prints the error distribution and fails when
# the estimate misses its targets. Fails, loudly, when node, npm or the registry is missing.
#
#   tests/tokenizer/check.sh [cmake build directory, default build]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
dir=tests/tokenizer

for tool in node npm; do
    if ! command -v "$tool" > /dev/null; then
        echo "tokenizer-check: $tool is missing; install Node.js with npm (apt-get install nodejs npm)" >&2
        exit 1
    fi
done
if [ ! -x "$build/token_accuracy" ]; then
    echo "tokenizer-check: $build/token_accuracy is not built (cmake --build $build --target token_accuracy)" >&2
    exit 1
fi

if ! npm install --prefix "$dir" --no-audit --no-fund --loglevel=error > "$build/npm-install.log" 2>&1; then
    cat "$build/npm-install.log" >&2
    echo "tokenizer-check: npm install of gpt-tokenizer failed (is the npm registry reachable?)" >&2
    exit 1
fi

counts="$build/token_counts.tsv"
node "$dir/count.mjs" "$dir/corpus.jsonl" > "$counts"
items=$(grep -c . "$dir/corpus.jsonl")
if [ "$(wc -l < "$counts")" -ne "$items" ]; then
    echo "tokenizer-check: $counts has $(wc -l < "$counts") counts for $items corpus items" >&2
    exit 1
fi

CONVO_TOKEN_CORPUS="$dir/corpus.jsonl" CONVO_TOKEN_COUNTS="$counts" "$build/token_accuracy"
