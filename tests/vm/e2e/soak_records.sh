#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Soak (in the VM, only when named: tests/vm/run-vm-tests BUILDDIR soak_records): issue 18's measurement of
# "no record lost". SOAK_N analyses of five kinds (success, exit 3, OOM kill, time limit, a large output
# directory), SOAK_PAR at a time, KillGrace=2s, beside three CPU hogs in analysis.slice; a quarter of the
# analysis-run processes are SIGKILLed at random and systemctl daemon-reload runs every 5 s. Every analysis
# whose unit started must end with exactly one record of that run (its invocation id), from its recorder or
# from analysis-recover; the notes count both, the stop-post timeouts and the running marks left. Under
# emulation on a 2-core host, 45 analyses take about 6 minutes (E2E_SUITE_TIMEOUT is 600 s).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RESULTS_DIR=/var/lib/analysis-sandbox/results
WORK=$E2E_SCRATCH/soak
N=${SOAK_N:-45}
PAR=${SOAK_PAR:-10}

testSoak() {
        mkdir -p "$WORK"; chmod 0777 "$WORK"
        e2e_write_profile e2esoak "[Profile]
Description=Soak
User=analysis-sandbox
[Limits]
Memory=64M
CPU=50%
Tasks=32
Runtime=20s
KillGrace=2s"
        e2e_write_profile e2ehog "[Profile]
Description=Hog
User=analysis-sandbox
[Limits]
Memory=64M
CPU=100%
Tasks=8
Runtime=30min"
        local h
        for h in 1 2 3; do
                analysis-run -q --detach -p e2ehog --id=hog$h -- /usr/bin/python3 -c 'while True: pass' >/dev/null
        done
        ( while :; do sleep 5; systemctl daemon-reload; done ) &
        local reloader=$!
        local i kind pids=() killed=0
        for i in $(seq $N); do
                kind=$((i % 5))
                case $kind in
                0) cmd=(/bin/sh -c 'echo ok') ;;
                1) cmd=(/bin/sh -c 'exit 3') ;;
                2) cmd=(/usr/bin/python3 -c 'x = bytearray(200 << 20)') ;;
                3) cmd=(/bin/sleep 60) ;;
                4) cmd=(/usr/bin/python3 -c 'import os
d = os.environ["ANALYSIS_OUTPUT_DIR"]
for i in range(1500):
    open(f"{d}/f{i}", "w").write("x" * 100)') ;;
                esac
                (cd "$WORK" && exec analysis-run -q -p e2esoak --id=soak$i -- "${cmd[@]}") >/dev/null 2>&1 &
                pids+=($!)
                if ((RANDOM % 4 == 0)); then
                        ( sleep $((RANDOM % 4)); kill -KILL $! 2>/dev/null ) &
                        killed=$((killed + 1))
                fi
                while (($(jobs -rp | wc -l) >= PAR + 2)); do sleep 0.3; done
        done
        wait "${pids[@]}" 2>/dev/null
        kill $reloader
        for h in 1 2 3; do analysisctl stop hog$h >/dev/null 2>&1; done
        # every analysis that started: one record of its run
        local started=0 recorded=0 recon=0 lost=() inv rinv u
        sleep 20
        for i in $(seq $N); do
                u=analysis-e2esoak@soak$i.service
                for _ in $(seq 60); do
                        [[ $(e2e_prop $u ActiveState) =~ ^(inactive|failed)$ ]] && [[ -z $(e2e_prop $u Job) ]] && break
                        sleep 1
                done
                inv=$(e2e_prop $u InvocationID)
                [[ -n $inv ]] || continue
                started=$((started + 1))
                for _ in $(seq 30); do
                        rinv=$(e2e_record_field soak$i invocation_id)
                        [[ $rinv == "$inv" ]] && break
                        sleep 1
                done
                if [[ $rinv == "$inv" ]]; then
                        recorded=$((recorded + 1))
                        [[ $(e2e_record_field soak$i reconstructed) == null ]] || recon=$((recon + 1))
                else
                        lost+=(soak$i)
                fi
        done
        e2e_note "started=$started recorded=$recorded reconstructed=$recon killed_callers~$killed lost=${lost[*]}"
        e2e_note "stop-post timeouts: $(journalctl -q -o cat | grep -c "State 'stop-post' timed out")"
        e2e_note "marks left: $(ls /var/lib/analysis-sandbox/running | wc -l)"
        assertEquals "records lost" 0 "${#lost[@]}"
}
. shunit2
