#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# End-to-end (in the VM): what an analysis writes reaches its caller and nobody else; each analysis has an
# account of its own; its output directory and /tmp are bounded and never the host's disk; tightened PID
# limits are reported.
#
# No "set -e": shunit2 runs the tests and must see failing commands itself.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESULTS=/var/lib/analysis-sandbox/results
WORK=/srv/e2e-results

oneTimeSetUp() {
        local u
        for u in resalice resbob; do
                id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
                usermod -aG analysis "$u"
        done
        mkdir -p "$WORK"
        chmod 0755 "$WORK"
}

# Runs analysis-run as USER in directory DIR with the rest as its arguments; stdout, stderr and the status in
# $SHUNIT_TMPDIR/out, err and $rc.
run_as() {
        local user=$1 dir=$2
        shift 2
        runuser -u "$user" -- env -C "$dir" analysis-run "$@" >"$SHUNIT_TMPDIR/out" 2>"$SHUNIT_TMPDIR/err"
        rc=$?
}

# Prints the free 1K blocks of the root filesystem.
root_free_kib() {
        df --output=avail / | tail -n1 | tr -d ' '
}

testOutputDirectoryReachesCallerOnly() {
        run_as resalice / --id=res-out -- /bin/sh -c 'echo "a,b" >"$ANALYSIS_OUTPUT_DIR/table.csv"; mkdir "$ANALYSIS_OUTPUT_DIR/fig"; echo png >"$ANALYSIS_OUTPUT_DIR/fig/plot.png"; echo secret'
        assertEquals "status (stderr: $(cat "$SHUNIT_TMPDIR/err"))" 0 "$rc"
        assertContains "analysis-run says where the output is" "$(cat "$SHUNIT_TMPDIR/err")" "Output: $RESULTS/res-out.output"
        assertEquals "record: output_dir" "$RESULTS/res-out.output" "$(e2e_record_field res-out output_dir)"
        assertEquals "the caller reads the table" "a,b" "$(runuser -u resalice -- cat "$RESULTS/res-out.output/table.csv")"
        assertEquals "and the figure in a subdirectory" png "$(runuser -u resalice -- cat "$RESULTS/res-out.output/fig/plot.png")"
        assertEquals "the output directory is the caller's" "resalice 700" "$(stat -c '%U %a' "$RESULTS/res-out.output")"
        assertEquals "so are its files" resalice "$(stat -c %U "$RESULTS/res-out.output/table.csv")"
        assertEquals "the caller reads the record" res-out \
                "$(runuser -u resalice -- python3 -c "import json; print(json.load(open('$RESULTS/res-out.json'))['id'])")"
        assertEquals "and the output file" secret "$(runuser -u resalice -- cat "$RESULTS/res-out.stdout")"

        # Another member of the group, who runs analyses himself, reads none of it.
        assertFalse "another caller cannot read the record" "runuser -u resbob -- cat $RESULTS/res-out.json"
        assertFalse "nor the output file" "runuser -u resbob -- cat $RESULTS/res-out.stdout"
        assertFalse "nor the table" "runuser -u resbob -- cat $RESULTS/res-out.output/table.csv"
        assertFalse "nor list the output directory" "runuser -u resbob -- ls $RESULTS/res-out.output"
        assertEquals "the record is root's and the admins'" "root adm 640" "$(stat -c '%U %G %a' "$RESULTS/res-out.json")"
}

testStartedByHandBelongsToRootAndAdmins() {
        e2e_write_profile reshand "[Profile]
Description=Started by hand
Exec=/bin/sh -c 'echo by-hand >\"\$ANALYSIS_OUTPUT_DIR/hand.txt\"'
[Limits]
Memory=256M
CPU=100%
Tasks=20
Runtime=1min"
        e2e_units+=(analysis-reshand@res-hand.service)
        systemctl start --wait analysis-reshand@res-hand.service
        assertEquals "record" "root adm 640" "$(stat -c '%U %G %a' "$RESULTS/res-hand.json")"
        assertEquals "output directory" "root adm 750" "$(stat -c '%U %G %a' "$RESULTS/res-hand.output")"
        assertEquals "its file" by-hand "$(cat "$RESULTS/res-hand.output/hand.txt")"
        assertEquals "record: caller_uid" null "$(e2e_record_field res-hand caller_uid)"
        assertFalse "a member of the group cannot read it" "runuser -u resalice -- cat $RESULTS/res-hand.json"
}

