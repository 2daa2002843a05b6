#!/bin/sh
# faults: the short form (four cells, ~3 min) of tests/faults/run: one
# family of system calls fails (libfiu) in one process while ytsim plays;
# the output must equal the truth. `make faults` runs the whole matrix.
# san: no (libfiu's LD_PRELOAD wrappers and ASan exclude each other)
cd "$(dirname "$0")/../.." || exit 1
exec sh tests/faults/run
