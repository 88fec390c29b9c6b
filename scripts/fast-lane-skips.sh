#!/usr/bin/env bash
# Prints `--skip REGEX` arguments for `swift test` that leave out every test tagged with one of
# the tags in Sources/TestTags (Verilator, Icarus, yosys, Slurm, data packages, training, Python tools): the
# fast lane (`make test-fast`). swift test 6.3 cannot filter by tag itself, so the tags are read
# from the sources: a tagged `@Suite` skips its whole struct, a tagged `@Test` its function.
set -euo pipefail
cd "$(dirname "$0")/.."
awk '
    FNR == 1 { split(FILENAME, p, "/"); target = p[2]; pending = ""; suite = "" }
    /^@Suite/ { pending = ($0 ~ /\.tags\(/) ? "suite" : "plain" }
    /^(@Suite.*\)[ ]+)?(public |private |fileprivate )?(struct|final class|class|enum|extension) / {
        line = $0; sub(/^@Suite.*\)[ ]+/, "", line)
        split(line, w, /[ :{]+/)
        name = (w[1] ~ /^(public|private|fileprivate)$/) ? w[3] : w[2]
        if (w[1] == "final") name = w[3]
        suite = name
        if (pending == "suite") print target "\\." name "(/|$)"
        pending = ""
    }
    /^[ ]+@Test\(.*\.tags\(/ { testTagged = 1; next }
    /^[ ]+@Test/ { testTagged = 0 }
    /^[ ]+(static )?func [A-Za-z_]+\(/ && testTagged {
        line = $0; sub(/^[ ]+(static )?func /, "", line); sub(/\(.*/, "", line)
        print target "\\." suite "/" line "\\("
        testTagged = 0
    }
' Tests/*/*.swift | sort -u | sed "s/.*/--skip '&'/" | tr '\n' ' '
