#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): who may run analyses through the system manager, and what neither a caller nor an
# analysis can reach: other units, higher limits, other accounts, records, other callers' requests, the
# cgroups above it.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESULTS_DIR=/var/lib/analysis-sandbox/results
SPOOL_DIR=/run/analysis-sandbox/spool
WORK=$E2E_SCRATCH/security-work
CANARY=e2e-sec-canary.service

oneTimeSetUp() {
        local u
        mkdir -p "$WORK"
        chmod 0777 "$WORK"
        for u in member1 member2 outsider; do
                id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
        done
        usermod -aG analysis member1
        usermod -aG analysis member2
        systemd-run --quiet --unit="$CANARY" /bin/sleep 3600
}

oneTimeTearDown() {
        systemctl stop "$CANARY" 2>/dev/null
}

# Runs a command as USER with a login-like environment; leaves $rc, $stdout, $stderr.
as_user() {
        local user=$1
        shift
        runuser -u "$user" -- env -C "$WORK" "$@" >"$SHUNIT_TMPDIR/out" 2>"$SHUNIT_TMPDIR/err"
        rc=$?
        stdout=$(cat "$SHUNIT_TMPDIR/out")
        stderr=$(cat "$SHUNIT_TMPDIR/err")
}

field() {
        e2e_record_field "$@"
}

testMemberRunsUnderEveryProfile() {
        local profile n=0
        for profile in default notebook_execution post_process tool; do
                n=$((n + 1))
                as_user member1 analysis-run -q -p "$profile" --id="sec-prof$n" -- /bin/sh -c 'echo "$USER $(id -u)"'
                assertEquals "profile $profile: exit status (stderr: $stderr)" 0 "$rc"
                # The vendor profiles have no User=: an account of the analysis' own, named after its id.
                assertEquals "profile $profile: runs as an account of its own" "as-sec-prof$n" "${stdout% *}"
                assertNotEquals "profile $profile: not the caller" "$(id -u member1)" "${stdout##* }"
                assertEquals "profile $profile: the record names the caller" "$(id -u member1)" "$(field "sec-prof$n" caller_uid)"
        done
}

testNonMemberRefused() {
        as_user outsider analysis-run --id=sec-out1 -- /bin/true
        assertEquals "exit status" 77 "$rc"
        assertContains "message" "$stderr" "only for root and members of the group 'analysis'"
        assertFalse "nothing ran" "[ -e $RESULTS_DIR/sec-out1.json ]"
        # Even by hand, with systemctl: polkit refuses.
        as_user outsider systemctl start analysis@sec-out2.service
        assertNotEquals "systemctl start by a non-member" 0 "$rc"
        assertContains "polkit refuses" "$stderr" "Interactive authentication required"
}

testMemberCannotTouchOtherUnits() {
        as_user member1 systemctl stop "$CANARY"
        assertNotEquals "stop the canary" 0 "$rc"
        assertEquals "the canary still runs" active "$(e2e_prop "$CANARY" ActiveState)"
        as_user member1 systemctl start systemd-tmpfiles-clean.service
        assertNotEquals "start another unit" 0 "$rc"
        as_user member1 systemctl set-property analysis@sec-x.service MemoryMax=8G
        assertNotEquals "set-property on an analysis" 0 "$rc"
        as_user member1 systemd-run --quiet /bin/true
        assertNotEquals "a transient unit" 0 "$rc"
        as_user member1 systemctl kill "$CANARY"
        assertNotEquals "kill the canary" 0 "$rc"
}

