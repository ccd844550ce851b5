#!/usr/bin/env bash
# bench/gpu_paper.sh OUT_DIR [KEY=VALUE ...]
#
# One command for a one-GPU machine with Keras on JAX and no network: builds the data stages of
# an experiment (jun2018, all 48 records) with every core, trains the `paper` preset on a time
# budget, evaluates it, and writes metrics and images/s to OUT_DIR. The same script with
# PRESET=tiny and two records is its CPU test (tests/test_gpu_paper.py).
#
# Prepare here, once (both folders are ignored through .git/info/exclude):
#   .venv/bin/python bench/gpu_paper.py wheels     # .whl/: keras, snakemake, wfdb, pandas, ...
#   .venv/bin/python bench/gpu_paper.py pack-data  # .gpu_data/mitdb.tar.xz (~34 MiB)
# then, with the device tool, carry [".whl", ".gpu_data"] (~60 MiB with the tree) and run
#   DEADLINE_S=570 bash bench/gpu_paper.sh $OUT        (timeout_s 600)
# Sized for one such command: ~1 min of data stages, TRAIN_BUDGET_S (330 s) of training, ~0.5
# min of evaluation; DEADLINE_S cuts training if it overruns, so that the files still come back.
#
# Steps (Snakemake runs in a scratch folder, WORK_DIR, never in the repository's results/):
#   0. KERAS_BACKEND=jax; where PYTHON lacks keras, snakemake or wfdb, the wheels in .whl/ are
#      installed into SITE_DIR and put on PYTHONPATH (nothing happens here, in .venv); where
#      DATA_DIR has no records, DATA_ARCHIVE is unpacked into WORK_DIR and checked against its
#      SHA256SUMS.
#   1. data stages up to results/EXPERIMENT/manifest.csv, --cores CORES, timed ("data"); beside
#      them (PROBE=1) a probe times the network alone on synthetic batches under float32 and
#      mixed_bfloat16: the accelerator's ceiling, and whether mixed precision pays.
#   2. feed: images/s of ecg2d.feed.BeatBatches from the real images (packs) with 1, 2, 4 and
#      CORES threads (those up to CORES).
#   3. plan: the dtype policy (DTYPE_POLICY=auto: mixed_bfloat16 if the probe found it >= 10 %
#      faster on a GPU, float32 otherwise) and the epochs that fit TRAIN_BUDGET_S seconds at 70 %
#      of the slower of probe and feed (at most the preset's 30; 3 without a probe); EPOCHS=N
#      fixes them instead.
#   4. train + evaluate ("train_evaluate"); the train job reads images with the thread count
#      the feed measured fastest (plan: feed_threads; more threads can contend). Keras
#      reads no setting or variable for its dtype policy, so bench/gpu_paper_sitecustomize.py,
#      put on PYTHONPATH as sitecustomize, sets the policy named in ECG2D_DTYPE_POLICY when
#      keras is imported. With DEADLINE_S this step is cut (SIGINT) so that the script ends
#      within DEADLINE_S seconds.
#   5. always, also after a failure: OUT_DIR gets gpu_paper.json (device from nvidia-smi, else
#      the CPU from lscpu; backend, versions, preset and settings, seconds per step and job,
#      images/s from model.json, accuracy, macro Se/+P/F1, probe, feed, plan, status),
#      metrics.json, model.json, history.csv, train.tsv and evaluate.tsv (Snakemake benchmarks),
#      data_stages.tsv (every data job's benchmark) and logs.txt: 8 files, as many as the device
#      tool brings back.
#
# The data stages pack each image folder (pack_images: true, ecg2d/images.py): the feed, the
# GPU's limit in the first runs, reads packed arrays instead of decoding PNGs.
#
# What `paper` trains here (the gpu flavour): the seed's network, Adam 1e-4 constant, batch 128,
# no balancing, all unchanged; but an epoch is 100,000 training images drawn afresh
# (train.samples_per_epoch; SAMPLES_PER_EPOCH=all: all ~270,000) and only as many epochs run as
# fit the budget; the best epoch is chosen on the held-out 10 % as usual. Other presets keep
# their own settings. The preset is trained as ecg2d/settings.py defines it: the keys it sets
# win over the experiment's own model/train keys in config.yaml, which tune the default preset
# (before 2026-11-27 jun2018's single convolution and square-root sampling leaked in).
#
# Environment (defaults in brackets): EXPERIMENT [jun2018], PRESET [paper], RECORDS [all, or
# e.g. "100 101"], DATA_DIR [../shared/data/mitdb beside the repository], DATA_ARCHIVE
# [.gpu_data/mitdb.tar.xz], CORES [nproc], WORK_DIR [new under /tmp], TRAIN_BUDGET_S [330],
# EPOCHS [planned], SAMPLES_PER_EPOCH [100000 for paper], DTYPE_POLICY [auto|float32|
# mixed_bfloat16], PROBE [1], PROBE_STEPS [30], FEED_SECONDS [5], DEADLINE_S [none], PYTHON
# [.venv/bin/python if there, else python3], WHEELS [.whl], SITE_DIR [/tmp/ecg2d-site].
# Arguments after OUT_DIR go to Snakemake as --config KEY=VALUE items.
set -euo pipefail

