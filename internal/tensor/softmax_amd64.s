#include "textflag.h"

// func maxAVX2(x *float32, n int) float32
// n must be a positive multiple of 8.
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Y0
	ADDQ    $32, SI
	SUBQ    $8, CX

mloop:
	TESTQ        CX, CX
	JEQ          mdone
	VMAXPS       (SI), Y0, Y0
	ADDQ         $32, SI
	SUBQ         $8, CX
	JMP          mloop

mdone:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+16(FP)
	RET

// func expSumAVX2(x *float32, n int, max float32, consts *[12][8]float32) float32
// x[i] = exp(x[i]-max) in place for n (a multiple of 8) elements; returns
// their sum. exp is the Cephes expf range reduction and degree-5 polynomial
// (≈2 ulp); arguments below -87.3 (including -Inf) give exactly 0.
TEXT ·expSumAVX2(SB), NOSPLIT, $0-36
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS max+16(FP), Y15
	MOVQ         consts+24(FP), BX
	VXORPS       Y14, Y14, Y14

eloop:
	TESTQ        CX, CX
	JEQ          edone
	VMOVUPS      (SI), Y0
	VSUBPS       Y15, Y0, Y0
	VCMPPS       $1, (BX), Y0, Y1
	VMAXPS       (BX), Y0, Y0
	VMULPS       32(BX), Y0, Y2
	VROUNDPS     $0, Y2, Y2
	VFNMADD231PS 64(BX), Y2, Y0
	VFNMADD231PS 96(BX), Y2, Y0
	VMOVUPS      128(BX), Y3
	VFMADD213PS  160(BX), Y0, Y3
	VFMADD213PS  192(BX), Y0, Y3
	VFMADD213PS  224(BX), Y0, Y3
	VFMADD213PS  256(BX), Y0, Y3
	VFMADD213PS  288(BX), Y0, Y3
	VMULPS       Y0, Y0, Y4
	VFMADD213PS  Y0, Y4, Y3
	VADDPS       320(BX), Y3, Y3
	VCVTPS2DQ    Y2, Y5
	VPADDD       352(BX), Y5, Y5
	VPSLLD       $23, Y5, Y5
	VMULPS       Y5, Y3, Y3
	VANDNPS      Y3, Y1, Y3
	VMOVUPS      Y3, (SI)
	VADDPS       Y3, Y14, Y14
	ADDQ         $32, SI
	SUBQ         $8, CX
	JMP          eloop

edone:
	VEXTRACTF128 $1, Y14, X1
	VADDPS       X1, X14, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+32(FP)
	RET

// func swigluAVX2(out, gate, up *float32, n int, consts *[13][8]float32)
// out[i] = gate[i]/(1+exp(-gate[i])) · up[i] for n (a multiple of 8)
// elements, with the exp of expSumAVX2; -gate is clamped to [-87.3, 88.4],
// where SiLU is already exactly gate (or 0 in float32).
TEXT ·swigluAVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ gate+8(FP), SI
	MOVQ up+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ consts+32(FP), BX

sloop:
	TESTQ        CX, CX
	JEQ          sdone
	VMOVUPS      (SI), Y6
	VXORPS       Y0, Y0, Y0
	VSUBPS       Y6, Y0, Y0
	VMAXPS       (BX), Y0, Y0
	VMINPS       384(BX), Y0, Y0
	VMULPS       32(BX), Y0, Y2
	VROUNDPS     $0, Y2, Y2
	VFNMADD231PS 64(BX), Y2, Y0
	VFNMADD231PS 96(BX), Y2, Y0
	VMOVUPS      128(BX), Y3
	VFMADD213PS  160(BX), Y0, Y3
	VFMADD213PS  192(BX), Y0, Y3
	VFMADD213PS  224(BX), Y0, Y3
	VFMADD213PS  256(BX), Y0, Y3
	VFMADD213PS  288(BX), Y0, Y3
	VMULPS       Y0, Y0, Y4
	VFMADD213PS  Y0, Y4, Y3
	VADDPS       320(BX), Y3, Y3
	VCVTPS2DQ    Y2, Y5
	VPADDD       352(BX), Y5, Y5
	VPSLLD       $23, Y5, Y5
	VMULPS       Y5, Y3, Y3
	VADDPS       320(BX), Y3, Y3
	VMULPS       (DX), Y6, Y6
	VDIVPS       Y3, Y6, Y6
	VMOVUPS      Y6, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DX
	ADDQ         $32, DI
	SUBQ         $8, CX
	JMP          sloop

sdone:
	VZEROUPPER
	RET

// func swigluBackAVX2(dgate, dup, dout, gate, up *float32, n int, consts *[13][8]float32)
// With s = sigmoid(gate[i]) (the exp of swigluAVX2) and silu = gate·s:
// dup[i] = dout[i]·silu, dgate[i] = dout[i]·up[i]·(s + silu·(1−s)), for n
// (a multiple of 8) elements. Each group of 8 is loaded before it is
// stored, so dgate may alias dout or gate, and dup up.
TEXT ·swigluBackAVX2(SB), NOSPLIT, $0-56
	MOVQ dgate+0(FP), DI
	MOVQ dup+8(FP), R9
	MOVQ dout+16(FP), R8
	MOVQ gate+24(FP), SI
	MOVQ up+32(FP), DX
	MOVQ n+40(FP), CX
	MOVQ consts+48(FP), BX
	VMOVUPS 320(BX), Y9

bloop:
	TESTQ        CX, CX
	JEQ          bdone
	VMOVUPS      (SI), Y6
	VMOVUPS      (R8), Y7
	VMOVUPS      (DX), Y8
	VXORPS       Y0, Y0, Y0
	VSUBPS       Y6, Y0, Y0
	VMAXPS       (BX), Y0, Y0
	VMINPS       384(BX), Y0, Y0
	VMULPS       32(BX), Y0, Y2
	VROUNDPS     $0, Y2, Y2
	VFNMADD231PS 64(BX), Y2, Y0
	VFNMADD231PS 96(BX), Y2, Y0
	VMOVUPS      128(BX), Y3
	VFMADD213PS  160(BX), Y0, Y3
	VFMADD213PS  192(BX), Y0, Y3
	VFMADD213PS  224(BX), Y0, Y3
	VFMADD213PS  256(BX), Y0, Y3
	VFMADD213PS  288(BX), Y0, Y3
	VMULPS       Y0, Y0, Y4
	VFMADD213PS  Y0, Y4, Y3
	VADDPS       Y9, Y3, Y3
	VCVTPS2DQ    Y2, Y5
	VPADDD       352(BX), Y5, Y5
	VPSLLD       $23, Y5, Y5
	VMULPS       Y5, Y3, Y3
	VADDPS       Y9, Y3, Y3
	VDIVPS       Y3, Y9, Y3
	VMULPS       Y3, Y6, Y10
	VMULPS       Y7, Y10, Y11
	VSUBPS       Y3, Y9, Y12
	VFMADD213PS  Y3, Y10, Y12
	VMULPS       Y8, Y12, Y12
	VMULPS       Y7, Y12, Y12
	VMOVUPS      Y11, (R9)
	VMOVUPS      Y12, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DX
	ADDQ         $32, R8
	ADDQ         $32, R9
	ADDQ         $32, DI
	SUBQ         $8, CX
	JMP          bloop

bdone:
	VZEROUPPER
	RET