testMemberCannotRaiseLimits() {
        as_user member1 analysis-run --id=sec-raise -p tool --memory=1G -- /bin/true
        assertEquals "--memory above the profile's" 65 "$rc"
        # Even a hand-made request asking for more only gets the profile's: the unit's cgroup is root's.
        as_user member1 sh -c "mkdir -m 0700 $SPOOL_DIR/sec-forged && printf 'analysis-sandbox-request-1\0cwd=/\0arg=/bin/cat\0arg=/sys/fs/cgroup/analysis.slice/analysis-tool.slice/analysis-tool@sec-forged.service/memory.max\0memory_max=99999999999\0' > $SPOOL_DIR/sec-forged/request && systemctl start analysis-tool@sec-forged.service"
        assertEquals "start with a forged request (stderr: $stderr)" 0 "$rc"
        e2e_units+=(analysis-tool@sec-forged.service)
        e2e_wait_inactive analysis-tool@sec-forged.service 30
        assertEquals "the unit kept the profile's 512M" 536870912 "$(cat $RESULTS_DIR/sec-forged.stdout)"
        assertEquals "the record reports the profile's limit" 536870912 "$(field sec-forged limits.memory_max)"
}

testMemberCannotRunAsAnotherAccount() {
        as_user member1 analysis-run --id=sec-who -- /usr/bin/id -u
        assertEquals "exit status" 0 "$rc"
        assertNotEquals "not the caller's account" "$(id -u member1)" "$stdout"
        assertNotEquals "not root" 0 "$stdout"
        # systemd's range for DynamicUser= accounts (61184-65519): made for this analysis alone.
        assertTrue "an account of its own ($stdout)" "[[ $stdout -ge 61184 && $stdout -le 65519 ]]"
}

testMemberCannotForgeRecords() {
        as_user member1 analysis-run -q --id=sec-rec1 -- /bin/true
        assertEquals "exit status" 0 "$rc"
        as_user member1 sh -c "echo '{}' > $RESULTS_DIR/sec-rec1.json"
        assertNotEquals "overwrite its own record" 0 "$rc"
        as_user member2 sh -c "echo '{}' > $RESULTS_DIR/sec-rec1.json"
        assertNotEquals "overwrite another's record" 0 "$rc"
        as_user member1 sh -c "echo '{}' > $RESULTS_DIR/sec-new.json"
        assertNotEquals "plant a record" 0 "$rc"
        assertEquals "the record is intact" success "$(field sec-rec1 result)"
}

testMemberCannotReadAnothersSpool() {
        as_user member1 analysis-run --detach --id=sec-spool1 -E SECRET=hunter2 -- /bin/sleep 5
        assertEquals "start" 0 "$rc"
        e2e_units+=(analysis@sec-spool1.service)
        as_user member2 ls "$SPOOL_DIR"
        assertNotEquals "list the spool" 0 "$rc"
        as_user member2 cat "$SPOOL_DIR/sec-spool1/request"
        assertNotEquals "read another's spooled request" 0 "$rc"
        as_user member2 cat /run/analysis-sandbox/units/sec-spool1/request
        assertNotEquals "read the unit's copy of it" 0 "$rc"
        as_user member2 rmdir "$SPOOL_DIR/sec-spool1"
        assertNotEquals "remove another's spool entry" 0 "$rc"
}

# A request swapped for a symlink or a file of someone else between analysis-run and the unit's start.
testTamperedSpoolRefused() {
        mkdir -m 0700 "$SPOOL_DIR/sec-tamper1"
        chown member1 "$SPOOL_DIR/sec-tamper1"
        ln -s /etc/shadow "$SPOOL_DIR/sec-tamper1/request"
        e2e_units+=(analysis@sec-tamper1.service)
        systemctl start analysis@sec-tamper1.service
        e2e_wait_inactive analysis@sec-tamper1.service 30
        assertContains "symlink: the record says why" "$(field sec-tamper1 error)" "it is a symlink"
        assertFalse "symlink: no shadow in the output" "grep -q root: $RESULTS_DIR/sec-tamper1.stdout"

        mkdir -m 0700 "$SPOOL_DIR/sec-tamper2"
        chown member1 "$SPOOL_DIR/sec-tamper2"
        printf 'analysis-sandbox-request-1\0cwd=/\0arg=/usr/bin/id\0' >"$SPOOL_DIR/sec-tamper2/request"
        chown member2 "$SPOOL_DIR/sec-tamper2/request"
        e2e_units+=(analysis@sec-tamper2.service)
        systemctl start analysis@sec-tamper2.service
        e2e_wait_inactive analysis@sec-tamper2.service 30
        assertContains "a file of another user: the record says why" "$(field sec-tamper2 error)" "is owned by UID"
        assertEquals "nothing ran" "" "$(cat $RESULTS_DIR/sec-tamper2.stdout)"
}

