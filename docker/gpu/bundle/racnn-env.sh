# racnn-env.sh -- sourced (POSIX sh) by the GPU bundle's launchers and by
# run-check: puts the bundle's own libraries and the machine's CUDA libraries
# on LD_LIBRARY_PATH, or says in one line which library is missing and how to
# supply it (return status 1).
#
# Where the CUDA libraries come from, first match wins:
#   CUDA_LIBS=DIR[:DIR...]   folders named by hand;
#   NVIDIA's wheels in a Python's site-packages (nvidia/*/lib, e.g. what
#     PyTorch installs): python3's own site-packages first (python3 -c, where a
#     python3 is on PATH), then $VIRTUAL_ENV, $CONDA_PREFIX, ~/.local and the
#     usual prefixes (/usr/local/lib, /usr/lib, /opt/*/.venv, /opt/conda);
#   a CUDA toolkit's /usr/local/cuda/lib64, and the system's linker cache.
# The driver (libcuda.so.1) is the system's; /usr/local/nvidia/lib64 and lib
# (where container runtimes mount it) are added when they exist.
#
# Needs: RACNN_BUNDLE (the bundle's top folder). Sets RACNN_CUDA_DIRS (the
# folders used, colon-separated) and RACNN_BUNDLE_ENV=1 (done: a nested
# launcher does not search again).

racnn_needed="libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libnccl.so.2 libcudnn.so.9"

racnn_wheel_of() {   # the pip package that ships library $1
    case $1 in
        libcudart*) echo nvidia-cuda-runtime ;;
        libcublas*) echo nvidia-cublas ;;
        libcurand*) echo nvidia-curand ;;
        libnccl*) echo nvidia-nccl-cu13 ;;
        libcudnn*) echo nvidia-cudnn-cu13 ;;
        *) echo "?" ;;
    esac
}

racnn_site_packages() {   # candidate site-packages folders, one per line
    if command -v python3 >/dev/null 2>&1; then
        timeout 20 python3 -c 'import site, sys
seen = []
for p in site.getsitepackages() + [site.getusersitepackages()] + sys.path:
    if p and p not in seen:
        seen.append(p); print(p)' 2>/dev/null
    fi
    for p in "${VIRTUAL_ENV:-/nonexistent}" "${CONDA_PREFIX:-/nonexistent}" "$HOME/.local" \
             /usr/local /usr /opt/conda /opt/*/.venv /opt/*; do
        for d in "$p"/lib/python3*/site-packages "$p"/lib/python3*/dist-packages \
                 "$p"/lib/python3/dist-packages; do
            [ -d "$d" ] && echo "$d"
        done
    done
}

racnn_find_cuda() {
    racnn_dirs=
    if [ -n "${CUDA_LIBS:-}" ]; then
        racnn_candidates=$(echo "$CUDA_LIBS" | tr ':' '\n')
        racnn_where="CUDA_LIBS=$CUDA_LIBS"
    else
        racnn_candidates=$(racnn_site_packages | while IFS= read -r sp; do
            for d in "$sp"/nvidia/*/lib; do [ -d "$d" ] && echo "$d"; done
        done; [ -d /usr/local/cuda/lib64 ] && echo /usr/local/cuda/lib64)
        racnn_where="the nvidia/*/lib folders of python3's site-packages and the usual prefixes, /usr/local/cuda/lib64"
    fi
    racnn_missing=
    for so in $racnn_needed; do
        found=
        for d in $racnn_candidates; do
            if [ -e "$d/$so" ]; then found=$d; break; fi
        done
        if [ -z "$found" ] && [ -z "${CUDA_LIBS:-}" ] && \
           { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null; } | grep -q " $so "; then
            found=system
        fi
        if [ -z "$found" ]; then
            racnn_missing="$racnn_missing $so"
        elif [ "$found" != system ]; then
            # The whole folder, and the other nvidia/*/lib folders of the same
            # site-packages (cuDNN loads nvrtc and cuBLASLt from beside it).
            case ":$racnn_dirs:" in *":$found:"*) ;; *) racnn_dirs=${racnn_dirs:+$racnn_dirs:}$found ;; esac
            sp=${found%/nvidia/*/lib}
            if [ "$sp" != "$found" ]; then
                for d in "$sp"/nvidia/*/lib; do
                    case ":$racnn_dirs:" in *":$d:"*) ;; *) racnn_dirs="$racnn_dirs:$d" ;; esac
                done
            fi
        fi
    done
    if [ -n "$racnn_missing" ]; then
        for so in $racnn_missing; do
            echo "racnn-gpu-bundle: $so not found (looked in $racnn_where)." >&2
            echo "  Install NVIDIA's wheel (python3 -m pip install $(racnn_wheel_of "$so")) or name the folder that holds it: CUDA_LIBS=/path/to/lib[:...] $0 ..." >&2
        done
        return 1
    fi
    return 0
}

if [ "${RACNN_BUNDLE_ENV:-0}" != 1 ]; then
    if [ -z "${RACNN_BUNDLE:-}" ] || [ ! -d "$RACNN_BUNDLE/lib" ]; then
        echo "racnn-gpu-bundle: RACNN_BUNDLE does not name the bundle's folder" >&2
        return 1 2>/dev/null || exit 1
    fi
    if racnn_find_cuda; then
        RACNN_CUDA_DIRS=$racnn_dirs
        racnn_driver=
        for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
            [ -d "$d" ] && racnn_driver=${racnn_driver:+$racnn_driver:}$d
        done
        LD_LIBRARY_PATH=$RACNN_BUNDLE/lib${RACNN_CUDA_DIRS:+:$RACNN_CUDA_DIRS}${racnn_driver:+:$racnn_driver}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
        RACNN_BUNDLE_ENV=1
        export LD_LIBRARY_PATH RACNN_BUNDLE RACNN_BUNDLE_ENV RACNN_CUDA_DIRS
    else
        return 1 2>/dev/null || exit 1
    fi
fi
