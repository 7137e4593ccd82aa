#!/usr/bin/env bash
# Grade a roster on a Slurm cluster: a job array of N shards, the merge as a job that depends on
# the array, and the GPU-marked tests on a GPU partition. Run from the course checkout (with its
# .venv) on a login node:
#
#   ci/slurm/submit.sh roster.csv grades/ 8
#
# ROSTER.csv as for `python -m grader roster fetch`; OUT on a file system the nodes share; N shards
# (default 4). GPU_ASSIGNMENTS="a9_torch" also grades those assignments on GPU_PARTITION (default
# gpu). SBATCH_ARGS adds options to every job (an account, a QOS). Prints the job ids.
set -euo pipefail
if [ "$#" -lt 2 ]; then
  echo "usage: $0 ROSTER.csv OUT [SHARDS]" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")" && pwd)"
roster="$(realpath "$1")"
out="$(realpath -m "$2")"
shards="${3:-4}"
course="${DLGRADE_COURSE:-$(cd "$here/../.." && pwd)}"
mkdir -p "$out/logs"
read -r -a extra <<< "${SBATCH_ARGS:-}"
export DLGRADE_COURSE="$course" DLGRADE_ROSTER="$roster" DLGRADE_OUT="$out"

array=$(sbatch --parsable "${extra[@]}" --array="1-$shards" --output="$out/logs/shard-%a.log" "$here/grade-shard.sbatch")
array="${array%%;*}"
merge=$(sbatch --parsable "${extra[@]}" --dependency="afterany:$array" --output="$out/logs/merge.log" "$here/merge.sbatch")
echo "shards: job array $array (1-$shards); merge: job ${merge%%;*} -> $out/gradebook"
if [ -n "${GPU_ASSIGNMENTS:-}" ]; then
  export DLGRADE_GPU_ASSIGNMENTS="$GPU_ASSIGNMENTS"
  gpu=$(sbatch --parsable "${extra[@]}" --partition="${GPU_PARTITION:-gpu}" --output="$out/logs/gpu.log" "$here/gpu.sbatch")
  echo "GPU-marked tests: job ${gpu%%;*} -> $out/gradebook-gpu"
fi
