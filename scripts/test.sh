#!/usr/bin/env bash
# The test stages of `make test`, in order, each announced and timed, with a
# summary at the end. Every stage runs even when an earlier one failed, so one
# run shows every problem; the exit status is non-zero if any stage failed.
#
#   scripts/test.sh                 all stages
#   scripts/test.sh STAGE...        only these (lint unit oldest playbooks molecule)
#   SCENARIO=name scripts/test.sh molecule   one Molecule scenario
#
# Everything is offline: ansible-lint runs with offline: true, Molecule's
# dependency step is disabled (.config/molecule/config.yml), no Galaxy call.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"

VENV="${REPO_ROOT}/.venv"
OLDEST="${REPO_ROOT}/.venv-oldest"
export PATH="${VENV}/bin:${PATH}"
export ANSIBLE_FORCE_COLOR="${ANSIBLE_FORCE_COLOR:-0}" PY_COLORS="${PY_COLORS:-0}"

declare -a RESULTS=()
FAILED=0
PASSED=0

banner() {
    printf '\n'
    printf '=%.0s' {1..78}
    printf '\n== %s\n' "$*"
    printf '=%.0s' {1..78}
    printf '\n'
}

# step NAME COMMAND...: run one check of a stage; record and report it.
step() {
    local name="$1" start rc
    shift
    printf '\n--> %s\n    $ %s\n' "${name}" "$*"
    start=${SECONDS}
    set +e
    "$@"
    rc=$?
    set -e
    local took=$((SECONDS - start))
    if [[ ${rc} -eq 0 ]]; then
        RESULTS+=("PASS  ${name} (${took}s)")
        PASSED=$((PASSED + 1))
    else
        RESULTS+=("FAIL  ${name} (${took}s, exit ${rc})")
        FAILED=$((FAILED + 1))
    fi
    return 0
}

skip() {
    RESULTS+=("SKIP  $1: $2")
    printf '\n--> %s: skipped (%s)\n' "$1" "$2"
}

# pytest_dir PYTHON DIR: pytest on DIR, which must exist and hold tests.
pytest_dir() {
    local py="$1" dir="$2"
    shift 2
    "${py}" -m pytest "${dir}" "$@"
}

stage_lint() {
    banner "Stage: lint (ansible-lint production/strict/offline, yamllint, ruff, changelog)"
    step "ansible-lint" ansible-lint
    step "yamllint" yamllint --strict .
    step "ruff" ruff check .
    step "antsibull-changelog lint" antsibull-changelog lint
}

stage_unit() {
    banner "Stage: unit tests (newest toolchain: $("${VENV}/bin/ansible" --version | sed -n 1p))"
    step "pytest tests/unit (newest)" pytest_dir "${VENV}/bin/python" tests/unit -q
    step "pytest winsim/tests/unit (newest)" pytest_dir "${VENV}/bin/python" winsim/tests/unit -q
}

stage_oldest() {
    banner "Stage: oldest supported toolchain ($("${OLDEST}/bin/ansible" --version | sed -n 1p))"
    step "pytest tests/unit (oldest)" pytest_dir "${OLDEST}/bin/python" tests/unit -q -p no:cacheprovider
    step "pytest winsim/tests/unit (oldest)" pytest_dir "${OLDEST}/bin/python" winsim/tests/unit -q -p no:cacheprovider
    # A full converge of the simulated lab on a fresh state directory.
    local state="${REPO_ROOT}/.winsim/oldest"
    rm -rf "${state}"
    step "site.yml converge on inventories/sim (oldest)" \
        env PATH="${OLDEST}/bin:${PATH}" "${OLDEST}/bin/ansible-playbook" site.yml -i inventories/sim \
        -e "winsim_state_dir=${state}"
}

stage_playbooks() {
    banner "Stage: playbook tests (tests/playbooks against the simulated lab, winsim/tests/integration)"
    step "pytest tests/playbooks" pytest_dir "${VENV}/bin/python" tests/playbooks -q
    # winsim's own ansible-playbook runs through its connection plugin, on
    # both supported ansible-core versions.
    step "pytest winsim/tests/integration (newest + oldest)" \
        env MCMS_ANSIBLE_BIN_DIRS="${VENV}/bin:${OLDEST}/bin" \
        "${VENV}/bin/python" -m pytest winsim/tests/integration -q
}

stage_molecule() {
    local scenarios=() dir name
    if [[ -n "${SCENARIO:-}" ]]; then
        [[ -f "molecule/${SCENARIO}/molecule.yml" ]] || die "no Molecule scenario molecule/${SCENARIO}/molecule.yml"
        scenarios=("${SCENARIO}")
    else
        for dir in molecule/*/; do
            name="$(basename "${dir}")"
            [[ "${name}" == _* ]] && continue  # _shared: plumbing, not a scenario
            [[ -f "${dir}molecule.yml" ]] && scenarios+=("${name}")
        done
    fi
    banner "Stage: Molecule scenarios (${#scenarios[@]}: ${scenarios[*]:-none})"
    if [[ ${#scenarios[@]} -eq 0 ]]; then
        skip "molecule" "no scenario under molecule/"
        return 0
    fi
    for name in "${scenarios[@]}"; do
        step "molecule test -s ${name}" molecule test -s "${name}"
    done
}

summary() {
    banner "Summary"
    local line
    for line in "${RESULTS[@]}"; do
        printf '  %s\n' "${line}"
    done
    printf '\nchecks: %d passed, %d failed\n' "${PASSED}" "${FAILED}"
}

STAGES=("$@")
[[ ${#STAGES[@]} -gt 0 ]] || STAGES=(lint unit oldest playbooks molecule)
for s in "${STAGES[@]}"; do
    case "${s}" in
        lint | unit | oldest | playbooks | molecule) "stage_${s}" ;;
        *) die "unknown stage '${s}' (lint unit oldest playbooks molecule)" ;;
    esac
done
summary
[[ ${FAILED} -eq 0 ]]
