#!/usr/bin/env bash
# The Rasa environment (.venv-rasa) and the Rasa model (models/current.tar.gz).
#
# Rasa 3.6.21 declares Python <3.11 and pins libraries the app environment has outgrown, so it lives
# in its own virtualenv (DESIGN.md §2). Everything here is idempotent and cheap when nothing changed,
# because `make install`, `make run` and `make test` call it every time.
#
#   scripts/rasa_env.sh install    build .venv-rasa from requirements/rasa.lock.txt unless its stamp matches
#   scripts/rasa_env.sh train      train models/current.tar.gz unless nlu_data/ + config/rasa/ are unchanged
#   scripts/rasa_env.sh validate   rasa data validate (fails on warnings)
#   scripts/rasa_env.sh eval       train if needed, then score the held-out NLU split (scripts/nlu_eval.py)
#   scripts/rasa_env.sh run        Rasa server (REST channel, Redis stores from config/rasa/endpoints.yml)
#   scripts/rasa_env.sh actions    action server (actions/)
#   scripts/rasa_env.sh lock       re-resolve requirements/rasa.in into requirements/rasa.lock.txt
#   scripts/rasa_env.sh shell CMD  run CMD with .venv-rasa/bin first on PATH
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3.11}"
VENV="${RASA_VENV:-$ROOT/.venv-rasa}"   # overridable for CI caches and throwaway builds
REQ_IN="requirements/rasa.in"
LOCK="requirements/rasa.lock.txt"
TEST_TOOLS="requirements/rasa-test.txt"   # pytest for tests/actions, installed on top of the lock
VENV_STAMP="$VENV/.lock.sha256"
CONFIG="config/rasa/config.yml"
DOMAIN="config/rasa/domain"
ENDPOINTS="config/rasa/endpoints.yml"
CREDENTIALS="config/rasa/credentials.yml"
DATA="nlu_data"
MODELS="models"
MODEL_NAME="current"
MODEL="$MODELS/$MODEL_NAME.tar.gz"
MODEL_STAMP="$MODELS/.$MODEL_NAME.fingerprint"

# Rasa would otherwise ask about telemetry on first run and TensorFlow floods stderr with CPU notes.
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"

log() { printf '[rasa_env] %s\n' "$*" >&2; }

sha256() { sha256sum | cut -d' ' -f1; }

# The venv stamp covers the lock and the interpreter, since a new Python needs a fresh venv too.
venv_fingerprint() {
    { cat "$LOCK"; "$PYTHON" -c 'import sys; print(sys.version)'; } | sha256
}

# Everything that goes into the model: training data, config, domain, the user dictionary, and the
# resolved environment (a different Rasa/TensorFlow build gives a different model). Test data is
# deliberately outside nlu_data/, and endpoints/credentials are runtime settings, so editing those never
# forces a retrain.
model_fingerprint() {
    {
        find "$DATA" config/rasa -type f ! -name "$(basename "$ENDPOINTS")" ! -name "$(basename "$CREDENTIALS")" \
            -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
        sha256sum "$LOCK"
    } | sha256
}

# The action tests run in this environment; their tools are not Rasa's dependencies, so they sit outside
# the lock (and its stamp) and are added when missing, without rebuilding the environment.
install_test_tools() {
    [[ -f "$TEST_TOOLS" ]] || return 0
    "$VENV/bin/python" -c 'import pytest, pytest_asyncio, pytest_timeout' 2>/dev/null && return 0
    log "installing test tools from $TEST_TOOLS"
    "$VENV/bin/python" -m pip install --quiet --no-deps --require-hashes -r "$TEST_TOOLS" \
        2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
}

cmd_install() {
    [[ -f "$LOCK" ]] || { log "missing $LOCK (run: scripts/rasa_env.sh lock)"; exit 1; }
    local want
    want="$(venv_fingerprint)"
    if [[ -x "$VENV/bin/rasa" && -f "$VENV_STAMP" && "$(cat "$VENV_STAMP")" == "$want" ]]; then
        log "${VENV#"$ROOT"/} is up to date"
        install_test_tools
        return 0
    fi
    # Two `make` targets may race to build it; the second waits and then finds the stamp.
    exec 9>"${TMPDIR:-/tmp}/rasa_env-$(printf '%s' "$ROOT" | sha256 | cut -c1-12).lock"
    flock 9
    if [[ -x "$VENV/bin/rasa" && -f "$VENV_STAMP" && "$(cat "$VENV_STAMP")" == "$want" ]]; then
        log "${VENV#"$ROOT"/} is up to date"
        install_test_tools
        exec 9>&-
        return 0
    fi
    local started=$SECONDS
    log "building ${VENV#"$ROOT"/} from $LOCK (Python: $("$PYTHON" --version))"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    # Keep the multi-GB environment out of git even where the root .gitignore is missing.
    printf '*\n' >"$VENV/.gitignore"
    # Every line of the lock is pinned with hashes, so no resolution happens here: --no-deps installs
    # exactly the lock, and --ignore-requires-python lets rasa/rasa-sdk (declared <3.11) in.
    # (pip.conf's extra file:// indexes lack most packages; pip warns for each one, which is noise.)
    "$VENV/bin/python" -m pip install --quiet --no-deps --ignore-requires-python --require-hashes \
        -r "$LOCK" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
    log "smoke test"
    "$VENV/bin/rasa" --version
    "$VENV/bin/python" -c 'import jieba, rasa_sdk, tensorflow, rasa.nlu.tokenizers.jieba_tokenizer'
    printf '%s\n' "$want" >"$VENV_STAMP"
    install_test_tools
    log "${VENV#"$ROOT"/} built in $((SECONDS - started)) s"
    exec 9>&-  # as in cmd_train: `run` and `actions` exec a long-lived server next
}

