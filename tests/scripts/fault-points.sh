#!/bin/sh
# fault-points: the short form of tests/faults/points: the crash points
# (tw/crash/*) of one process at a time SIGKILL it; the output must equal
# the truth. `make faults` walks every point in its own cell.
# san: no (libfiu's LD_PRELOAD wrappers and ASan exclude each other)
cd "$(dirname "$0")/../.." || exit 1
exec sh tests/faults/points
