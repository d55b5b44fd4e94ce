/* ___orc_rt_elfnix_tlsdesc_resolver: AArch64 thread-locals go through TLS
 * descriptors. JITLink points each descriptor's resolver word at this name
 * (the controller renames __tlsdesc_resolver to it) and its second word at
 * a 16-byte entry {key, address of the variable in its TLS image}, the same
 * entry the x86-64 __tls_get_addr path passes.
 *
 * JIT'd code calls the resolver with x0 = the descriptor and adds the
 * result to TPIDR_EL0, so the result is the variable's address for this
 * thread minus the thread pointer. The descriptor calling convention lets
 * the resolver change only x0 (x30 is the caller's to save, it made the
 * call): every other general-purpose register, all 32 vector registers in
 * full and the condition flags are kept. x19-x28 and the frame record are
 * kept by the AAPCS64 callee; the rest is saved here. */
#include "elfnix_regs.aarch64.inc"

        .text
        .globl  ___orc_rt_elfnix_tlsdesc_resolver
        .type   ___orc_rt_elfnix_tlsdesc_resolver,%function
        .p2align 2
___orc_rt_elfnix_tlsdesc_resolver:
        .cfi_startproc
        stp     x29, x30, [sp, #-16]!
        .cfi_def_cfa_offset 16
        .cfi_offset x29, -16
        .cfi_offset x30, -8
        mov     x29, sp
        .cfi_def_cfa x29, 16
        /* x1-x18 and NZCV (160 bytes) below q0-q31 (512 bytes). */
        sub     sp, sp, #672
        SPILL   str, x, 8, 0, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16, \
                17,18
        mrs     x1, nzcv
        str     x1, [sp, #144]
        SPILL   str, q, 16, 160, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15, \
                16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        /* The {key, address} entry the descriptor points at. */
        ldr     x0, [x0, #8]
        bl      __orc_rt_rs_elfnix_tls_get_addr_impl
        /* Address - thread pointer; a null address (the runtime has already
         * reported why) stays null once the caller adds TPIDR_EL0 back. */
        mrs     x1, tpidr_el0
        sub     x0, x0, x1
        SPILL   ldr, q, 16, 160, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15, \
                16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        ldr     x1, [sp, #144]
        msr     nzcv, x1
        SPILL   ldr, x, 8, 0, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16, \
                17,18
        mov     sp, x29
        .cfi_def_cfa sp, 16
        ldp     x29, x30, [sp], #16
        .cfi_def_cfa_offset 0
        .cfi_restore x29
        .cfi_restore x30
        ret
        .cfi_endproc
        .size   ___orc_rt_elfnix_tlsdesc_resolver, .-___orc_rt_elfnix_tlsdesc_resolver

        .section .note.GNU-stack,"",%progbits