rasa_cli() { "$VENV/bin/rasa" "$@"; }

# Responses that only forms (utter_ask_<slot>) and custom actions send. Rasa's validator cannot see those
# uses and warns that they are unused; every other warning fails validation.
RESPONSES_USED_BY_ACTIONS="utter_default utter_invalid_phone utter_please_rephrase utter_out_of_scope utter_confirm_cancel_licence utter_greet"

cmd_validate() {
    cmd_install
    log "rasa data validate"
    local out status=0 allowed problems
    out="$(rasa_cli data validate --config "$CONFIG" --domain "$DOMAIN" --data "$DATA" --fail-on-warnings 2>&1)" \
        || status=$?
    allowed="utter_ask_[a-z_]+|${RESPONSES_USED_BY_ACTIONS// /|}"
    problems="$(grep -E 'rasa/shared/utils/io.py:[0-9]+: [A-Za-z]*Warning:| (WARNING|ERROR) ' <<<"$out" \
        | grep -v -E "The utterance '($allowed)' is not used in any story or rule" || true)"
    grep -E 'rasa\.validator' <<<"$out" | sed 's/^.*rasa\.validator *- */  /' >&2 || true
    if [[ $status -ne 0 || -n "$problems" ]]; then
        printf '%s\n' "$problems" >&2
        log "validation FAILED"
        return 1
    fi
    log "validation clean"
}

cmd_train() {
    cmd_install
    local want
    want="$(model_fingerprint)"
    if [[ -f "$MODEL" && -f "$MODEL_STAMP" && "$(cat "$MODEL_STAMP")" == "$want" ]]; then
        log "$MODEL is up to date with $DATA/ and config/rasa/ (fingerprint ${want:0:12})"
        return 0
    fi
    # `make run` and `make test` may start together; the second waits, then finds the fresh stamp.
    exec 8>"${TMPDIR:-/tmp}/rasa_env-$(printf '%s' "$ROOT" | sha256 | cut -c1-12).train-lock"
    flock 8
    if [[ -f "$MODEL" && -f "$MODEL_STAMP" && "$(cat "$MODEL_STAMP")" == "$want" ]]; then
        log "$MODEL is up to date (trained meanwhile by another run)"
        exec 8>&-
        return 0
    fi
    local started=$SECONDS
    log "training $MODEL (data or config changed; fingerprint ${want:0:12})"
    mkdir -p "$MODELS"
    printf '*\n' >"$MODELS/.gitignore"
    rasa_cli train --config "$CONFIG" --domain "$DOMAIN" --data "$DATA" \
        --out "$MODELS" --fixed-model-name "$MODEL_NAME"
    printf '%s\n' "$want" >"$MODEL_STAMP"
    log "trained $MODEL in $((SECONDS - started)) s"
    # Release the lock: `run` execs Rasa next, which would otherwise hold it for as long as it serves.
    exec 8>&-
}

cmd_eval() {
    cmd_train
    "$VENV/bin/python" scripts/nlu_eval.py --model "$MODEL" "$@"
}

