/* ___orc_rt_elfnix_tls_get_addr (x86-64): JITLink renames each
 * __tls_get_addr call of a JIT'd object to this. %rdi points at the
 * {key, address-in-image} descriptor; the variable's address for this
 * thread is returned in %rax. Every other caller-saved register (general
 * purpose and SSE) is preserved, and the stack is 16-byte aligned at the
 * inner call, whatever it was. */
        .text
        .globl  ___orc_rt_elfnix_tls_get_addr
        .type   ___orc_rt_elfnix_tls_get_addr,@function
        .p2align 4
___orc_rt_elfnix_tls_get_addr:
        .cfi_startproc
        pushq   %rbp
        .cfi_def_cfa_offset 16
        .cfi_offset %rbp, -16
        movq    %rsp, %rbp
        .cfi_def_cfa_register %rbp
        /* 8 GPRs + 16 XMM registers: 64 + 256 bytes, a multiple of 16. */
        subq    $320, %rsp
        /* The ABI aligns the caller's stack, but never rely on it. */
        andq    $-16, %rsp
        movq    %rcx, 0(%rsp)
        movq    %rdx, 8(%rsp)
        movq    %rsi, 16(%rsp)
        movq    %rdi, 24(%rsp)
        movq    %r8, 32(%rsp)
        movq    %r9, 40(%rsp)
        movq    %r10, 48(%rsp)
        movq    %r11, 56(%rsp)
        movdqu  %xmm0, 64(%rsp)
        movdqu  %xmm1, 80(%rsp)
        movdqu  %xmm2, 96(%rsp)
        movdqu  %xmm3, 112(%rsp)
        movdqu  %xmm4, 128(%rsp)
        movdqu  %xmm5, 144(%rsp)
        movdqu  %xmm6, 160(%rsp)
        movdqu  %xmm7, 176(%rsp)
        movdqu  %xmm8, 192(%rsp)
        movdqu  %xmm9, 208(%rsp)
        movdqu  %xmm10, 224(%rsp)
        movdqu  %xmm11, 240(%rsp)
        movdqu  %xmm12, 256(%rsp)
        movdqu  %xmm13, 272(%rsp)
        movdqu  %xmm14, 288(%rsp)
        movdqu  %xmm15, 304(%rsp)
        call    __orc_rt_rs_elfnix_tls_get_addr_impl@PLT
        movdqu  304(%rsp), %xmm15
        movdqu  288(%rsp), %xmm14
        movdqu  272(%rsp), %xmm13
        movdqu  256(%rsp), %xmm12
        movdqu  240(%rsp), %xmm11
        movdqu  224(%rsp), %xmm10
        movdqu  208(%rsp), %xmm9
        movdqu  192(%rsp), %xmm8
        movdqu  176(%rsp), %xmm7
        movdqu  160(%rsp), %xmm6
        movdqu  144(%rsp), %xmm5
        movdqu  128(%rsp), %xmm4
        movdqu  112(%rsp), %xmm3
        movdqu  96(%rsp), %xmm2
        movdqu  80(%rsp), %xmm1
        movdqu  64(%rsp), %xmm0
        movq    56(%rsp), %r11
        movq    48(%rsp), %r10
        movq    40(%rsp), %r9
        movq    32(%rsp), %r8
        movq    24(%rsp), %rdi
        movq    16(%rsp), %rsi
        movq    8(%rsp), %rdx
        movq    0(%rsp), %rcx
        movq    %rbp, %rsp
        popq    %rbp
        .cfi_def_cfa %rsp, 8
        ret
        .cfi_endproc
        .size   ___orc_rt_elfnix_tls_get_addr, .-___orc_rt_elfnix_tls_get_addr

        .section .note.GNU-stack,"",@progbits