die() { echo "gpu_paper: $*" >&2; exit 2; }
[[ $# -ge 1 && $1 != -* ]] || die "usage: bench/gpu_paper.sh OUT_DIR [KEY=VALUE ...]"
OUT_DIR=$1
shift
EXTRA_CONFIG=("$@")
START=$EPOCHREALTIME
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

EXPERIMENT=${EXPERIMENT:-jun2018}
PRESET=${PRESET:-paper}
RECORDS=${RECORDS:-all}
DATA_DIR=${DATA_DIR:-$REPO/../shared/data/mitdb}
CORES=${CORES:-$(nproc)}
TRAIN_BUDGET_S=${TRAIN_BUDGET_S:-330}
EPOCHS=${EPOCHS:-}
DTYPE_POLICY=${DTYPE_POLICY:-auto}
PROBE=${PROBE:-1}
PROBE_STEPS=${PROBE_STEPS:-30}
FEED_SECONDS=${FEED_SECONDS:-5}
DEADLINE_S=${DEADLINE_S:-}
WHEELS=${WHEELS:-$REPO/.whl}
DATA_ARCHIVE=${DATA_ARCHIVE:-$REPO/.gpu_data/mitdb.tar.xz}
SITE_DIR=${SITE_DIR:-/tmp/ecg2d-site}
if [[ -z ${SAMPLES_PER_EPOCH:-} && $PRESET == paper ]]; then SAMPLES_PER_EPOCH=100000; fi
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x $REPO/.venv/bin/python ]]; then PYTHON=$REPO/.venv/bin/python; else PYTHON=python3; fi
fi

mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
if [[ -n ${WORK_DIR:-} ]]; then
  WORK_DIR=$(realpath -m "$WORK_DIR")
  case $WORK_DIR/ in
    "$REPO"/ | "$REPO"/results/*) die "WORK_DIR must be a scratch folder, not $WORK_DIR" ;;
  esac
  mkdir -p "$WORK_DIR"
else
  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ecg2d-gpu-paper.XXXXXX")
fi

if [[ ! -f $DATA_DIR/RECORDS ]]; then # the GPU machine: the records come packed
  [[ -f $DATA_ARCHIVE ]] || die "no MIT-BIH records at DATA_DIR=$DATA_DIR nor $DATA_ARCHIVE"
  DATA_DIR=$WORK_DIR/mitdb
  echo "gpu_paper: unpacking $DATA_ARCHIVE into $DATA_DIR"
  mkdir -p "$DATA_DIR"
  unpack='import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="data")'
  "$PYTHON" -c "$unpack" "$DATA_ARCHIVE" "$DATA_DIR" # xz (delta filter) through Python's lzma
  (cd "$DATA_DIR" && sha256sum --check --quiet --ignore-missing SHA256SUMS) ||
    die "$DATA_ARCHIVE: the unpacked files differ from SHA256SUMS"
fi
DATA_DIR=$(cd "$DATA_DIR" && pwd)

# Seconds since a timestamp taken from $EPOCHREALTIME (bash arithmetic in microseconds).
seconds_since() {
  local us=$((10#${EPOCHREALTIME//[.,]/} - 10#${1//[.,]/}))
  printf '%d.%03d' $((us / 1000000)) $((us % 1000000 / 1000))
}
declare -A SECONDS_OF=()
DTYPE_POLICY_CHOSEN=

# Snakemake in WORK_DIR: smk LOG TARGET CONFIGFILE... [-- OPTION...], its output also in LOG.
# SMK_PREFIX (an array: timeout ...) goes before the command. No workflow profile: the run
# must not depend on profiles/default (the greedy scheduler also needs no pulp on the GPU).
SMK_PREFIX=()
smk() {
  local log=$1 target=$2 configs=() options=()
  shift 2
  while (($#)) && [[ $1 != -- ]]; do configs+=("$1"); shift; done
  if (($#)); then shift; options=("$@"); fi
  if ((${#EXTRA_CONFIG[@]})); then options+=(--config "${EXTRA_CONFIG[@]}"); fi
  "${SMK_PREFIX[@]}" "$PYTHON" -m snakemake "$target" --snakefile "$REPO/Snakefile" \
    --directory "$WORK_DIR" --workflow-profile none --cores "$CORES" --scheduler greedy \
    --rerun-incomplete "${options[@]}" --configfile "${configs[@]}" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}

# The data jobs' benchmark files as one table: stage, record, then Snakemake's columns.
data_benchmarks() {
  local root=$WORK_DIR/results/benchmarks f header=
  [[ -d $root ]] || return 0
  for f in $(cd "$root" && find . -name '*.tsv' | sort); do
    f=${f#./}
    case $f in "$EXPERIMENT"/train.tsv | "$EXPERIMENT"/evaluate.tsv) continue ;; esac
    if [[ -z $header ]]; then
      header=1
      printf 'stage\trecord\t%s\n' "$(head -1 "$root/$f")"
    fi
    tail -n +2 "$root/$f" | sed "s|^|$(dirname "$f")\t$(basename "$f" .tsv)\t|"
  done
}

# --- 5. results into OUT_DIR: on every exit, also when a step failed or was cut --------------
collect() {
  local rc=$? results=$WORK_DIR/results/$EXPERIMENT name rule log key seconds=()
  set +e
  [[ -n ${probe_pid:-} ]] && kill "$probe_pid" 2>/dev/null # a probe still running: stop it
  SECONDS_OF[total]=$(seconds_since "$START")
  for name in metrics.json model.json history.csv; do
    [[ -f $results/$name ]] && cp "$results/$name" "$OUT_DIR/"
  done
  for rule in train evaluate; do
    name=$WORK_DIR/results/benchmarks/$EXPERIMENT/$rule.tsv
    [[ -f $name ]] && cp "$name" "$OUT_DIR/$rule.tsv"
  done
  data_benchmarks >"$OUT_DIR/data_stages.tsv"
  for log in smk_data.log probe.log smk_train.log "logs/$EXPERIMENT/train.log" \
    "logs/$EXPERIMENT/evaluate.log"; do
    [[ -f $WORK_DIR/$log ]] || continue
    printf '===== %s\n' "$log"
    tail -c 20000 "$WORK_DIR/$log"
  done >"$OUT_DIR/logs.txt"
  for key in "${!SECONDS_OF[@]}"; do seconds+=("$key=${SECONDS_OF[$key]}"); done
  "${HELPER[@]}" report --experiment "$EXPERIMENT" --workdir "$WORK_DIR" --records "$RECORDS" \
    --policy "${DTYPE_POLICY_CHOSEN:-none}" --status "$rc" --seconds "${seconds[@]}" \
    --probe "$WORK_DIR/probe.json" --feed "$WORK_DIR/feed.json" --plan "$WORK_DIR/plan.json" \
    --out "$OUT_DIR/gpu_paper.json"
  ((rc == 0)) || echo "gpu_paper: failed or cut (status $rc): see $OUT_DIR/logs.txt" >&2
  echo "gpu_paper: results in $OUT_DIR (working folder $WORK_DIR)"
  exit "$rc"
}

# --- 0. environment -----------------------------------------------------------------------
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 PYTHONHASHSEED=0
export GIT_PYTHON_REFRESH=quiet # GitPython (a snakemake need) must not fail without git
shopt -s nullglob
wheels=("$WHEELS"/*.whl)
shopt -u nullglob
missing="import importlib.util as u, sys
sys.exit(all(u.find_spec(m) for m in ('keras', 'snakemake', 'wfdb')))"
if ((${#wheels[@]})) && "$PYTHON" -c "$missing"; then # only where they are missing
  echo "gpu_paper: installing ${#wheels[@]} carried wheels into $SITE_DIR"
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE_DIR" "${wheels[@]}"
  export PYTHONPATH=$SITE_DIR${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$REPO${PYTHONPATH:+:$PYTHONPATH} # ecg2d itself, installed or not
mkdir -p "$WORK_DIR/site"
cp "$REPO/bench/gpu_paper_sitecustomize.py" "$WORK_DIR/site/sitecustomize.py"
HELPER=("$PYTHON" "$REPO/bench/gpu_paper.py")
trap collect EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

CONFIG=$WORK_DIR/gpu_paper.yaml
"${HELPER[@]}" config --experiment "$EXPERIMENT" --preset "$PRESET" --data-dir "$DATA_DIR" \
  --records "$RECORDS" --samples-per-epoch "${SAMPLES_PER_EPOCH:-}" --out "$CONFIG"
echo "gpu_paper: $EXPERIMENT, preset $PRESET, records $RECORDS, $CORES cores, in $WORK_DIR"
SECONDS_OF[setup]=$(seconds_since "$START")

# --- 1. data stages (and the probe beside them) -------------------------------------------
if [[ $PROBE == 1 ]]; then
  "${HELPER[@]}" probe --experiment "$EXPERIMENT" --config "$CONFIG" --steps "$PROBE_STEPS" \
    --out "$WORK_DIR/probe.json" >"$WORK_DIR/probe.log" 2>&1 &
  probe_pid=$!
fi
t=$EPOCHREALTIME
smk "$WORK_DIR/smk_data.log" "results/$EXPERIMENT/manifest.csv" "$CONFIG"
SECONDS_OF[data]=$(seconds_since "$t")
if [[ $PROBE == 1 ]]; then
  t=$EPOCHREALTIME
  wait "$probe_pid" || echo "gpu_paper: the probe failed (logs.txt); planning without it"
  probe_pid=
  SECONDS_OF[probe_wait]=$(seconds_since "$t")
  cat "$WORK_DIR/probe.log"
fi

# --- 2. feed, 3. plan -----------------------------------------------------------------------
t=$EPOCHREALTIME
"${HELPER[@]}" feed --experiment "$EXPERIMENT" --config "$CONFIG" --workdir "$WORK_DIR" \
  --threads "$CORES" --seconds "$FEED_SECONDS" --out "$WORK_DIR/feed.json"
SECONDS_OF[feed]=$(seconds_since "$t")
"${HELPER[@]}" plan --experiment "$EXPERIMENT" --config "$CONFIG" --probe "$WORK_DIR/probe.json" \
  --feed "$WORK_DIR/feed.json" --policy "$DTYPE_POLICY" --epochs "$EPOCHS" \
  --budget "$TRAIN_BUDGET_S" --out-dir "$WORK_DIR"
# shellcheck source=/dev/null
source "$WORK_DIR/plan.env" # sets DTYPE_POLICY_CHOSEN and FEED_THREADS_CHOSEN

# --- 4. train and evaluate ------------------------------------------------------------------
if [[ -n $DEADLINE_S ]]; then
  elapsed=$(seconds_since "$START")
  left=$((DEADLINE_S - ${elapsed%.*} - 20))
  ((left > 30)) || left=30
  SMK_PREFIX=(timeout --signal=INT --kill-after=20 "$left")
  echo "gpu_paper: training and evaluation are cut after $left s (DEADLINE_S=$DEADLINE_S)"
fi
export ECG2D_DTYPE_POLICY=$DTYPE_POLICY_CHOSEN
export PYTHONPATH=$WORK_DIR/site:$PYTHONPATH # its sitecustomize sets that policy in Keras
t=$EPOCHREALTIME
status=0
smk "$WORK_DIR/smk_train.log" "results/$EXPERIMENT/metrics.json" "$CONFIG" "$WORK_DIR/plan.yaml" \
  -- --set-threads "train=${FEED_THREADS_CHOSEN:-$CORES}" "evaluate=$CORES" \
  --rerun-triggers mtime || status=$?
SECONDS_OF[train_evaluate]=$(seconds_since "$t")
exit "$status" # collect() fills OUT_DIR
