#!/usr/bin/env python3
"""Generate the large end-to-end test program for scripts/bench.sh.

Writes C with NFUNC functions, each with its own 1 KiB constant table
(about 4 MiB of read-only data in all), a mutable counter per function,
and a function-pointer table (one relocation per function). main() calls
every function through the table and prints a checksum, so a wrong link
or a broken memory transfer shows up as a different output.

Usage: gen_large.py OUT.c [NFUNC]
"""
import sys

def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
    words = 256  # uint32 per table: 1 KiB
    seed = 0x12345678
    lines = ["#include <stdio.h>", "#include <stdint.h>", ""]
    for i in range(n):
        vals = []
        for _ in range(words):
            seed = (seed * 1103515245 + 12345) & 0xFFFFFFFF
            vals.append("0x%x" % seed)
        lines.append("static const uint32_t d%d[%d] = {%s};" % (i, words, ",".join(vals)))
        lines.append("static uint32_t g%d = %d;" % (i, i))
        lines.append(
            "__attribute__((noinline)) uint32_t f%d(uint32_t x) {"
            " g%d += x; return d%d[(x * %d + g%d) %% %d] ^ (x << %d); }"
            % (i, i, i, 2 * i + 1, i, words, i % 13))
    lines.append("typedef uint32_t (*fn_t)(uint32_t);")
    lines.append("fn_t const table[%d] = {%s};" % (n, ",".join("f%d" % i for i in range(n))))
    lines.append("""
int main(void) {
  uint32_t sum = 0;
  for (int round = 0; round < 3; ++round)
    for (uint32_t i = 0; i < %d; ++i)
      sum = sum * 31 + table[i](i + sum %% 7);
  printf("large: %%d functions, checksum %%08x\\n", %d, sum);
  return 0;
}""" % (n, n))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")

main()
