/* caffe-gpu-check: say in one line why the GPUs a command asks for cannot be
 * used, before Caffe starts (Caffe itself dies on a glog CHECK with a stack
 * trace when there is no GPU, no driver or too old a driver).
 *
 *   caffe-gpu-check 0        GPU 0 usable?           exit 0 yes, 1 no
 *   caffe-gpu-check 0,1      GPUs 0 and 1 (multi-GPU training needs NCCL)
 *   caffe-gpu-check all      every GPU (at least one)
 *   caffe-gpu-check --list   one line per GPU: id, name, compute capability
 *
 * Built by docker/gpu/build_caffe_gpu.sh against the same CUDA runtime as
 * Caffe (HAVE_NCCL when Caffe was built with NCCL; MIN_CC the oldest compute
 * capability the build has code for, e.g. 75).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cuda_runtime_api.h>

#ifndef MIN_CC
#define MIN_CC 75
#endif

static const char *HINT =
    "This Caffe is built with CUDA 13: it needs an NVIDIA GPU of compute capability 7.5 "
    "or newer (Turing and later) and an NVIDIA driver of the 580 series or newer; in Docker, "
    "run with --gpus all (NVIDIA Container Toolkit). To run on the CPU, leave out -gpu / GPU=.";

static int fail(const char *what) {
    fprintf(stderr, "caffe-gpu-check: %s\n  %s\n", what, HINT);
    return 1;
}

int main(int argc, char **argv) {
    char msg[512];
    int count = 0, driver = 0, runtime = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: caffe-gpu-check ID[,ID...]|all|--list\n");
        return 2;
    }
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess || count == 0) {
        if (driver == 0)
            snprintf(msg, sizeof msg, "GPU %s requested, but no NVIDIA driver is loaded (%s)",
                     argv[1], err != cudaSuccess ? cudaGetErrorString(err) : "no device");
        else if (driver < runtime)
            snprintf(msg, sizeof msg, "GPU %s requested, but the NVIDIA driver supports CUDA "
                     "%d.%d and this build needs CUDA %d.%d (%s)", argv[1], driver / 1000,
                     driver % 1000 / 10, runtime / 1000, runtime % 1000 / 10,
                     cudaGetErrorString(err));
        else
            snprintf(msg, sizeof msg, "GPU %s requested, but CUDA finds no usable GPU (%s)",
                     argv[1], err != cudaSuccess ? cudaGetErrorString(err) : "0 devices");
        return fail(msg);
    }
    if (strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < count; ++i) {
            struct cudaDeviceProp p;
            if (cudaGetDeviceProperties(&p, i) == cudaSuccess)
                printf("%d %s sm_%d%d %zu MiB\n", i, p.name, p.major, p.minor,
                       (size_t)(p.totalGlobalMem >> 20));
        }
        return 0;
    }
    int ids[64], n = 0;
    if (strcmp(argv[1], "all") == 0) {
        for (int i = 0; i < count && n < 64; ++i) ids[n++] = i;
    } else {
        char *s = argv[1], *end;
        while (*s && n < 64) {
            long v = strtol(s, &end, 10);
            if (end == s || v < 0 || (*end && *end != ',')) {
                fprintf(stderr, "caffe-gpu-check: '%s' is not a GPU list (e.g. 0 or 0,1 or all)\n",
                        argv[1]);
                return 2;
            }
            ids[n++] = (int)v;
            s = *end ? end + 1 : end;
        }
    }
#ifndef HAVE_NCCL
    if (n > 1) {
        snprintf(msg, sizeof msg, "GPUs %s requested, but this Caffe is built without NCCL, "
                 "so it trains on one GPU only: use one id (e.g. 0)", argv[1]);
        return fail(msg);
    }
#endif
    for (int k = 0; k < n; ++k) {
        struct cudaDeviceProp p;
        if (ids[k] >= count) {
            snprintf(msg, sizeof msg, "GPU %d requested, but CUDA sees %d GPU(s): ids 0..%d",
                     ids[k], count, count - 1);
            return fail(msg);
        }
        err = cudaGetDeviceProperties(&p, ids[k]);
        if (err != cudaSuccess) {
            snprintf(msg, sizeof msg, "GPU %d: %s", ids[k], cudaGetErrorString(err));
            return fail(msg);
        }
        if (p.major * 10 + p.minor < MIN_CC) {
            snprintf(msg, sizeof msg, "GPU %d (%s) has compute capability %d.%d; this build has "
                     "code for %d.%d and newer only", ids[k], p.name, p.major, p.minor,
                     MIN_CC / 10, MIN_CC % 10);
            return fail(msg);
        }
    }
    return 0;
}