testAnalysisCannotWriteRecordOrEscapeCgroup() {
        as_user member1 analysis-run --id=sec-esc -- /bin/sh -c \
                "echo forged > $RESULTS_DIR/sec-esc.json && echo RECORD-WRITTEN
                 echo \$\$ > /sys/fs/cgroup/cgroup.procs && echo ESCAPED-ROOT
                 echo \$\$ > /sys/fs/cgroup/system.slice/cgroup.procs && echo ESCAPED-SYSTEM
                 echo \$\$ > /sys/fs/cgroup/analysis.slice/cgroup.procs && echo ESCAPED-SLICE
                 exit 0"
        assertNotContains "the analysis wrote its record" "$stdout" RECORD-WRITTEN
        assertNotContains "the analysis left its cgroup" "$stdout" ESCAPED
        assertEquals "its real record" success "$(field sec-esc result)"
}

# The runner starts as root to check the request and mount the output directory, then becomes the analysis'
# account: nothing of root may be left by the time the command runs, under an account of its own and a
# profile's shared one alike.
testAnalysisHoldsNoPrivilege() {
        local profile status
        e2e_write_profile e2esecshared "$(printf '[Profile]\nDescription=shared account\nUser=analysis-sandbox\n[Limits]\nMemory=64M\nCPU=100%%\nTasks=20\nRuntime=1min\n')"
        for profile in default e2esecshared; do
                as_user member1 analysis-run -q -p "$profile" --id="sec-priv-$profile" -- /bin/sh -c \
                        'cat /proc/self/status; mount -t tmpfs none /mnt 2>/dev/null && echo MOUNTED; exit 0'
                assertEquals "$profile: exit status (stderr: $stderr)" 0 "$rc"
                status=$stdout
                # Real, effective, saved and file system uid: the account's, all four.
                assertEquals "$profile: uids" "one, not root" "$(echo "$status" |
                        awk '$1 == "Uid:" { print ($2 != 0 && $2 == $3 && $3 == $4 && $4 == $5) ? "one, not root" : $0 }')"
                assertEquals "$profile: no root group" "" \
                        "$(echo "$status" | awk '$1 == "Gid:" || $1 == "Groups:" { $1 = ""; print }' | grep -wE '0')"
                assertEquals "$profile: no permitted capability" 0000000000000000 "$(echo "$status" | awk '$1 == "CapPrm:" { print $2 }')"
                assertEquals "$profile: no effective capability" 0000000000000000 "$(echo "$status" | awk '$1 == "CapEff:" { print $2 }')"
                assertEquals "$profile: no ambient capability" 0000000000000000 "$(echo "$status" | awk '$1 == "CapAmb:" { print $2 }')"
                assertEquals "$profile: no new privileges" 1 "$(echo "$status" | awk '$1 == "NoNewPrivs:" { print $2 }')"
                assertNotContains "$profile: cannot mount" "$status" MOUNTED
        done
        assertEquals "shared account: runs as analysis-sandbox" "$(id -u analysis-sandbox)" \
                "$(grep -h '^Uid:' "$RESULTS_DIR/sec-priv-e2esecshared.stdout" | awk '{ print $2 }')"
}

testUserModeWithoutGroup() {
        local uid
        uid=$(e2e_start_user_manager outsider)
        as_user outsider env XDG_RUNTIME_DIR=/run/user/$uid analysis-run --user -q --id=sec-user1 -- /usr/bin/id -un
        assertEquals "exit status (stderr: $stderr)" 0 "$rc"
        assertEquals "runs as the user" outsider "$stdout"
        loginctl disable-linger outsider
}

. shunit2