# Two analyses at once under the default profile (no User=) run as different accounts, and neither can
# read what the other writes.
testConcurrentAnalysesHaveTheirOwnAccounts() {
        local uid_a uid_b
        runuser -u resalice -- env -C / analysis-run -q --id=res-acc-a -- /bin/sh -c \
                'id -u >"$ANALYSIS_OUTPUT_DIR/uid"; echo private >"$ANALYSIS_OUTPUT_DIR/mine"; chmod 644 "$ANALYSIS_OUTPUT_DIR/mine"; echo secret >/tmp/secret; chmod 644 /tmp/secret; sleep 8' &
        local pid=$!
        sleep 4
        run_as resbob / --id=res-acc-b -- /bin/sh -c \
                'id -u; cat /run/analysis-sandbox/output/res-acc-a/mine; echo "cat: $?"; ls /run/analysis-sandbox/output/; echo "ls: $?"; cat /run/analysis-sandbox/tmp/res-acc-a/tmp/secret; echo "tmp: $?"; ls /run/analysis-sandbox/tmp/; echo "ls tmp: $?"; cat /run/analysis-sandbox/mounts/res-acc-a/mine; echo "mounts: $?"'
        wait "$pid"
        uid_a=$(cat "$RESULTS/res-acc-a.output/uid")
        uid_b=$(head -n1 "$RESULTS/res-acc-b.stdout")
        assertNotEquals "two accounts" "$uid_a" "$uid_b"
        assertTrue "neither is the analysis-sandbox account" "[[ $uid_a != $(id -u analysis-sandbox) ]]"
        assertContains "b cannot read a's output" "$(cat "$RESULTS/res-acc-b.stdout")" "cat: 1"
        assertContains "nor list the output directories" "$(cat "$RESULTS/res-acc-b.stdout")" "ls: 2"
        # Every analysis' /tmp is a directory on one shared tmpfs: root's, and out of the others' reach.
        assertContains "b cannot read a's /tmp" "$(cat "$RESULTS/res-acc-b.stdout")" "tmp: 1"
        assertContains "nor list the /tmp directories" "$(cat "$RESULTS/res-acc-b.stdout")" "ls tmp: 2"
        assertContains "nor reach a's output where it is mounted" "$(cat "$RESULTS/res-acc-b.stdout")" "mounts: 1"
        assertEquals "a's file reached a's caller" private "$(cat "$RESULTS/res-acc-a.output/mine")"
}

testIdThatCannotNameAnAccountIsRefused() {
        run_as resalice / --id=res.dotted -- /bin/true
        assertEquals "status" 64 "$rc"
        assertContains "message" "$(cat "$SHUNIT_TMPDIR/err")" "use 1 to 28 characters"
        assertFalse "no unit ran" "[[ -e $RESULTS/res.dotted.json ]]"
}

# The output directory is bounded by Disk= (tightened with --disk), on a tmpfs: the host's disk does not move.
testDiskLimitStopsWritesAndIsReported() {
        local before after
        before=$(root_free_kib)
        run_as resalice / --id=res-disk --disk=20M -- /bin/sh -c \
                'dd if=/dev/zero of="$ANALYSIS_OUTPUT_DIR/big" bs=1M count=100 status=none; echo "dd: $?"; sync'
        after=$(root_free_kib)
        assertEquals "status: the script went on after dd failed" 0 "$rc"
        assertContains "dd failed" "$(cat "$SHUNIT_TMPDIR/out")" "dd: 1"
        assertEquals "record: disk_full" True "$(e2e_record_field res-disk usage.disk_full)"
        assertEquals "record: disk_max" $((20 << 20)) "$(e2e_record_field res-disk limits.disk_max)"
        assertEquals "record: the profile's disk_max" $((1 << 30)) "$(e2e_record_field res-disk profile_limits.disk_max)"
        assertContains "notes" "$(e2e_record_field res-disk notes)" "Its output directory was full (20.0 MiB of its Disk= limit of 20.0 MiB)"
        # The 20 MiB handed over, and nothing more, reached the disk.
        assertTrue "free space fell by at most 24 MiB ($before -> $after KiB)" "[[ $((before - after)) -lt 24576 ]]"
        e2e_note "root filesystem free: $before -> $after KiB"
}

testDiskAboveProfileIsRefused() {
        run_as resalice / --id=res-disk-big --disk=2G -- /bin/true
        assertEquals "status" 65 "$rc"
        assertContains "message" "$(cat "$SHUNIT_TMPDIR/err")" "--disk=2.0 GiB refused: above the 1.0 GiB Disk= limit of profile 'default'"
}

