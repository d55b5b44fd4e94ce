/* __orc_rt_sysv_reenter, AArch64: target of the controller's
 * __orc_rt_reenter alias (-lazy). A lazy function's first calls land in a
 * JITLink re-entry trampoline of two instructions,
 *     stp x29, x30, [sp, #-16]!
 *     bl  __orc_rt_reenter
 * so on entry x30 is the trampoline's address + 8 and the caller's frame
 * pointer and return address sit on top of the stack. The controller is
 * asked (through __orc_rt_resolve_tag, defined in elfnix_stubs.c) for the
 * implementation; then the argument registers of AAPCS64 (x0-x7, x8 for an
 * indirect result, q0-q7) are restored, the trampoline's pair is popped,
 * and a branch enters the implementation as if the caller had called it.
 * x9-x15 and x18 are restored too, although a standard call carries
 * nothing in them: GCC's nested functions pass their static chain in x18.
 * x16 (IP0, free at any call, as for a linker veneer) carries the address.
 * The callee-saved registers (x19-x28, the low halves of q8-q15) are the
 * Rust callee's to keep. */
#include "elfnix_regs.aarch64.inc"

        .text
        .globl  __orc_rt_sysv_reenter
        .type   __orc_rt_sysv_reenter,%function
        .p2align 2
__orc_rt_sysv_reenter:
        stp     x29, x30, [sp, #-16]!
        mov     x29, sp
        /* x0-x15 and x18 (144 bytes with one slot spare) below q0-q7
         * (128 bytes). */
        sub     sp, sp, #272
        SPILL   str, x, 8, 0, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,18
        SPILL   str, q, 16, 144, 0,1,2,3,4,5,6,7
        sub     x0, x30, #8
        adrp    x1, :got:__orc_rt_resolve_tag
        ldr     x1, [x1, #:got_lo12:__orc_rt_resolve_tag]
        bl      __orc_rt_rs_resolve
        mov     x16, x0
        SPILL   ldr, q, 16, 144, 0,1,2,3,4,5,6,7
        SPILL   ldr, x, 8, 0, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,18
        mov     sp, x29
        /* This frame's record, then the trampoline's: x29 and x30 are the
         * caller's again. */
        ldp     x29, x30, [sp], #16
        ldp     x29, x30, [sp], #16
        br      x16
        .size   __orc_rt_sysv_reenter, .-__orc_rt_sysv_reenter

        .section .note.GNU-stack,"",%progbits
