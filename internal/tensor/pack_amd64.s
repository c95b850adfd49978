#include "textflag.h"

// func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, kc8 int)
// For j < 8 and p < 8·kc8: dst[p*ldd+j] = src[j*lds+p]. Eight rows of src are
// loaded 8 floats at a time and transposed in registers (unpck/shuf/perm2f128).
TEXT ·transpose8AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R11
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	MOVQ kc8+32(FP), CX
	SHLQ $2, R8
	SHLQ $2, R11
	LEAQ (R8)(R8*2), R10    // 3·lds bytes
	LEAQ (SI)(R8*4), BX     // row 4
	LEAQ (R11)(R11*2), R12  // 3·ldd bytes
	LEAQ (DI)(R11*4), DX    // dst row 4
	MOVQ R11, R13
	SHLQ $3, R13            // 8·ldd bytes

tloop:
	TESTQ      CX, CX
	JEQ        tdone
	VMOVUPS    (SI), Y0
	VMOVUPS    (SI)(R8*1), Y1
	VMOVUPS    (SI)(R8*2), Y2
	VMOVUPS    (SI)(R10*1), Y3
	VMOVUPS    (BX), Y4
	VMOVUPS    (BX)(R8*1), Y5
	VMOVUPS    (BX)(R8*2), Y6
	VMOVUPS    (BX)(R10*1), Y7
	VUNPCKLPS  Y1, Y0, Y8
	VUNPCKHPS  Y1, Y0, Y9
	VUNPCKLPS  Y3, Y2, Y10
	VUNPCKHPS  Y3, Y2, Y11
	VUNPCKLPS  Y5, Y4, Y12
	VUNPCKHPS  Y5, Y4, Y13
	VUNPCKLPS  Y7, Y6, Y14
	VUNPCKHPS  Y7, Y6, Y15
	VSHUFPS    $0x44, Y10, Y8, Y0
	VSHUFPS    $0xEE, Y10, Y8, Y1
	VSHUFPS    $0x44, Y11, Y9, Y2
	VSHUFPS    $0xEE, Y11, Y9, Y3
	VSHUFPS    $0x44, Y14, Y12, Y4
	VSHUFPS    $0xEE, Y14, Y12, Y5
	VSHUFPS    $0x44, Y15, Y13, Y6
	VSHUFPS    $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVUPS    Y8, (DI)
	VMOVUPS    Y9, (DI)(R11*1)
	VMOVUPS    Y10, (DI)(R11*2)
	VMOVUPS    Y11, (DI)(R12*1)
	VMOVUPS    Y12, (DX)
	VMOVUPS    Y13, (DX)(R11*1)
	VMOVUPS    Y14, (DX)(R11*2)
	VMOVUPS    Y15, (DX)(R12*1)
	ADDQ       $32, SI
	ADDQ       $32, BX
	ADDQ       R13, DI
	ADDQ       R13, DX
	DECQ       CX
	JMP        tloop

tdone:
	VZEROUPPER
	RET

// func transpose4AVX2(dst *float32, ldd int, src *float32, lds int, kc8 int)
// For j < 4 and p < 8·kc8: dst[p*ldd+j] = src[j*lds+p]: four rows of src,
// 8 floats at a time, become eight 4-float rows of dst.
TEXT ·transpose4AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R11
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	MOVQ kc8+32(FP), CX
	SHLQ $2, R8
	SHLQ $2, R11
	LEAQ (R8)(R8*2), R10    // 3·lds bytes
	LEAQ (R11)(R11*2), R12  // 3·ldd bytes
	LEAQ (DI)(R11*4), DX    // dst row 4
	MOVQ R11, R13
	SHLQ $3, R13            // 8·ldd bytes

t4loop:
	TESTQ        CX, CX
	JEQ          t4done
	VMOVUPS      (SI), Y0
	VMOVUPS      (SI)(R8*1), Y1
	VMOVUPS      (SI)(R8*2), Y2
	VMOVUPS      (SI)(R10*1), Y3
	VUNPCKLPS    Y1, Y0, Y4
	VUNPCKHPS    Y1, Y0, Y5
	VUNPCKLPS    Y3, Y2, Y6
	VUNPCKHPS    Y3, Y2, Y7
	VSHUFPS      $0x44, Y6, Y4, Y8
	VSHUFPS      $0xEE, Y6, Y4, Y9
	VSHUFPS      $0x44, Y7, Y5, Y10
	VSHUFPS      $0xEE, Y7, Y5, Y11
	VMOVUPS      X8, (DI)
	VMOVUPS      X9, (DI)(R11*1)
	VMOVUPS      X10, (DI)(R11*2)
	VMOVUPS      X11, (DI)(R12*1)
	VEXTRACTF128 $1, Y8, X12
	VEXTRACTF128 $1, Y9, X13
	VEXTRACTF128 $1, Y10, X14
	VEXTRACTF128 $1, Y11, X15
	VMOVUPS      X12, (DX)
	VMOVUPS      X13, (DX)(R11*1)
	VMOVUPS      X14, (DX)(R11*2)
	VMOVUPS      X15, (DX)(R12*1)
	ADDQ         $32, SI
	ADDQ         R13, DI
	ADDQ         R13, DX
	DECQ         CX
	JMP          t4loop

t4done:
	VZEROUPPER
	RET
