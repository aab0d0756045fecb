# Sourced by the scripts that build libvirt with a patch series and test
# it step by step (scripts/libvirt-build, scripts/libvirt-upstream-build).
# The caller sets $build (the meson build directory), $jobs, $workdir (for
# the logs) and $test (0: build only).

# build_and_test LABEL: build, count compiler warnings (any is a failure),
# run the full suite; sets $result (a sentence) and $row (build, warnings,
# ok/fail/skip, syntax-check for a table).  Fails when anything failed;
# syntax-check is one meson test per rule, and every rule must pass.
build_and_test() {
    local label=$1 tlog=$workdir/test-$1.log nlog=$workdir/ninja-$1.log ok fail skip warnings sc
    result=
    row=
    if ! ninja -C "$build" -j "$jobs" >"$nlog" 2>&1; then
        tail -30 "$nlog"
        result="build FAILED"
        row="FAILED  -"
        return 1
    fi
    # what ninja compiled this time; the series must not add a warning
    warnings=$(grep -cE '^[^ ]+:[0-9]+(:[0-9]+)?: warning: ' "$nlog" || true)
    if [ "$warnings" != 0 ]; then
        grep -E '^[^ ]+:[0-9]+(:[0-9]+)?: warning: ' "$nlog" | head -30
        result="build FAILED ($warnings compiler warnings)"
        row="FAILED  $warnings"
        return 1
    fi
    if [ $test = 0 ]; then
        result="build ok (not tested)"
        row="ok      0         -"
        return 0
    fi
    meson test -C "$build" --no-rebuild --num-processes "$jobs" --print-errorlogs >"$tlog" 2>&1 || true
    ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$tlog")
    fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$tlog")
    skip=$(sed -n 's/^Skipped: *\([0-9]*\).*/\1/p' "$tlog")
    # syntax-check is one meson test per rule (138 in 11.3.0)
    sc_all=$(grep -cE '^ *[0-9]+/[0-9]+ +libvirt:syntax-check / ' "$tlog" || true)
    sc_ok=$(grep -cE '^ *[0-9]+/[0-9]+ +libvirt:syntax-check / .* OK ' "$tlog" || true)
    if [ "$sc_all" = 0 ]; then
        sc="not run"
    elif [ "$sc_ok" = "$sc_all" ]; then
        sc="passed ($sc_all)"
    else
        sc="FAILED ($((sc_all - sc_ok)) of $sc_all)"
    fi
    result="build ok, 0 warnings, tests: ${ok:-?} ok, ${fail:-?} failed, ${skip:-?} skipped, syntax-check $sc"
    row=$(printf '%-7s %-9s %-14s %s' ok 0 "${ok:-?}/${fail:-?}/${skip:-?}" "$sc")
    if [ "${fail:-1}" != 0 ] || [ -z "$ok" ] || [ "${sc%% *}" != passed ]; then
        grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|TIMEOUT)' "$tlog" || tail -20 "$tlog"
        return 1
    fi
}
