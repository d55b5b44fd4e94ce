/* IPC objects of another user: a 0600 SysV shared-memory segment and
 * message queue, a 0600 POSIX message queue and a 0600 POSIX
 * shared-memory object, all created beforehand by the test (victim_ipc),
 * owned by the user the test runs as (root, or nobody in user mode). The
 * POSIX names are passed in, as an application's well-known names are
 * known.
 *
 * Usage: ipc MODE SHMID MSQID NAME
 *
 * Checks: sysv-shm-list (SHM_STAT_ANY finds the segment), sysv-proc-list
 * (/proc/sysvipc/shm names it), sysv-shm-attach (attached read-write and
 * wrote to it), sysv-msg-list (MSG_STAT_ANY finds the queue),
 * sysv-msg-recv (took a message from the queue), posix-mq-recv (took a
 * message from /NAME), posix-shm-rw (opened /dev/shm/NAME read-write and
 * read its secret, directly or, where /dev/shm is private, by asking the
 * sandbox's shared-memory broker for that name). */
#include "probe.h"

#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>

static int shm_slot(int i) {
  struct shmid_ds ds;
  return shmctl(i, SHM_STAT_ANY, &ds);
}

static int msg_slot(int i) {
  struct msqid_ds ds;
  return msgctl(i, MSG_STAT_ANY, &ds);
}

/* Looks for WANT in the slots 0..MAX of a kernel IPC table (MAX < 0: the
   INFO call failed), through SLOT (the *_STAT_ANY call). */
static void list_check(const char *check, int max, int (*slot)(int), int want,
                       const char *what) {
  if (max < 0) {
    refused(check, errno, "reading the %s table", what);
    return;
  }
  int err = 0;
  for (int i = 0; i <= max; ++i) {
    int id = slot(i);
    if (id == want) {
      leaked(check, "*_STAT_ANY lists %s %d of another user", what, want);
      return;
    }
    if (id < 0 && errno != EINVAL)
      err = errno;
  }
  refused(check, err, "%s %d not listed (%d slots)", what, want, max + 1);
}

int main(int argc, char **argv) {
  probe_init(argc, argv);
  if (argc < 5) {
    printf("usage: ipc MODE SHMID MSQID NAME\n");
    return 64;
  }
  int shmid = atoi(argv[2]), msqid = atoi(argv[3]);

  struct shm_info si;
  list_check("sysv-shm-list", shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si), shm_slot,
             shmid, "segment");
  char want[32];
  snprintf(want, sizeof want, " %d ", shmid);
  file_shows("sysv-proc-list", "/proc/sysvipc/shm", want, "the segment");

  void *p = shmat(shmid, NULL, 0);
  if (p == (void *)-1) {
    refused("sysv-shm-attach", errno, "shmat %d", shmid);
  } else {
    volatile char *c = p;
    c[0] = 'X';
    shmdt(p);
    escaped("sysv-shm-attach", "attached segment %d read-write and wrote to it", shmid);
  }

  struct msginfo mi;
  list_check("sysv-msg-list", msgctl(0, MSG_INFO, (struct msqid_ds *)(void *)&mi), msg_slot,
             msqid, "queue");

  struct {
    long type;
    char text[64];
  } m;
  ssize_t n = msgrcv(msqid, &m, sizeof m.text, 0, IPC_NOWAIT);
  if (n < 0)
    refused("sysv-msg-recv", errno, "msgrcv %d", msqid);
  else
    escaped("sysv-msg-recv", "received \"%.*s\" from queue %d", (int)n, m.text, msqid);

  char name[256];
  snprintf(name, sizeof name, "/%s", argv[4]);
  mqd_t q = mq_open(name, O_RDONLY | O_NONBLOCK);
  if (q == (mqd_t)-1) {
    refused("posix-mq-recv", errno, "mq_open %s", name);
  } else {
    char text[64];
    ssize_t got = mq_receive(q, text, sizeof text, NULL);
    if (got > 0)
      escaped("posix-mq-recv", "received \"%.*s\" from %s", (int)got, text, name);
    else
      refused("posix-mq-recv", errno, "mq_receive %s", name);
    mq_close(q);
  }

  /* Directly, or (a private /dev/shm) through a shared-memory broker. */
  char path[300];
  snprintf(path, sizeof path, "/dev/shm/%s", argv[4]);
  int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  int oerr = errno, berr = 0;
  const char *how = "open";
  if (fd < 0) {
    fd = broker_request(name, 4096, &berr);
    how = "the shared-memory broker";
  }
  if (fd < 0) {
    refused("posix-shm-rw", oerr, "open %s read-write; broker: %s", path,
            strerrorname_np(berr));
  } else {
    char text[64] = "";
    ssize_t got = pread(fd, text, sizeof text - 1, 0);
    if (got > 0 && strstr(text, "victim"))
      escaped("posix-shm-rw", "%s gave %s read-write, read \"%.*s\"", how, path, (int)got,
              text);
    else
      refused("posix-shm-rw", 0, "%s gave a descriptor for %s, but not the victim's object",
              how, path);
    close(fd);
  }
  return probe_status;
}
