/* Not JIT'd: run by the test (as root, or as nobody in user mode) before a
   sysv probe. Creates a 0600 SysV shared-memory segment holding a secret
   and a 0600 message queue holding one message, and prints
   "SHMID MSQID". The test removes both afterwards (ipcrm). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>

int main(void) {
  int shmid = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
  int msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (shmid < 0 || msqid < 0) {
    perror("victim_sysv");
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
    perror("victim_sysv: msgsnd");
    return 1;
  }
  printf("%d %d\n", shmid, msqid);
  return 0;
}
