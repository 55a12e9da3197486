#!/usr/bin/env bash
# The test command (README, .ci/run): installs what the tests need, makes sure PostgreSQL is up
# and Chromium is there, then runs pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "scripts/test.sh: the page tests need chromium and chromium-driver" >&2
        exit 1
    fi
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    fi
    for _ in $(seq 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && break
        sleep 1
    done
fi
# The database tests must fail, not skip, without a server: say so plainly first.
pg_isready -q -h 127.0.0.1 -p 5432 || {
    echo "scripts/test.sh: PostgreSQL is not reachable on 127.0.0.1:5432" >&2
    exit 1
}

# The SARIF tests validate with Microsoft's SARIF multitool (npm, runs with node), kept in a
# cache folder outside the repository and installed once.
SARIF_MULTITOOL_VERSION=5.7.0
TOOLS="${GRABBER_TEST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/xfail-grabber-test}"
SARIF_DIR="$TOOLS/sarif-multitool-$SARIF_MULTITOOL_VERSION"
SARIF_BIN="$SARIF_DIR/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
if [ ! -x "$SARIF_BIN" ]; then
    command -v npm >/dev/null 2>&1 || {
        echo "scripts/test.sh: the SARIF tests need node and npm" >&2
        exit 1
    }
    mkdir -p "$SARIF_DIR"
    npm install --prefix "$SARIF_DIR" --no-audit --no-fund --silent \
        "@microsoft/sarif-multitool@$SARIF_MULTITOOL_VERSION"
    # Its postinstall script (which only does this) may be held back by npm's script policy.
    chmod u+x "$SARIF_BIN"
fi
export GRABBER_SARIF_MULTITOOL="$SARIF_DIR/node_modules/@microsoft/sarif-multitool/bin.js"

exec python3 -m pytest "$@"
