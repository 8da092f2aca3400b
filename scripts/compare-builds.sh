#!/usr/bin/env bash
# Output identity of two builds: NEW vs BASE binary over `check ../shared/corpus fixtures` in every
# format, --fail-on never/warning, --select, --preset, --statistics, --show-files, --baseline and
# --write-baseline (stdout, stderr and exit code). JSON, SARIF and GitLab compare as parsed values.
#   scripts/compare-builds.sh NEW_BINARY BASE_BINARY     (run from the repository root)
new=${1:?NEW binary}; base=${2:?BASE binary}
out=/tmp/cmp.$$; mkdir -p $out
fail=0
run() { # name args...
  local name=$1; shift
  "$base" "$@" > $out/$name.base 2> $out/$name.base.err; echo $? >> $out/$name.base.err
  "$new" "$@" > $out/$name.new 2> $out/$name.new.err; echo $? >> $out/$name.new.err
  case "$name" in
    json*|sarif*|gitlab*) python3 - "$out/$name.base" "$out/$name.new" <<'PY' || { echo "DIFF $name (json)"; fail=1; }
import json,sys
a=open(sys.argv[1]).read(); b=open(sys.argv[2]).read()
if (a.strip()=='' ) != (b.strip()==''): sys.exit(1)
if a.strip()=='' : sys.exit(0)
sys.exit(0 if json.loads(a)==json.loads(b) else 1)
PY
    ;;
    *) cmp -s $out/$name.base $out/$name.new || { echo "DIFF $name"; fail=1; } ;;
  esac
  cmp -s $out/$name.base.err $out/$name.new.err || { echo "DIFF stderr/exit $name"; fail=1; }
}
for f in full json sarif concise junit checkstyle github gitlab; do
  run $f check ../shared/corpus fixtures --format $f --fail-on never
  run $f-warn check ../shared/corpus fixtures --format $f --fail-on warning
done
run concise-select check ../shared/corpus fixtures --format concise --select SLD001,SLC001
run concise-sandbox check ../shared/corpus fixtures --format concise --preset sandbox
run full-stats check ../shared/corpus fixtures --statistics --fail-on never
run concise-show check ../shared/corpus fixtures --format concise --show-files --fail-on never
"$base" check ../shared/corpus --write-baseline $out/bl.json >/dev/null 2>&1
run concise-baseline check ../shared/corpus fixtures --format concise --baseline $out/bl.json
run json-baseline check ../shared/corpus fixtures --format json --baseline $out/bl.json
"$new" check ../shared/corpus --write-baseline $out/bl2.json >/dev/null 2>&1
cmp -s $out/bl.json $out/bl2.json || { echo "DIFF write-baseline"; fail=1; }
echo "outputs in $out; fail=$fail"; exit $fail
