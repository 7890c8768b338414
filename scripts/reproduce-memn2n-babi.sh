#!/usr/bin/env bash
# MemN2N on the generated bAbI tasks (1k), every generated task type x seeds, as in docs/reproduction.md:
#   scripts/reproduce-memn2n-babi.sh [runs-dir] [seeds]      (defaults: runs/memn2n-babi, "0 1 2 3 4")
# Each run: `engram train memn2n --task babi --config docs/reproduction/memn2n-babi.yaml --set task.taskId=N --seed S`,
# then `engram eval` on the validation and test splits (all 100 / 1000 questions). Prints one line per run:
#   task seed validation-error test-error
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/memn2n-babi}
seeds=${2:-0 1 2 3 4}
tasks=$(node -e 'import("./dist/tasks/babi/generator.js").then((m) => console.log(m.BABI_TASK_IDS.join(" ")))')
error() { node bin/engram.js eval "$1" --split "$2" --batches 40 | awk '$1 == "error" { print $2 }'; }
for t in $tasks; do
  for s in $seeds; do
    run="$out/task$t-seed$s"
    node bin/engram.js train memn2n --task babi --config docs/reproduction/memn2n-babi.yaml --set "task.taskId=$t" --seed "$s" --out "$run" 2>/dev/null >/dev/null
    echo "$t $s $(error "$run" validation) $(error "$run" test)"
  done
done
