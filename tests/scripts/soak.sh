#!/bin/sh
# soak: the one-day form (~3 min) of tests/soak/run: a simulated day (DST
# change, 02:00 archive and Drive upload through a Drive outage, quota
# exhaustion, expiring access tokens) under a virtual clock; every chat
# item, archive and Telegram message once. `make soak` plays seven days.
cd "$(dirname "$0")/../.." || exit 1
DAYS=1 exec sh tests/soak/run
