# shellcheck shell=bash
# Shared helpers of the setup scripts: toolchain sets, interpreter discovery,
# messages. Sourced, never executed.
#
# Two pinned toolchain sets (docs/decisions.md "Supported range"):
#   newest  ansible-core 2.21 on Python 3.13 or 3.12   -> .venv
#   oldest  ansible-core 2.19 on Python 3.11           -> .venv-oldest

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQ_DIR="${REPO_ROOT}/requirements"
WHEELHOUSE="${MCMS_WHEELHOUSE:-${REPO_ROOT}/wheelhouse}"

log()  { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die()  { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# set_vars SET: the facts of one toolchain set.
#   VENV_DIR        where it is installed
#   PY_VERSIONS     acceptable Python minor versions, preferred first
#   PY_OVERRIDE     environment variable that forces an interpreter
#   LOCK            the hash-pinned lock file of the set
#   EXTRA_LOCK      optional second lock installed with --no-deps (oldest:
#                   the same `ansible` collection package as the newest set)
set_vars() {
    case "$1" in
        newest)
            VENV_DIR="${REPO_ROOT}/.venv"
            PY_VERSIONS="3.13 3.12"
            PY_OVERRIDE="MCMS_PYTHON_NEWEST"
            LOCK="${REQ_DIR}/newest.txt"
            EXTRA_LOCK=""
            ;;
        oldest)
            VENV_DIR="${REPO_ROOT}/.venv-oldest"
            PY_VERSIONS="3.11"
            PY_OVERRIDE="MCMS_PYTHON_OLDEST"
            LOCK="${REQ_DIR}/oldest.txt"
            EXTRA_LOCK="${REQ_DIR}/oldest-collections.txt"
            ;;
        *)
            die "unknown toolchain set '$1' (expected: newest or oldest)"
            ;;
    esac
}

# probe_python CANDIDATE VERSION: print the real executable of CANDIDATE if it
# actually runs, is Python VERSION and can create a venv with pip. A pyenv shim
# for a version that is not active exits non-zero here, so it is skipped.
probe_python() {
    local cand="$1" want="$2"
    "$cand" - "$want" 2>/dev/null <<'PY' || return 1
import sys
want = tuple(int(p) for p in sys.argv[1].split("."))
if sys.version_info[:2] != want:
    raise SystemExit(1)
import ensurepip  # noqa: F401  (Debian splits it into python3.X-venv)
import venv  # noqa: F401
print(sys.executable)
PY
}

# pyenv_root: where pyenv keeps its interpreters, if pyenv is used at all.
pyenv_root() {
    if command -v pyenv >/dev/null 2>&1; then
        pyenv root 2>/dev/null && return 0
    fi
    printf '%s\n' "${PYENV_ROOT:-${HOME}/.pyenv}"
}

# find_python SET: print the newest suitable interpreter for SET, or fail with
# a message saying what was tried and how to fix it.
find_python() {
    set_vars "$1"
    local override="${!PY_OVERRIDE:-}" ver cand found tried=()
    if [[ -n "${override}" ]]; then
        for ver in ${PY_VERSIONS}; do
            if found="$(probe_python "${override}" "${ver}")"; then
                printf '%s\n' "${found}"
                return 0
            fi
        done
        die "${PY_OVERRIDE}=${override} is not a working Python ${PY_VERSIONS// / or } with venv support"
    fi
    local root
    root="$(pyenv_root)"
    for ver in ${PY_VERSIONS}; do
        # 1. On PATH (may be a pyenv shim that fails when not active).
        # 2. Interpreters pyenv installed, newest patch first.
        # 3. Usual system locations.
        local -a cands=("python${ver}")
        while IFS= read -r cand; do
            [[ -n "${cand}" ]] && cands+=("${cand}")
        done < <(ls -d "${root}"/versions/"${ver}"*/bin/python"${ver}" 2>/dev/null | sort -rV)
        cands+=("/usr/local/bin/python${ver}" "/usr/bin/python${ver}")
        for cand in "${cands[@]}"; do
            tried+=("${cand}")
            if found="$(probe_python "${cand}" "${ver}")"; then
                printf '%s\n' "${found}"
                return 0
            fi
        done
    done
    die "no working Python ${PY_VERSIONS// / or } (with venv and ensurepip) for the $1 toolchain.
  Tried: ${tried[*]}
  Fix: install one (Debian: apt-get install python${PY_VERSIONS%% *} python${PY_VERSIONS%% *}-venv; or pyenv install ${PY_VERSIONS%% *}),
       or point ${PY_OVERRIDE} at an interpreter."
}

# pip_quiet_filter: drop pip's warnings about index locations of this
# machine's pip configuration that do not exist (noise, not problems).
pip_quiet_filter() {
    grep -v "is ignored: it is neither a file nor a directory" >&2 || true
}

# pip_source_args: install from the air-gapped wheelhouse when one exists.
pip_source_args() {
    if [[ -d "${WHEELHOUSE}" ]] && compgen -G "${WHEELHOUSE}/*.whl" >/dev/null; then
        printf '%s\n' --no-index --find-links "${WHEELHOUSE}"
    fi
}
