#!/bin/sh
# chaos: the short form (~60 s) of tests/chaos/run: 24 ytsim streams through
# the whole pipeline while workers are killed with SIGKILL; the comments
# files must equal ytsim's truth. `make chaos` runs the long form.
cd "$(dirname "$0")/../.." || exit 1
exec sh tests/chaos/run
