#!/bin/sh
# toml-test conformance suite (TOML 1.0.0, 709 cases) against our decoder
# build/tests/toml-decoder, using the shared cases and runner.
set -u
BUILD=${BUILD:-build}
SHARED=${TW_SHARED:-../shared}
if [ ! -d "$SHARED/toml-test" ]; then
    echo "toml-test: skipped (no $SHARED/toml-test)"
    exit 77
fi
if [ ! -x "$BUILD/tests/toml-decoder" ]; then
    echo "toml-test: $BUILD/tests/toml-decoder not built" >&2
    exit 1
fi
if [ "${TW_SAN:-}" = 1 ]; then
    exec "$SHARED/toml-test/run-toml-test" --timeout 10 \
        "$BUILD/tests/toml-decoder"
fi
exec "$SHARED/toml-test/run-toml-test" "$BUILD/tests/toml-decoder"
