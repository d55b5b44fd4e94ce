#!/usr/bin/env python3
"""Writes a large C program: NFUNCS functions and MB megabytes of
initialised data, so that segments travel as multi-megabyte frames."""
import sys

nfuncs = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
mb = int(sys.argv[2]) if len(sys.argv) > 2 else 8
out = []
out.append("#include <stdio.h>\n")
for i in range(nfuncs):
    out.append("int f%d(int x) { return x * %d + %d; }\n" % (i, i % 7 + 1, i))
out.append("static int (*const table[])(int) = {\n")
out.append(",".join("f%d" % i for i in range(nfuncs)))
out.append("};\n")
words = mb * 1024 * 1024 // 8
out.append("unsigned long long big[%d] = {" % words)
out.append(",".join(str((i * 2654435761) % 1000003) for i in range(0, words, 997)))
out.append("};\n")
out.append("""
int main(void) {
  long long acc = 0;
  for (unsigned i = 0; i < sizeof table / sizeof table[0]; ++i)
    acc += table[i](3);
  unsigned long long s = 0;
  for (unsigned long i = 0; i < sizeof big / sizeof big[0]; ++i)
    s += big[i];
  printf("funcs=%u acc=%lld datasum=%llu\\n", (unsigned)(sizeof table / sizeof table[0]), acc, s);
  return (int)(acc % 100);
}
""")
sys.stdout.write("".join(out))
