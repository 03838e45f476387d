# Pinned versions of everything scripts/setup installs from PyPI.
MLX_VERSION=0.32.4
MLX_LM_VERSION=0.32.2
