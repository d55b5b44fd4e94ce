/* Terminal injection: pushes a character into the input of an inherited
 * terminal with ioctl(TIOCSTI) (whoever reads that terminal next, e.g. the
 * user's shell, reads it as typed). The test runs this probe on a pty that
 * is the session's controlling terminal.
 *
 * Usage: tty MODE
 *
 * Checks: tiocsti. */
#include "probe.h"

#include <sys/ioctl.h>
#include <termios.h>

int main(int argc, char **argv) {
  probe_init(argc, argv);
  int fd = -1;
  for (int i = 0; i < 3 && fd < 0; ++i)
    if (isatty(i))
      fd = i;
  if (fd < 0) {
    refused("tiocsti", ENOTTY, "no terminal among descriptors 0-2");
    return probe_status;
  }
  char c = '#';
  if (ioctl(fd, TIOCSTI, &c) == 0)
    escaped("tiocsti", "pushed input into the terminal on descriptor %d", fd);
  else
    refused("tiocsti", errno, "TIOCSTI on descriptor %d", fd);
  return probe_status;
}
