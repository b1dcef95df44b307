#!/usr/bin/env bash
# Why does M&mnet not beat ResNet-ATT here? Compare, on one synthetic benchmark (1 seed, a
# compact width: about 2 minutes per system on one CPU core):
#   - the formulations the paper leaves open or the authors' code chose differently
#     (scale of a_t in the micro loss, stopping its gradient, the authors'-code variant,
#     clip loss on the ensemble, ensemble of logits);
#   - the knobs the issue names: learning rate, number of attention heads m, segment length
#     (the max-pool factor between stages sets the last stage's hop: 4 -> 0.18 s, 2 -> 0.045 s).
#   bash bench/formulations.sh [OUT]        (default runs/formulations; THREADS=1 by default)
# Prints one line of test metrics per system (with the mean AP of transient and of long
# classes) and writes them to OUT/results.tsv. Results are discussed in docs/results.md.
OUT="${1:-runs/formulations}"
SYNTH_ARGS="--n-train 300 --n-validation 60 --n-test 100 --seed 99"
TRAIN_ARGS="--epochs 8 --lr-step 4 --batch-size 32 --lr 0.05"
U="--set attention_scale=unit"
SYSTEMS=(
  "resnet-mean|resnet-mean|"
  "resnet-att|resnet-att|"
  "mmnet|mmnet|"
  "mmnet-unit|mmnet|$U"
  "mmnet-unit-detach|mmnet|$U --set detach_attention=true"
  "mmnet-authors-code|mmnet|--set variant=authors-code"
  "mmnet-ms|mmnet-ms|"
  "mmnet-ms-unit|mmnet-ms|$U"
  "resnet-att-lr0.02|resnet-att|--lr 0.02"
  "mmnet-unit-lr0.02|mmnet|$U --lr 0.02"
  "mmnet-unit-lr0.1|mmnet|$U --lr 0.1"
  "mmnet-unit-heads8|mmnet|$U --set heads=8"
  "mmnet-unit-heads1|mmnet|$U --set heads=1"
  "mmnet-unit-seg0.1s|mmnet|$U --set pool=3"
  "mmnet-unit-seg0.045s|mmnet|$U --set pool=2"
  "resnet-att-seg0.045s|resnet-att|--set pool=2"
  "mmnet-unit-clip-on-ensemble|mmnet|$U --set clip_loss_on=ensemble"
  "mmnet-unit-logit-ensemble|mmnet|$U --set ensemble_mode=logit"
)
source "$(dirname "$0")/compare_systems.sh"
run_systems
