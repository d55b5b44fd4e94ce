/* JIT'd by scripts/test-host-functions.sh with the host_functions
 * examples as the executor: host_add and host_log are not defined
 * anywhere in the program; the executor's Session defines them.
 * Expected: the line "hello from JIT'd code" and exit code 42. */
int host_add(int a, int b);
void host_log(const char *msg);

int main(void) {
  host_log("hello from JIT'd code");
  return host_add(40, 2);
}