# endpoints.yml reads REDIS_HOST/REDIS_PORT/REDIS_DB/REDIS_PASSWORD, ACTION_ENDPOINT_URL and
# RASA_TRACKER_TTL, and Rasa refuses to start when one is unset. The rest of the product configures
# Redis with one REDIS_URL, so the REDIS_* values are derived from it unless set explicitly.
runtime_env() {
    local parsed
    parsed="$("$VENV/bin/python" - "${REDIS_URL:-redis://127.0.0.1:6379/0}" <<'PY'
import shlex, sys
from urllib.parse import unquote, urlsplit

url = urlsplit(sys.argv[1])
values = {
    "host": url.hostname or "127.0.0.1",
    "port": str(url.port or 6379),
    "db": url.path.lstrip("/") or "0",
    "password": unquote(url.password or ""),
}
for name, value in values.items():
    print(f"redis_{name}={shlex.quote(value)}")
PY
)"
    local redis_host redis_port redis_db redis_password
    eval "$parsed"
    export REDIS_HOST="${REDIS_HOST:-$redis_host}"
    export REDIS_PORT="${REDIS_PORT:-$redis_port}"
    export REDIS_DB="${REDIS_DB:-$redis_db}"
    export REDIS_PASSWORD="${REDIS_PASSWORD:-$redis_password}"
    export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:${ACTION_PORT:-5055}/webhook}"
    export RASA_TRACKER_TTL="${RASA_TRACKER_TTL:-604800}"   # seconds; the backend holds the real state
}

cmd_run() {
    cmd_train
    runtime_env
    log "Rasa on ${RASA_HOST:-127.0.0.1}:${RASA_PORT:-5005} (REST channel), Redis $REDIS_HOST:$REDIS_PORT/$REDIS_DB," \
        "actions at $ACTION_ENDPOINT_URL"
    exec "$VENV/bin/rasa" run --model "$MODEL" --endpoints "$ENDPOINTS" --credentials "$CREDENTIALS" \
        --port "${RASA_PORT:-5005}" --interface "${RASA_HOST:-127.0.0.1}" "$@"
}

cmd_actions() {
    cmd_install
    exec "$VENV/bin/rasa" run actions --actions actions --port "${ACTION_PORT:-5055}" "$@"
}

cmd_lock() {
    # pip-compile cannot resolve rasa/rasa-sdk on 3.11 (Requires-Python <3.11) and would reject the
    # matplotlib/scipy adjustments against their metadata, so resolve the dependency list without
    # them, then append the two pinned by hash. pip-tools comes from the app env (`make lock` uses it).
    local pip_compile="${PIP_COMPILE:-$ROOT/.venv/bin/pip-compile}"
    [[ -x "$pip_compile" ]] || { log "need pip-compile (make install builds .venv with it)"; exit 1; }
    local tmp
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' RETURN
    grep -v -E '^(rasa|rasa-sdk)==' "$REQ_IN" >"$tmp/rasa-deps.in"
    log "resolving $REQ_IN (fetches hashes; takes a few minutes)"
    "$pip_compile" --quiet --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
        --generate-hashes --no-header --output-file "$tmp/deps.txt" "$tmp/rasa-deps.in" 2>"$tmp/log" \
        || { cat "$tmp/log" >&2; exit 1; }
    local pkg
    {
        echo "# Resolved Rasa environment for CPython 3.11 on Linux x86_64 — every package, exact version, hashes."
        echo "# Generated by \`scripts/rasa_env.sh lock\` from $REQ_IN; do not edit by hand."
        echo "# Install with \`scripts/rasa_env.sh install\` (pip --no-deps --ignore-requires-python --require-hashes)."
        echo "#"
        echo "# rasa and rasa-sdk declare Requires-Python <3.11; they are pinned here by hash and installed"
        echo "# without their own dependency metadata (see $REQ_IN for the adjusted list)."
        for pkg in $(grep -E '^(rasa|rasa-sdk)==' "$REQ_IN"); do
            mkdir -p "$tmp/dl"
            "$PYTHON" -m pip download --quiet --no-deps --ignore-requires-python --only-binary :all: \
                -d "$tmp/dl" "$pkg"
        done
        for whl in "$tmp"/dl/*.whl; do
            local name version
            name="$(basename "$whl" | cut -d- -f1 | tr _ -)"
            version="$(basename "$whl" | cut -d- -f2)"
            echo "$name==$version \\"
            echo "    --hash=sha256:$(sha256sum "$whl" | cut -d' ' -f1)"
            echo "    # via -r $REQ_IN (installed --no-deps)"
        done
        sed "s#$tmp/rasa-deps.in#$REQ_IN#g" "$tmp/deps.txt"
    } >"$LOCK.tmp"
    mv "$LOCK.tmp" "$LOCK"
    log "wrote $LOCK ($(grep -c -E '^[A-Za-z0-9]' "$LOCK") packages)"
}

case "${1:-}" in
    install) cmd_install ;;
    train) cmd_train ;;
    validate) cmd_validate ;;
    eval) shift; cmd_eval "$@" ;;
    run) shift; cmd_run "$@" ;;
    actions) shift; cmd_actions "$@" ;;
    lock) cmd_lock ;;
    shell) shift; cmd_install; PATH="$VENV/bin:$PATH" exec "$@" ;;
    *)
        sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
