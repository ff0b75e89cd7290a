#!/bin/sh
# The acceptance experiments of issue 14 (docs/explore.md "Experiments"), one stage per
# command, each resumable (labels with --resume, explore runs with --resume). Large data
# stays in DATA (default ../data-explore, outside the repository).
#
#   bench/explore-experiments.sh labels     # every label file the surrogates train on (each stage below makes its own)
#   bench/explore-experiments.sh smol       # SmolLM2-135M at 7 nm: SAC vs random vs GA over seeds
#   bench/explore-experiments.sh ablation   # the same case: SAC without MoE, PER, MPC
#   bench/explore-experiments.sh llama      # Llama 3.1 8B at 3 nm: SAC vs random vs GA
#   bench/explore-experiments.sh nodes      # SmolLM2-135M over the seven nodes (adaptation)
#   bench/explore-experiments.sh analyse    # the tables: statistics, ablation, predicted vs
#                                           # simulated, paper-llama-3nm, retargeted designs
#   bench/explore-experiments.sh all        # every stage in order
#
# SCALE=reduced (default: what a shared 2-core machine did in one afternoon, the sizes
# docs/explore.md "Experiments" reports) or SCALE=full (the issue's budgets: 3,000 labels per
# node, 2,000 episodes of 10 steps and 200 simulator calls per node, 5 seeds everywhere).
# WORKERS (default 2) sets the worker threads.
set -eu
STAGE=${1:-all}
DATA=${DATA:-$(cd "$(dirname "$0")/../.." && pwd)/data-explore}
SCALE=${SCALE:-reduced}
WORKERS=${WORKERS:-2}
T="node $(cd "$(dirname "$0")/.." && pwd)/bin/tessera.mjs"
mkdir -p "$DATA"

# per stage: labels, seeds, episodes per node, episodes per spot check, simulator calls per node
if [ "$SCALE" = full ]; then
  SMOL_LABELS=3000; SMOL_SEEDS=5; SMOL_EPISODES=2000; SMOL_EVERY=100; SMOL_BUDGET=200; ABLATION_SEEDS=5
  LLAMA_LABELS=3000; LLAMA_SEEDS=5; LLAMA_EPISODES=2000; LLAMA_EVERY=100; LLAMA_BUDGET=200
  NODE_LABELS=1000; NODE_EPISODES=2000; NODE_EVERY=100; NODE_BUDGET=200; FINE=300
else
  SMOL_LABELS=600; SMOL_SEEDS=5; SMOL_EPISODES=100; SMOL_EVERY=20; SMOL_BUDGET=20; ABLATION_SEEDS=2
  LLAMA_LABELS=24; LLAMA_SEEDS=3; LLAMA_EPISODES=40; LLAMA_EVERY=20; LLAMA_BUDGET=6
  NODE_LABELS=24; NODE_EPISODES=40; NODE_EVERY=20; NODE_BUDGET=6; FINE=100
fi
COMMON="--episode-steps 10 --fine-tune-steps $FINE --workers $WORKERS"
SMOL="--episodes $SMOL_EPISODES --spot-check-every $SMOL_EVERY --sim-budget $SMOL_BUDGET"

labels_smol() { $T label --model smollm2-135m --nodes 7 --count $SMOL_LABELS --seed 1 --workers $WORKERS --out "$DATA/smol-7nm.msgpack" --resume; }
labels_llama() { $T label --model llama-3.1-8b --nodes 3 --count $LLAMA_LABELS --seed 1 --workers $WORKERS --out "$DATA/llama-3nm.msgpack" --resume; }
labels_nodes() { $T label --model smollm2-135m --count $((NODE_LABELS * 7)) --seed 1 --workers $WORKERS --out "$DATA/smol-nodes.msgpack" --resume; }
labels() { labels_smol; labels_llama; labels_nodes; }

explore() { # OUT then options
  out=$1; shift
  if [ -f "$DATA/$out/summary.json" ]; then echo "$DATA/$out: done"; return; fi
  resume=""; [ -f "$DATA/$out/manifest.json" ] && resume="--resume"
  $T explore $COMMON --out "$DATA/$out" $resume "$@"
}

smol() { labels_smol; explore smol-7nm --model smollm2-135m --nodes 7 --labels "$DATA/smol-7nm.msgpack" --algo sac,random,ga --seeds $SMOL_SEEDS $SMOL; }
ablation() {
  explore ablation-no-moe --model smollm2-135m --nodes 7 --labels "$DATA/smol-7nm.msgpack" --algo sac --seeds $ABLATION_SEEDS $SMOL --no-moe
  explore ablation-no-per --model smollm2-135m --nodes 7 --labels "$DATA/smol-7nm.msgpack" --algo sac --seeds $ABLATION_SEEDS $SMOL --no-per
  explore ablation-no-mpc --model smollm2-135m --nodes 7 --labels "$DATA/smol-7nm.msgpack" --algo sac --seeds $ABLATION_SEEDS $SMOL --no-mpc
}
llama() { labels_llama; explore llama-3nm --model llama-3.1-8b --nodes 3 --labels "$DATA/llama-3nm.msgpack" --algo sac,random,ga --seeds $LLAMA_SEEDS --episodes $LLAMA_EPISODES --spot-check-every $LLAMA_EVERY --sim-budget $LLAMA_BUDGET; }
nodes() { labels_nodes; explore smol-nodes --model smollm2-135m --labels "$DATA/smol-nodes.msgpack" --algo sac --seeds 1 --episodes $NODE_EPISODES --spot-check-every $NODE_EVERY --sim-budget $NODE_BUDGET; }
analyse() { node --import tsx "$(dirname "$0")/explore-analysis.ts" "$DATA"; }

case "$STAGE" in
  labels) labels ;;
  smol) smol ;;
  ablation) ablation ;;
  llama) llama ;;
  nodes) nodes ;;
  analyse) analyse ;;
  all) smol; ablation; llama; nodes; analyse ;;
  *) echo "unknown stage $STAGE (labels, smol, ablation, llama, nodes, analyse, all)" >&2; exit 2 ;;
esac
