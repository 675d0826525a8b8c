#!/usr/bin/env bash
# Reruns the benchmarks of BENCHMARKS.md: installs the comparison tools if missing (python
# typst, WeasyPrint, LibreOffice), builds kkr in release mode and runs the benchmark suite
# (examples/bench.rs). Needs python3. Arguments name sections (render [html], latency, send,
# smtp, memory, archive, rebuild); none runs them all, e.g. `scripts/bench.sh smtp`.
#
# The smtp section (kkr against Python's smtplib, scripts/bench_smtplib.py) needs only
# python3: its SMTP server is a discarding sink inside the benchmark, the same for both
# sides. aiosmtpd was tried as that server and is the bottleneck there (its per-line DATA
# handling in Python takes about 4 s for the 62 messages whoever sends them), so it is
# not used.
set -euo pipefail
cd "$(dirname "$0")/.."

# Whether section $1 was asked for by name.
wants() {
    local s
    for s in "${sections[@]}"; do
        [ "$s" = "$1" ] && return 0
    done
    return 1
}
sections=("$@")

command -v python3 >/dev/null 2>&1 || { echo "python3 is needed" >&2; exit 1; }
if [ ${#sections[@]} -eq 0 ] || wants render; then
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
fi

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)" >&2
cargo build --release --locked
cargo run --release --locked --example bench -- "$@"
