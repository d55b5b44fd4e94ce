/* __orc_rt_sysv_reenter, x86-64: target of the controller's
 * __orc_rt_reenter alias, entered by a call from a lazy call-through stub
 * (-lazy). The stub's address is the return address minus the 5-byte
 * call. The controller is asked (through __orc_rt_resolve_tag, defined in
 * elfnix_stubs.c) for the implementation, which replaces the return
 * address; then every register the stub's caller may have live is
 * restored and the "return" enters the implementation with the original
 * arguments. */
        .text
        .globl  __orc_rt_sysv_reenter
        .type   __orc_rt_sysv_reenter,@function
        .p2align 4
__orc_rt_sysv_reenter:
        pushq   %rbp
        movq    %rsp, %rbp
        /* 14 GPRs (112 bytes, rounded to 128) + the 512-byte FXSAVE area,
         * which must be 16-byte aligned. The call-through stub may enter
         * with any 8-byte alignment, so align explicitly; %rbp restores
         * %rsp at the end. */
        subq    $640, %rsp
        andq    $-16, %rsp
        movq    %rax, 512(%rsp)
        movq    %rbx, 520(%rsp)
        movq    %rcx, 528(%rsp)
        movq    %rdx, 536(%rsp)
        movq    %rsi, 544(%rsp)
        movq    %rdi, 552(%rsp)
        movq    %r8, 560(%rsp)
        movq    %r9, 568(%rsp)
        movq    %r10, 576(%rsp)
        movq    %r11, 584(%rsp)
        movq    %r12, 592(%rsp)
        movq    %r13, 600(%rsp)
        movq    %r14, 608(%rsp)
        movq    %r15, 616(%rsp)
        fxsave64 (%rsp)
        movq    8(%rbp), %rdi
        subq    $5, %rdi
        movq    __orc_rt_resolve_tag@GOTPCREL(%rip), %rsi
        call    __orc_rt_rs_resolve@PLT
        movq    %rax, 8(%rbp)
        fxrstor64 (%rsp)
        movq    616(%rsp), %r15
        movq    608(%rsp), %r14
        movq    600(%rsp), %r13
        movq    592(%rsp), %r12
        movq    584(%rsp), %r11
        movq    576(%rsp), %r10
        movq    568(%rsp), %r9
        movq    560(%rsp), %r8
        movq    552(%rsp), %rdi
        movq    544(%rsp), %rsi
        movq    536(%rsp), %rdx
        movq    528(%rsp), %rcx
        movq    520(%rsp), %rbx
        movq    512(%rsp), %rax
        movq    %rbp, %rsp
        popq    %rbp
        ret
        .size   __orc_rt_sysv_reenter, .-__orc_rt_sysv_reenter

        .section .note.GNU-stack,"",@progbits
