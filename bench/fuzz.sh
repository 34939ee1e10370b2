#!/usr/bin/env bash
# The parser/decoder property fuzzer of rust/fuzz_tests.rs, run long (CI runs it briefly as
# part of `cargo test`): release build, many inputs, a fresh seed each run unless given.
#   bench/fuzz.sh                 # 2,000,000 inputs per property, seed from the clock
#   bench/fuzz.sh 20000000        # more inputs
#   FUZZ_SEED=1234 bench/fuzz.sh  # replay a seed a failure printed
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_ITERS="${1:-2000000}"
export FUZZ_SEED="${FUZZ_SEED:-$(date +%s%N)}"
echo "fuzzing: FUZZ_ITERS=$FUZZ_ITERS FUZZ_SEED=$FUZZ_SEED"
exec cargo test --release --lib fuzz_tests -- --nocapture --test-threads 2
