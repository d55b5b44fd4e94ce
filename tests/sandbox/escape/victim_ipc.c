/* Not JIT'd: run by the test (as root, or as nobody in user mode) before
   the ipc probe, with a name NAME. Creates, each mode 0600 and holding a
   secret: a SysV shared-memory segment, a SysV message queue with one
   message, a POSIX message queue /NAME with one message and a POSIX
   shared-memory object /NAME (as an application's well-known name would
   be), and prints "SHMID MSQID". With "-u NAME" it removes the two POSIX
   objects; the test removes the SysV ones with ipcrm. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <unistd.h>

int main(int argc, char **argv) {
  char name[256];
  if (argc == 3 && strcmp(argv[1], "-u") == 0) {
    snprintf(name, sizeof name, "/%s", argv[2]);
    mq_unlink(name);
    shm_unlink(name);
    return 0;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: victim_ipc NAME | -u NAME\n");
    return 64;
  }
  snprintf(name, sizeof name, "/%s", argv[1]);
  int shmid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  int msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (shmid < 0 || msqid < 0) {
    perror("victim_ipc");
    return 1;
  }
  char *p = shmat(shmid, NULL, 0);
  if (p != (void *)-1) {
    strcpy(p, "victim secret");
    shmdt(p);
  }
  struct {
    long type;
    char text[16];
  } m = {1, "victim message"};
  if (msgsnd(msqid, &m, sizeof m.text, IPC_NOWAIT) != 0) {
    perror("victim_ipc: msgsnd");
    return 1;
  }
  struct mq_attr a = {.mq_maxmsg = 4, .mq_msgsize = 64};
  mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_WRONLY, 0600, &a);
  if (q == (mqd_t)-1 || mq_send(q, "victim message", 15, 0) != 0) {
    perror("victim_ipc: mq_open");
    return 1;
  }
  mq_close(q);
  int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0 || write(fd, "victim secret", 13) != 13) {
    perror("victim_ipc: shm_open");
    return 1;
  }
  close(fd);
  printf("%d %d\n", shmid, msqid);
  return 0;
}
