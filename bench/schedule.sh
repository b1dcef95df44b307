#!/usr/bin/env bash
# Do transient classes need more data and steps? Train ResNet-mean, ResNet-ATT, M&mnet (as
# written, and with a_t scaled to sum to 1) and M&mnet-MS (a_t summing to 1) at the compact
# width on a benchmark twice the reproduction's size with twice its epochs (600 training clips,
# 24 epochs), 1 seed; print test metrics with the mean AP of transient (< 1 s) and long
# classes. About 10 minutes per system on one CPU core (M&mnet-MS about 20).
#   bash bench/schedule.sh [OUT]        (default runs/schedule; THREADS=1 by default)
# Finished systems are reused. Results are discussed in docs/results.md.
OUT="${1:-runs/schedule}"
SYNTH_ARGS="--n-train 600 --n-validation 100 --n-test 200 --seed 98"
TRAIN_ARGS="--epochs 24 --lr-step 16 --batch-size 32 --lr 0.05"
SYSTEMS=(
  "resnet-att|resnet-att|"
  "mmnet-unit|mmnet|--set attention_scale=unit"
  "resnet-mean|resnet-mean|"
  "mmnet-ms-unit|mmnet-ms|--set attention_scale=unit"
  "mmnet|mmnet|"
)
source "$(dirname "$0")/compare_systems.sh"
run_systems
