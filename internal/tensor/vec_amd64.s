#include "textflag.h"

// Vector kernels for AVX2+FMA. Each main loop handles 32 elements with four
// independent accumulators (FMA latency 4, two FMA ports).

// hsum reduces Y0..Y3 to a scalar in X0.
#define HSUM \
	VADDPS       Y1, Y0, Y0 \
	VADDPS       Y3, Y2, Y2 \
	VADDPS       Y2, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS       X1, X0, X0 \
	VHADDPS      X0, X0, X0 \
	VHADDPS      X0, X0, X0

// func dotAVX2(a, b *float32, n int) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

dloop32:
	CMPQ        CX, $32
	JLT         dloop8
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         dloop32

dloop8:
	CMPQ        CX, $8
	JLT         dsum
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         dloop8

dsum:
	HSUM

dtail:
	TESTQ       CX, CX
	JEQ         ddone
	VMOVSS      (SI), X1
	VFMADD231SS (DI), X1, X0
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         dtail

ddone:
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func axpyAVX2(alpha float32, x, y *float32, n int)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Y0
	MOVQ         x+8(FP), SI
	MOVQ         y+16(FP), DI
	MOVQ         n+24(FP), CX

aloop32:
	CMPQ        CX, $32
	JLT         aloop8
	VMOVUPS     (DI), Y1
	VMOVUPS     32(DI), Y2
	VMOVUPS     64(DI), Y3
	VMOVUPS     96(DI), Y4
	VFMADD231PS (SI), Y0, Y1
	VFMADD231PS 32(SI), Y0, Y2
	VFMADD231PS 64(SI), Y0, Y3
	VFMADD231PS 96(SI), Y0, Y4
	VMOVUPS     Y1, (DI)
	VMOVUPS     Y2, 32(DI)
	VMOVUPS     Y3, 64(DI)
	VMOVUPS     Y4, 96(DI)
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         aloop32

