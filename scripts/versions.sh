# Pinned versions of everything scripts/setup installs from PyPI.
MLX_VERSION=0.32.4
MLX_LM_VERSION=0.32.2
# optax and jax (CPU) are the second optimizer reference (tests/oracles).
OPTAX_VERSION=0.2.8
JAX_VERSION=0.10.2
# llama.cpp's GGUF reader/dequantizer, the oracle for GGUF import tests.
GGUF_PY_VERSION=0.19.0
