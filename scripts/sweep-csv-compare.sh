#!/bin/bash
# Compares two sweep.csv files apart from the columns that depend on timing or on what the
# caches held (generate_s, build_s, simulate_s, synth_s, simulated_macs_per_s, synth_cached,
# pnr_seconds, pnr_cached):
#
#   scripts/sweep-csv-compare.sh local/sweep.csv slurm/sweep.csv
#
# Exit status 0 and "equal (N rows)" when they match; 1 and the first differing cells when not.
# Fields are split on commas outside double quotes (RFC 4180, as sweep writes them).
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 A.csv B.csv" >&2; exit 2; }
for f in "$1" "$2"; do [ -r "$f" ] || { echo "$0: cannot read $f" >&2; exit 2; }; done

strip() {
    # POSIX awk (mawk has no FPAT): split each line on commas outside double quotes.
    awk -v skip="generate_s build_s simulate_s synth_s simulated_macs_per_s synth_cached pnr_seconds pnr_cached" '
        function split_csv(line, out,    n, i, c, q, f) {
            n = 0; f = ""; q = 0
            for (i = 1; i <= length(line); i++) {
                c = substr(line, i, 1)
                if (c == "\"") q = !q
                if (c == "," && !q) { out[++n] = f; f = "" } else f = f c
            }
            out[++n] = f
            return n
        }
        BEGIN { k = split(skip, s, " "); for (i = 1; i <= k; i++) drop[s[i]] = 1 }
        {
            n = split_csv($0, field)
            if (NR == 1) for (i = 1; i <= n; i++) keep[i] = !(field[i] in drop)
            line = ""; first = 1
            for (i = 1; i <= n; i++) if (keep[i]) { line = line (first ? "" : ",") field[i]; first = 0 }
            print line
        }' "$1"
}

a=$(strip "$1"); b=$(strip "$2")
if [ "$a" == "$b" ]; then
    echo "equal apart from the timing columns ($(($(printf '%s\n' "$a" | wc -l) - 1)) rows)"
    exit 0
fi
echo "differ (timing columns aside):"
diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -20
exit 1