aloop8:
	CMPQ        CX, $8
	JLT         atail
	VMOVUPS     (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS     Y1, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         aloop8

atail:
	TESTQ       CX, CX
	JEQ         adone
	VMOVSS      (DI), X1
	VFMADD231SS (SI), X0, X1
	VMOVSS      X1, (DI)
	ADDQ        $4, SI
	ADDQ        $4, DI
	DECQ        CX
	JMP         atail

adone:
	VZEROUPPER
	RET

// func dotBF16AVX2(w *uint16, x *float32, n int) float32
// n must be a multiple of 8.
TEXT ·dotBF16AVX2(SB), NOSPLIT, $0-28
	MOVQ   w+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

bloop32:
	CMPQ        CX, $32
	JLT         bloop8
	VPMOVZXWD   (SI), Y4
	VPMOVZXWD   16(SI), Y5
	VPMOVZXWD   32(SI), Y6
	VPMOVZXWD   48(SI), Y7
	VPSLLD      $16, Y4, Y4
	VPSLLD      $16, Y5, Y5
	VPSLLD      $16, Y6, Y6
	VPSLLD      $16, Y7, Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $64, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         bloop32

bloop8:
	CMPQ        CX, $8
	JLT         bsum
	VPMOVZXWD   (SI), Y4
	VPSLLD      $16, Y4, Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $16, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         bloop8

bsum:
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func dotQ8AVX2(q *int8, x *float32, n int) float32
// n must be a multiple of 8.
TEXT ·dotQ8AVX2(SB), NOSPLIT, $0-28
	MOVQ   q+0(FP), SI
	MOVQ   x+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

qloop32:
	CMPQ        CX, $32
	JLT         qloop8
	VPMOVSXBD   (SI), Y4
	VPMOVSXBD   8(SI), Y5
	VPMOVSXBD   16(SI), Y6
	VPMOVSXBD   24(SI), Y7
	VCVTDQ2PS   Y4, Y4
	VCVTDQ2PS   Y5, Y5
	VCVTDQ2PS   Y6, Y6
	VCVTDQ2PS   Y7, Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $32, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         qloop32

qloop8:
	CMPQ        CX, $8
	JLT         qsum
	VPMOVSXBD   (SI), Y4
	VCVTDQ2PS   Y4, Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $8, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         qloop8

qsum:
	HSUM
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// NF4STEP decodes 8 packed bytes at off(SI) (16 weights, high nibble first)
// through the code book in Y13/Y14 and accumulates their products with the
// 16 floats at 2*off*4(DI) into Y0/Y1.
#define NF4STEP(off) \
	VPMOVZXBD   (off)(SI), Y4 \
	VPSRLD      $4, Y4, Y5 \
	VPAND       Y15, Y4, Y4 \
	VPERMPS     Y13, Y5, Y6 \
	VPERMPS     Y14, Y5, Y7 \
	VPSLLD      $28, Y5, Y8 \
	VBLENDVPS   Y8, Y7, Y6, Y6 \
	VPERMPS     Y13, Y4, Y9 \
	VPERMPS     Y14, Y4, Y10 \
	VPSLLD      $28, Y4, Y8 \
	VBLENDVPS   Y8, Y10, Y9, Y9 \
	VUNPCKLPS   Y9, Y6, Y10 \
	VUNPCKHPS   Y9, Y6, Y11 \
	VPERM2F128  $0x20, Y11, Y10, Y12 \
	VPERM2F128  $0x31, Y11, Y10, Y10 \
	VFMADD231PS (8*off)(DI), Y12, Y0 \
	VFMADD231PS (8*off+32)(DI), Y10, Y1

// func dotNF4AVX2(q *byte, absmax *float32, x *float32, nblocks int, code *[16]float32) float32
// Σ over nblocks blocks of 64 weights: absmax[b] · Σ code[idx]·x.
TEXT ·dotNF4AVX2(SB), NOSPLIT, $0-44
	MOVQ         q+0(FP), SI
	MOVQ         absmax+8(FP), R8
	MOVQ         x+16(FP), DI
	MOVQ         nblocks+24(FP), CX
	MOVQ         code+32(FP), AX
	VMOVUPS      (AX), Y13
	VMOVUPS      32(AX), Y14
	MOVL         $15, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Y15
	VXORPS       Y2, Y2, Y2

nblock:
	TESTQ        CX, CX
	JEQ          ndone
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	NF4STEP(0)
	NF4STEP(8)
	NF4STEP(16)
	NF4STEP(24)
	VADDPS       Y1, Y0, Y0
	VBROADCASTSS (R8), Y3
	VFMADD231PS  Y3, Y0, Y2
	ADDQ         $32, SI
	ADDQ         $256, DI
	ADDQ         $4, R8
	DECQ         CX
	JMP          nblock

ndone:
	VEXTRACTF128 $1, Y2, X1
	VADDPS       X1, X2, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+40(FP)
	RET

// NF4STEP512 decodes 16 packed bytes at off(SI) (32 weights) with AVX-512:
// VPERMD duplicates each byte into two lanes, VPSRLVD/VPANDD extract the high
// then low nibble in element order, and one VPERMPS looks all 16 up in the
// code book held in Z13.
#define NF4STEP512(off) \
	VPMOVZXBD   (off)(SI), Z4 \
	VPERMD      Z4, Z10, Z5 \
	VPERMD      Z4, Z11, Z6 \
	VPSRLVD     Z12, Z5, Z5 \
	VPSRLVD     Z12, Z6, Z6 \
	VPANDD      Z15, Z5, Z5 \
	VPANDD      Z15, Z6, Z6 \
	VPERMPS     Z13, Z5, Z5 \
	VPERMPS     Z13, Z6, Z6 \
	VFMADD231PS (8*off)(DI), Z5, Z0 \
	VFMADD231PS (8*off+64)(DI), Z6, Z1

// func dotNF4AVX512(q *byte, absmax *float32, x *float32, nblocks int, code *[16]float32, consts *[48]uint32) float32
TEXT ·dotNF4AVX512(SB), NOSPLIT, $0-52
	MOVQ         q+0(FP), SI
	MOVQ         absmax+8(FP), R8
	MOVQ         x+16(FP), DI
	MOVQ         nblocks+24(FP), CX
	MOVQ         code+32(FP), AX
	MOVQ         consts+40(FP), BX
	VMOVUPS      (AX), Z13
	VMOVDQU32    (BX), Z10
	VMOVDQU32    64(BX), Z11
	VMOVDQU32    128(BX), Z12
	MOVL         $15, AX
	VMOVD        AX, X15
	VPBROADCASTD X15, Z15
	VPXORD       Z2, Z2, Z2

n5block:
	TESTQ        CX, CX
	JEQ          n5done
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	NF4STEP512(0)
	NF4STEP512(16)
	VADDPS       Z1, Z0, Z0
	VBROADCASTSS (R8), Z3
	VFMADD231PS  Z3, Z0, Z2
	ADDQ         $32, SI
	ADDQ         $256, DI
	ADDQ         $4, R8
	DECQ         CX
	JMP          n5block

n5done:
	VEXTRACTF64X4 $1, Z2, Y1
	VADDPS        Y1, Y2, Y2
	VEXTRACTF128  $1, Y2, X1
	VADDPS        X1, X2, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	VZEROUPPER
	MOVSS         X0, ret+48(FP)
	RET
