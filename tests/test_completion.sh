#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests the bash completions of analysis-run and analysisctl with bash-completion's own helpers.
# Needs ANALYSISCTL, VENDOR_PROFILES_DIR and COMPLETION_DIR from meson.

oneTimeSetUp() {
        # shellcheck disable=SC1091 # Debian's bash-completion
        . /usr/share/bash-completion/bash_completion
        # shellcheck disable=SC1091
        . "$COMPLETION_DIR/analysisctl"
        # shellcheck disable=SC1091
        . "$COMPLETION_DIR/analysis-run"
        mkdir -p "$SHUNIT_TMPDIR/bin" "$SHUNIT_TMPDIR/state/analysis-sandbox/results"
        ln -s "$ANALYSISCTL" "$SHUNIT_TMPDIR/bin/analysisctl"
        PATH=$SHUNIT_TMPDIR/bin:$PATH
        export XDG_STATE_HOME=$SHUNIT_TMPDIR/state XDG_RUNTIME_DIR=$SHUNIT_TMPDIR
        export ANALYSIS_SANDBOX_PROFILE_PATH=$VENDOR_PROFILES_DIR
        touch "$XDG_STATE_HOME/analysis-sandbox/results/"{fit1,fit2,other}.json
}

# Completes the words given (the last one is being typed); leaves the candidates, sorted, in $got.
complete_words() {
        local fn=$1
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        "$fn"
        got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
}

test_analysisctl_verbs_and_options() {
        complete_words _analysisctl analysisctl st
        assertEquals "verbs" "status stop " "$got"
        complete_words _analysisctl analysisctl --us
        assertEquals "options" "--user " "$got"
        complete_words _analysisctl analysisctl gc --older
        assertEquals "options after a verb" "--older-than " "$got"
}

test_analysisctl_efficiency_verbs() {
        complete_words _analysisctl analysisctl re
        assertEquals "report" "report " "$got"
        complete_words _analysisctl analysisctl --user suggest ""
        assertEquals "suggest takes a profile" "default notebook_execution post_process tool " "$got"
        complete_words _analysisctl analysisctl report --profile n
        assertEquals "--profile takes a profile" "notebook_execution " "$got"
        complete_words _analysisctl analysisctl report --si
        assertEquals "report's options" "--since " "$got"
        complete_words _analysisctl analysisctl report --pl
        assertEquals "report --plot" "--plot " "$got"
        mkdir -p "$SHUNIT_TMPDIR/pictures"
        touch "$SHUNIT_TMPDIR/pictures/report.svg"
        complete_words _analysisctl analysisctl report --plot "$SHUNIT_TMPDIR/pictures/rep"
        assertEquals "--plot takes a file" "$SHUNIT_TMPDIR/pictures/report.svg " "$got"
}

test_analysisctl_recorded_ids() {
        complete_words _analysisctl analysisctl --user notes "fi"
        assertEquals "recorded ids for notes" "fit1 fit2 " "$got"
}

test_analysis_run_profiles_and_command() {
        complete_words _analysis_run analysis-run -p ""
        assertEquals "profile names from the search path" "default notebook_execution post_process tool " "$got"
        complete_words _analysis_run analysis-run --memory=1G --ti
        assertEquals "options" "--timeout " "$got"
        complete_words _analysis_run analysis-run -p tool -- analysisct
        assertEquals "the command after --" "analysisctl " "$got"
        complete_words _analysis_run analysis-run -p tool analysisctl st
        assertEquals "the command's own completion" "status stop " "$got"
}

. shunit2