# /tmp is a tmpfs of the analysis' own: what it writes there is its memory, so the memory limit stops it, and
# the host's disk never sees it.
testTmpIsMemoryChargedToTheAnalysis() {
        local before after
        before=$(root_free_kib)
        run_as resalice / --id=res-tmp --memory=64M -- /bin/sh -c \
                'dd if=/dev/zero of=/tmp/big bs=1M count=300 status=none; echo "dd: $?"; dd if=/dev/zero of=/var/tmp/big bs=1M count=300 status=none'
        after=$(root_free_kib)
        assertEquals "status: the memory limit" 125 "$rc"
        assertEquals "record: result" oom-kill "$(e2e_record_field res-tmp result)"
        assertTrue "free space fell by less than 8 MiB ($before -> $after KiB)" "[[ $((before - after)) -lt 8192 ]]"
        assertNull "nothing left mounted" "$(findmnt -rn -o TARGET | grep res-tmp)"
        assertFalse "its /tmp and /var/tmp are gone" "[[ -e /run/analysis-sandbox/tmp/res-tmp ]]"
}

# A limit tighter than the profile's sits on the payload leaf, whose pids.events is not counted in the unit's.
testTightenedPidLimitIsReported() {
        run_as resalice / --id=res-pids --tasks=8 -- /bin/sh -c 'for i in $(seq 16); do sleep 3 & done; wait'
        assertNotEquals "the fork bomb failed" 0 "$rc"
        assertTrue "record: tasks_limit_hits > 0 ($(e2e_record_field res-pids usage.tasks_limit_hits))" \
                "[[ $(e2e_record_field res-pids usage.tasks_limit_hits) -gt 0 ]]"
        assertEquals "record: tasks_max" 8 "$(e2e_record_field res-pids limits.tasks_max)"
        assertContains "notes" "$(e2e_record_field res-pids notes)" "It hit the limit of 8 tasks"
}

testThreadCountsFollowTheQuota() {
        e2e_write_profile resthreads "[Profile]
Description=Two CPUs
[Limits]
Memory=256M
CPU=200%
Tasks=50
Runtime=1min"
        run_as resalice / -p resthreads --id=res-threads0 -- /bin/sh -c 'echo "$OMP_NUM_THREADS $OPENBLAS_NUM_THREADS"'
        assertEquals "from the profile's CPU=200% (stderr: $(cat "$SHUNIT_TMPDIR/err"))" "2 2" "$(cat "$SHUNIT_TMPDIR/out")"
        run_as resalice / -p resthreads --id=res-threads --cpu=150% -- /bin/sh -c 'echo "$OMP_NUM_THREADS $OPENBLAS_NUM_THREADS $MKL_NUM_THREADS $NUMEXPR_NUM_THREADS"'
        assertEquals "from --cpu=150%, rounded up (stderr: $(cat "$SHUNIT_TMPDIR/err"))" "2 2 2 2" "$(cat "$SHUNIT_TMPDIR/out")"
        run_as resalice / -p resthreads --id=res-threads1 --cpu=50% -- /bin/sh -c 'echo "$OMP_NUM_THREADS"'
        assertEquals "from --cpu=50%" 1 "$(cat "$SHUNIT_TMPDIR/out")"
        run_as resalice / --id=res-threads2 -E OMP_NUM_THREADS=7 -- /bin/sh -c 'echo "$OMP_NUM_THREADS $OPENBLAS_NUM_THREADS"'
        assertEquals "the caller's own value wins; the profile's 100% gives 1" "7 1" "$(cat "$SHUNIT_TMPDIR/out")"
}

