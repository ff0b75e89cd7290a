#!/bin/sh
# The acceptance experiments of issue 14 (docs/explore.md "Experiments"), one stage per
# command, each resumable (labels with --resume, explore runs with --resume). Large data
# stays in DATA (default ../data-explore, outside the repository).
#
#   bench/explore-experiments.sh labels     # label files the surrogates train on
#   bench/explore-experiments.sh smol       # SmolLM2-135M at 7 nm: SAC vs random vs GA, SEEDS seeds
#   bench/explore-experiments.sh ablation   # the same case: SAC without MoE, PER, MPC
#   bench/explore-experiments.sh llama      # Llama 3.1 8B at 3 nm: SAC vs random vs GA
#   bench/explore-experiments.sh nodes      # SmolLM2-135M over the seven nodes (adaptation)
#   bench/explore-experiments.sh analyse    # the tables: statistics, ablation, predicted vs
#                                           # simulated, paper-llama-3nm, retargeted designs
#   bench/explore-experiments.sh all        # every stage in order
#
# SCALE=reduced (default: what a shared 2-core machine does in an afternoon) or
# SCALE=full (the issue's budgets: 3,000 labels per node, 2,000 episodes of 10 steps and
# 200 simulator calls per node). WORKERS (default 2) sets the worker threads.
set -eu
STAGE=${1:-all}
DATA=${DATA:-$(cd "$(dirname "$0")/../.." && pwd)/data-explore}
SCALE=${SCALE:-reduced}
WORKERS=${WORKERS:-2}
T="node $(cd "$(dirname "$0")/.." && pwd)/bin/tessera.mjs"
mkdir -p "$DATA"

if [ "$SCALE" = full ]; then
  SMOL_LABELS=3000; LLAMA_LABELS=3000; NODE_LABELS=1000; SEEDS=5
  EPISODES=2000; EVERY=100; BUDGET=200; FINE=300; ABLATION_SEEDS=5
else
  SMOL_LABELS=600; LLAMA_LABELS=150; NODE_LABELS=60; SEEDS=5
  EPISODES=200; EVERY=20; BUDGET=30; FINE=100; ABLATION_SEEDS=3
fi
COMMON="--episodes $EPISODES --episode-steps 10 --spot-check-every $EVERY --sim-budget $BUDGET --fine-tune-steps $FINE --workers $WORKERS"

labels() {
  $T label --model smollm2-135m --nodes 7 --count $SMOL_LABELS --seed 1 --workers $WORKERS --out "$DATA/smol-7nm.msgpack" --resume
  $T label --model llama-3.1-8b --nodes 3 --count $LLAMA_LABELS --seed 1 --workers $WORKERS --out "$DATA/llama-3nm.msgpack" --resume
  $T label --model smollm2-135m --count $((NODE_LABELS * 7)) --seed 1 --workers $WORKERS --out "$DATA/smol-nodes.msgpack" --resume
}

explore() { # OUT then options
  out=$1; shift
  if [ -f "$DATA/$out/summary.json" ]; then echo "$DATA/$out: done"; return; fi
  resume=""; [ -f "$DATA/$out/manifest.json" ] && resume="--resume"
  $T explore $COMMON --out "$DATA/$out" $resume "$@"
}

smol() { explore smol-7nm --model smollm2-135m --nodes 7 --labels "$DATA/smol-7nm.msgpack" --algo sac,random,ga --seeds $SEEDS; }
ablation() {
  explore ablation-no-moe --model smollm2-135m --nodes 7 --labels "$DATA/smol-7nm.msgpack" --algo sac --seeds $ABLATION_SEEDS --no-moe
  explore ablation-no-per --model smollm2-135m --nodes 7 --labels "$DATA/smol-7nm.msgpack" --algo sac --seeds $ABLATION_SEEDS --no-per
  explore ablation-no-mpc --model smollm2-135m --nodes 7 --labels "$DATA/smol-7nm.msgpack" --algo sac --seeds $ABLATION_SEEDS --no-mpc
}
llama() { explore llama-3nm --model llama-3.1-8b --nodes 3 --labels "$DATA/llama-3nm.msgpack" --algo sac,random,ga --seeds $SEEDS; }
nodes() { explore smol-nodes --model smollm2-135m --labels "$DATA/smol-nodes.msgpack" --algo sac --seeds 1; }
analyse() { node --import tsx "$(dirname "$0")/explore-analysis.ts" "$DATA"; }

case "$STAGE" in
  labels) labels ;;
  smol) smol ;;
  ablation) ablation ;;
  llama) llama ;;
  nodes) nodes ;;
  analyse) analyse ;;
  all) labels; smol; ablation; llama; nodes; analyse ;;
  *) echo "unknown stage $STAGE (labels, smol, ablation, llama, nodes, analyse, all)" >&2; exit 2 ;;
esac
