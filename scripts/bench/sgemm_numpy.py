#!/usr/bin/env python3
"""Reference SGEMM and mat-vec throughput of numpy on its BLAS (OpenBLAS).

Used by docs/BENCHMARKS.md (section "tensor") to compare internal/tensor with
OpenBLAS in the same run. Run single-threaded, without the image's core-type
overrides, so OpenBLAS picks its kernel for this CPU:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
        /usr/bin/python3 scripts/bench/sgemm_numpy.py [--reps 7]

Prints one line per shape: the median GFLOP/s (or GB/s for mat-vec) over reps,
per wall-clock second and per CPU-second of this process (the latter is robust
to time slicing on a shared machine; single-threaded they agree when idle).
"""
import argparse
import ctypes
import statistics
import sys
import time

import numpy as np


def blas_library():
    """Return (path, corename, config) of the BLAS library numpy loaded."""
    path = None
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if "blas" in p and ".so" in p and "lapack" not in p:
                path = p
                if "openblas" in p:
                    break
    core = config = "?"
    if path:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            core = lib.openblas_get_corename().decode()
            config = lib.openblas_get_config().decode()
        except (OSError, AttributeError):
            pass
    return path, core, config


def median_time(fn, reps, min_time=0.2):
    """Return the median (wall, cpu) seconds per call over reps batches."""
    fn()  # warm up
    walls, cpus = [], []
    for _ in range(reps):
        n = 0
        t0, c0 = time.perf_counter(), time.process_time()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_time:
                break
        walls.append(dt / n)
        cpus.append((time.process_time() - c0) / n)
    return statistics.median(walls), statistics.median(cpus)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="skip 4096 shapes")
    args = ap.parse_args()
    path, core, config = blas_library()
    print(f"# numpy {np.__version__}; BLAS {path}; core {core}; {config}")
    rng = np.random.default_rng(1)
    shapes = [(s, s, s) for s in (256, 512, 1024, 2048, 4096 if not args.quick else 2048)]
    shapes += [(512, 576, 576), (512, 1536, 576), (512, 49152, 576)]
    for m, n, k in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((n, k), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        t, tc = median_time(lambda: np.matmul(a, b.T, out=c), args.reps)
        f = 2 * m * n * k / 1e9
        print(f"sgemm_nt m={m} n={n} k={k} gflops={f / t:.1f} gflops_cpu={f / tc:.1f}")
        sys.stdout.flush()
    for rows, cols in ((576, 1536), (1536, 576), (49152, 576)):
        w = rng.standard_normal((rows, cols), dtype=np.float32)
        x = rng.standard_normal(cols, dtype=np.float32)
        y = np.empty(rows, dtype=np.float32)
        t, tc = median_time(lambda: np.matmul(w, x, out=y), args.reps)
        g = 4 * rows * cols / 1e9
        print(f"matvec_f32 rows={rows} cols={cols} gbs={g / t:.1f} gbs_cpu={g / tc:.1f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
