#!/usr/bin/env bash
# Reruns every benchmark of BENCHMARKS.md: installs the comparison tools if missing, builds
# kkr in release mode and runs the benchmark suite (examples/bench.rs). Needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c "import typst" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check "typst==0.15.2"
command -v pdftotext >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)" >&2
cargo build --release --locked
cargo run --release --locked --example bench
