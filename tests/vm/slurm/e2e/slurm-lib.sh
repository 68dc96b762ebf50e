# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers of the suites that run as root on n1 of the Slurm test cluster (sourced, not executed).
#
# Builds on tests/vm/e2e/lib.sh (the payload carries it beside this file): its setUp/tearDown record
# each test's outcome for the host, e2e_note records a measurement. Jobs are submitted as "alice"
# (the same UID on both nodes) and work in $SLURM_WORK on the NFS share both nodes mount.

# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the suites that source this file

# shellcheck source=../../e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SLURM_SHARE=/srv/analysis-sandbox
SLURM_CONTROL=$SLURM_SHARE/.testbed
SLURM_USER=alice
SLURM_WORK=$SLURM_SHARE/$SLURM_USER

# Runs a command as the test user, in the shared work directory.
as_user() {
    (cd "$SLURM_WORK" && runuser -u "$SLURM_USER" -- "$@")
}

# Makes the test user's work directory on the share (idempotent).
slurm_make_work() {
    mkdir -p "$SLURM_WORK"
    chown "$SLURM_USER:" "$SLURM_WORK"
}

# Prints field FIELD of job ID as scontrol shows it ("JobState", "ExitCode", "NodeList", ...).
slurm_job_field() {
    scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

# Prints field FIELD of node NODE ("State", "Reason", ...).
slurm_node_field() {
    scontrol -o show node "$2" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n1
}

# Waits up to SECONDS for job ID to leave PENDING/RUNNING/COMPLETING; returns 1 if it has not.
slurm_wait_job() {
    local id=$1 seconds=$2 deadline state
    deadline=$((SECONDS + seconds))
    while ((SECONDS < deadline)); do
        state=$(slurm_job_field "$id" JobState)
        case $state in
            PENDING | RUNNING | COMPLETING | CONFIGURING | "") ;;
            *) return 0 ;;
        esac
        sleep 0.5
    done
    return 1
}

# Waits up to SECONDS for job ID to be RUNNING.
slurm_wait_running() {
    local id=$1 seconds=$2 deadline
    deadline=$((SECONDS + seconds))
    until [[ $(slurm_job_field "$id" JobState) == RUNNING ]]; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

# Prints the seconds since the epoch with nanoseconds.
slurm_now() {
    date +%s.%N
}

# Prints B - A in seconds with two decimals.
slurm_diff() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# The backend suites' setting: SHARED, the [Slurm] SharedDirectory= they point analysis-sandbox at
# ($SLURM_SHARE/NAME, mode 1777 as a site makes it: every user makes SHARED/UID of their own in it), alice's
# USER_DIR in it, and CONF, the drop-in write_conf writes. slurm_backend_share makes SHARED.
slurm_backend_setting() {
    SHARED=$SLURM_SHARE/$1
    CONF_DIR=/etc/analysis-sandbox/analysis-sandbox.conf.d
    CONF=$CONF_DIR/50-slurm.conf
    ALICE_UID=2001      # alice's on both nodes
    USER_DIR=$SHARED/$ALICE_UID
}

slurm_backend_share() {
    mkdir -p "$SHARED"
    chmod 1777 "$SHARED"
}

# Writes the lines given as analysis-sandbox.conf's drop-in CONF.
write_conf() {
    mkdir -p "$CONF_DIR"
    printf '%s\n' "$@" >"$CONF"
}
