#!/bin/sh
# The layer check: every #include "..." of the product's sources must name a
# header of a layer the including file may use (docs/ARCHITECTURE.md, "Layers").
#
#   base   : base                 proto  : base proto
#   bus    : base proto bus       net    : base proto net
#   store  : base proto net store
#   daemon : base proto bus daemon          (supervisor/daemon, tubewatchd)
#   cli    : base proto bus net store cli   (supervisor/cli, tubewatch)
#   KIND   : base proto bus net store, its own folder (workers/KIND)
#   ytsim  : base ytsim                     (tools/ytsim)
#
# Also: zmq_poll is called only inside common/bus (one event loop, tw_loop).
# Tests, benchmarks and fuzz targets may use anything and are not checked.
#
# Usage: layers.sh [ROOT]  (default: the checkout). Before checking the tree
# it checks itself on small trees that break each rule once, so a checker that
# lets everything pass fails here.
set -eu

here=$(cd "$(dirname "$0")/../.." && pwd)

# Prints one line per violation in the tree at $1; exit status 0 either way.
violations() {
    root=$1
    (cd "$root" && find common proto supervisor workers tools \
        -name '*.[ch]' -type f 2>/dev/null | sort) |
        while IFS= read -r f; do
            printf '%s\n' "$f"
        done |
        awk -v root="$root" '
        function layer(p) {
            if (p ~ /^common\/base\//) return "base"
            if (p ~ /^proto\//) return "proto"
            if (p ~ /^common\/bus\//) return "bus"
            if (p ~ /^common\/net\//) return "net"
            if (p ~ /^common\/store\//) return "store"
            if (p ~ /^supervisor\/daemon\//) return "daemon"
            if (p ~ /^supervisor\/cli\//) return "cli"
            if (p ~ /^tools\/ytsim\//) return "ytsim"
            if (p ~ /^workers\/[^\/]+\//) {
                split(p, a, "/")
                return "worker:" a[2]
            }
            return "other:" p
        }
        function exists(p,   r) {
            r = (system("test -f \"" root "/" p "\"") == 0)
            return r
        }
        # Normalizes a/b/../c into a/c.
        function norm(p,   n, a, out, i, k) {
            n = split(p, a, "/")
            k = 0
            for (i = 1; i <= n; i++) {
                if (a[i] == "." || a[i] == "") continue
                if (a[i] == ".." && k > 0) { k--; continue }
                out[++k] = a[i]
            }
            p = ""
            for (i = 1; i <= k; i++) p = p (i > 1 ? "/" : "") out[i]
            return p
        }
        function allowed(from, to,   w) {
            if (from == to) return 1
            if (to == "base") return from != "other"
            if (from == "proto") return 0
            if (to == "proto") return from != "base"
            if (from == "bus") return 0
            if (from == "net") return 0
            if (from == "store") return to == "net"
            if (from == "daemon") return to == "bus"
            if (from == "cli") return to == "bus" || to == "net" || to == "store"
            if (from ~ /^worker:/) return to == "bus" || to == "net" || to == "store"
            return 0
        }
        {
            f = $0
            from = layer(f)
            dir = f
            sub(/\/[^\/]*$/, "", dir)
            ln = 0
            while ((getline line < (root "/" f)) > 0) {
                ln++
                if (line ~ /zmq_poll[ \t]*\(/ && from != "bus")
                    printf "%s:%d: zmq_poll outside common/bus\n", f, ln
                if (line !~ /^[ \t]*#[ \t]*include[ \t]*"/) continue
                h = line
                sub(/^[^"]*"/, "", h)
                sub(/".*$/, "", h)
                target = ""
                if (exists(norm(dir "/" h))) target = norm(dir "/" h)
                else {
                    split("common/base proto common/bus common/net common/store", inc, " ")
                    for (i = 1; i <= 5; i++)
                        if (exists(norm(inc[i] "/" h))) { target = norm(inc[i] "/" h); break }
                }
                if (target == "") {
                    printf "%s:%d: includes \"%s\", which is in no layer\n", f, ln, h
                    continue
                }
                to = layer(target)
                if (!allowed(from, to))
                    printf "%s:%d: %s may not include %s (%s)\n", f, ln, from, target, to
            }
            close(root "/" f)
        }'
}

# Self-check: each small tree breaks one rule; each must be reported.
selftest() {
    t=$(mktemp -d)
    trap 'rm -rf "$t"' EXIT INT TERM
    fails=0
    mk() { mkdir -p "$t/$1/$(dirname "$2")" && printf '%s\n' "$3" >"$t/$1/$2"; }
    # 1. base includes net
    mk a common/net/tw_n.h '/* n */'
    mk a common/base/tw_b.c '#include "tw_n.h"'
    # 2. the CLI includes a worker header
    mk b workers/scanner/scan_x.h '/* x */'
    mk b supervisor/cli/ctl_x.c '#include "../../workers/scanner/scan_x.h"'
    # 3. a worker includes another worker's header
    mk c workers/stats/stats_y.h '/* y */'
    mk c workers/chat/chat_y.c '#include "../stats/stats_y.h"'
    # 4. zmq_poll in a worker
    mk d workers/chat/main.c 'int x(void) { return zmq_poll (0, 0, 0); }'
    # 5. the daemon includes net
    mk e common/net/tw_http.h '/* h */'
    mk e supervisor/daemon/sup_x.c '#include "tw_http.h"'
    for case in a b c d e; do
        if [ -z "$(violations "$t/$case")" ]; then
            echo "layers: self-check: tree $case breaks a rule and passed" >&2
            fails=1
        fi
    done
    # A clean tree passes.
    mk ok common/base/tw_b.h '/* b */'
    mk ok common/net/tw_n.c '#include "tw_b.h"'
    mk ok workers/chat/main.c '#include "tw_b.h"'
    if [ -n "$(violations "$t/ok")" ]; then
        echo "layers: self-check: a clean tree failed:" >&2
        violations "$t/ok" >&2
        fails=1
    fi
    rm -rf "$t"
    trap - EXIT INT TERM
    return $fails
}

selftest
out=$(violations "${1:-$here}")
if [ -n "$out" ]; then
    printf '%s\n' "$out" >&2
    echo "layers: $(printf '%s\n' "$out" | wc -l) violation(s)" >&2
    exit 1
fi
n=$(cd "${1:-$here}" && find common proto supervisor workers tools -name '*.[ch]' | wc -l)
echo "layers: $n files, every include within its layers"
