# Sourced by the scripts that run on an NVIDIA host (bench/gpu/run_on_device.sh,
# tests/gpu/cuda_checks.sh): installs the offline MLX bundle (from
# scripts/offline-bundle) into /tmp/mlx-cuda with the CUDA libraries of the
# host's PyTorch venv, and points the loader, Python and MLX at it.
#   source bench/gpu/device_env.sh BUNDLE BIN_DIR
device_bundle=$1 device_bin=$2
device_site=${TORCH_SITE:-/opt/torch/.venv/lib/python3.12/site-packages}
device_prefix=/tmp/mlx-cuda
scripts/offline-install "$device_bundle" "$device_prefix" --nvidia-from "$device_site" || exit 1
export LD_LIBRARY_PATH=$device_prefix/mlx/lib:$device_bin/lib:${LD_LIBRARY_PATH:-}
# mlx and mlx-lm (bundles made with --with-mlx-lm) for the Python peers/oracles.
export PYTHONPATH=$device_prefix${PYTHONPATH:+:$PYTHONPATH}
# Long runs see many shapes; MLX's CUDA caches otherwise throw after 2x
# their capacity in lifetime misses.
export MLX_ENABLE_CACHE_THRASHING_CHECK=0
