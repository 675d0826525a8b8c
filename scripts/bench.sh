#!/usr/bin/env bash
# Reruns every benchmark of BENCHMARKS.md: installs the comparison tools if missing (python
# typst, WeasyPrint, LibreOffice), builds kkr in release mode and runs the benchmark suite
# (examples/bench.rs). Needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c "import typst" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check "typst==0.15.2"
# poppler for the checks; WeasyPrint and LibreOffice (headless Writer) as the HTML → PDF
# alternatives a secretariat could use instead.
need=()
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v weasyprint >/dev/null 2>&1 || need+=(weasyprint)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)" >&2
cargo build --release --locked
cargo run --release --locked --example bench
