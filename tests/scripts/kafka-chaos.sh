#!/bin/sh
# kafka-chaos: kafka-worker.sh with every broker down for 5 s, injected
# Produce errors and the kafka and chat workers SIGKILLed while the stream
# is live: nothing lost, duplicates only as whole records again.
cd "$(dirname "$0")/../.." || exit 1
exec sh tests/scripts/kafka-worker.sh chaos
