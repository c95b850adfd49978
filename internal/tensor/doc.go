// Package tensor owns whet's float32 compute kernels and the storage formats
// of frozen weight matrices.
//
// Everything works on concrete row-major []float32 buffers with explicit
// shapes, in the style of llm.c: there is no tensor type and no autograd.
// The GEMM family (MatMulNT, MatMulNN, MatMulTN) is a packed, cache-blocked
// SGEMM (GotoBLAS/BLIS structure) whose micro-kernel is AVX2+FMA assembly on
// amd64 CPUs that support it, chosen at run time, and portable Go elsewhere.
// Vector helpers (Dot, Axpy, Scale, Add), row operations (SoftmaxInPlace,
// RMSNorm, LayerNorm, RoPE/RoPEInverse) and scalar activations with their
// derivatives (SiLU, GELU, GELUTanh) complete the forward/backward toolbox
// used by internal/llm and internal/encoder. Parallel splits loops over
// cores.
//
// Frozen weight matrices W[rows×cols] (rows = output features, the Hugging
// Face nn.Linear layout) come in four storage formats with one method set:
// F32Mat, BF16Mat, Q8Mat (int8, per-row absmax) and NF4Mat (4-bit
// NormalFloat, block 64, the QLoRA code book). Their m==1 mat-vec products
// dequantise in registers and never materialise the matrix.
//
// Functions and weight-matrix methods keep no state between calls (packing
// buffers come from a sync.Pool), so they are safe for concurrent use as long
// as concurrent calls write to disjoint outputs. Shape mismatches are
// programming errors and panic, like index errors.
package tensor