# --copy-workdir: the analysis works in a copy of its directory and what it created or changed comes back;
# nothing of the caller's is writable by it, and a symlink it plants leads nowhere.
testCopyWorkdirBringsResultsBack() {
        local dir=$WORK/alice-proj
        rm -rf "$dir"
        mkdir -p "$dir/data"
        echo input >"$dir/data/in.csv"
        echo keep >"$dir/untouched.txt"
        touch -d '2020-01-01' "$dir/untouched.txt"
        chown -R resalice: "$dir"
        chmod -R a+rX "$dir"
        run_as resalice "$dir" --id=res-copy --copy-workdir -- /bin/sh -c \
                'cat data/in.csv; echo "x,y" >table.csv; echo changed >data/in.csv; ln -s /etc/shadow link; echo "cwd: $(pwd)"'
        assertEquals "status (stderr: $(cat "$SHUNIT_TMPDIR/err"))" 0 "$rc"
        assertContains "it read its input" "$(cat "$SHUNIT_TMPDIR/out")" input
        assertContains "it ran in its output directory" "$(cat "$SHUNIT_TMPDIR/out")" "cwd: /run/analysis-sandbox/output/res-copy"
        assertEquals "the new table is back" "x,y" "$(cat "$dir/table.csv")"
        assertEquals "the changed input is back" changed "$(cat "$dir/data/in.csv")"
        assertEquals "owned by the caller" resalice "$(stat -c %U "$dir/table.csv")"
        assertEquals "the untouched file kept its time" 2020-01-01 "$(date -r "$dir/untouched.txt" +%F)"
        assertFalse "the symlink was not copied" "[[ -L $dir/link ]]"
}

# A private working directory (Debian 13 makes new home directories 0700): the analysis' own account cannot
# enter it, with --copy-workdir or without; nothing runs, and the notes say why and what to do.
testPrivateWorkdirSaysWhatToDo() {
        local dir=$WORK/alice-private copy id
        rm -rf "$dir"
        mkdir -p "$dir"
        chown resalice: "$dir"
        chmod 0700 "$dir"
        for copy in '' --copy-workdir; do
                id=res-private${copy:+-copy}
                run_as resalice "$dir" --id="$id" ${copy:+"$copy"} -- /bin/sh -c 'echo ran'
                assertEquals "$id: not run (stderr: $(cat "$SHUNIT_TMPDIR/err"))" 69 "$rc"
                assertEquals "$id: the command did not run" "" "$(cat "$SHUNIT_TMPDIR/out")"
                assertContains "$id: the notes say it did not run" "$(e2e_record_field "$id" notes)" "Not run: cannot"
                assertContains "$id: the notes name the directory" "$(e2e_record_field "$id" notes)" "directory $dir as user"
                assertContains "$id: and say what to do" "$(cat "$SHUNIT_TMPDIR/err")" \
                        "the analysis runs as that account, not as its caller: run it from a directory other users can enter"
        done
}

testGcRemovesTheOutputDirectory() {
        run_as resalice / --id=res-gc -- /bin/sh -c 'echo x >"$ANALYSIS_OUTPUT_DIR/x"'
        assertTrue "handed over" "[[ -d $RESULTS/res-gc.output ]]"
        # gc removes an analysis' files together, once the newest of them is old enough: its samples too.
        touch -h -d '40 days ago' "$RESULTS/res-gc.json" "$RESULTS/res-gc.stdout" "$RESULTS/res-gc.stderr" "$RESULTS/res-gc.output" \
                "$RESULTS/res-gc.samples.csv"
        analysisctl gc --older-than=30d >/dev/null
        assertFalse "record removed" "[[ -e $RESULTS/res-gc.json ]]"
        assertFalse "output directory removed" "[[ -e $RESULTS/res-gc.output ]]"
}

# Under a user's own manager the output directory is a plain directory of the user's, private.
testUserManagerOutputDirectory() {
        local uid state
        uid=$(e2e_start_user_manager resalice) || fail "no user manager for resalice"
        runuser -u resalice -- env -C / XDG_RUNTIME_DIR="/run/user/$uid" analysis-run --user --id=res-user -- \
                /bin/sh -c 'echo mine >"$ANALYSIS_OUTPUT_DIR/out.txt"' >"$SHUNIT_TMPDIR/out" 2>"$SHUNIT_TMPDIR/err"
        assertEquals "status (stderr: $(cat "$SHUNIT_TMPDIR/err"))" 0 $?
        state=/home/resalice/.local/state/analysis-sandbox/results
        assertEquals "the file" mine "$(cat "$state/res-user.output/out.txt")"
        assertEquals "the results directory is private" 700 "$(stat -c %a "$state")"
        assertEquals "the record is private" 600 "$(stat -c %a "$state/res-user.json")"
        assertEquals "record: output_dir" "$state/res-user.output" \
                "$(python3 -c "import json; print(json.load(open('$state/res-user.json'))['output_dir'])")"
        assertEquals "record: no Disk= bound without root" None \
                "$(python3 -c "import json; print(json.load(open('$state/res-user.json'))['limits']['disk_max'])")"
        loginctl disable-linger resalice
}

. shunit2
