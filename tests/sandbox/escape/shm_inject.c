/* Cross-session code injection through /dev/shm.
 *
 * Usage: shm_inject MODE RWDIR [SUFFIX]
 *
 * Watches /dev/shm with inotify and lists it, then creates RWDIR/ready; the
 * test then starts a victim session (another executor with
 * -use-memmgr=shared) and writes its executor's pid to RWDIR/victim.pid
 * once the victim's segment exists. The probe then tries to learn the
 * victim's segment names (inotify events, a listing, other processes'
 * /proc/PID/maps, the old predictable name jitlink_<pid>_<n>) and to open
 * each name it learnt read-write and map it shared and writable, which is
 * all it takes to patch the victim's JIT'd code (nothing is written).
 *
 * shm-guess-name says `closed` when the names the victim's processes map
 * (which only an unsandboxed run can see) do not follow that pattern: the
 * attack is then gone whatever the sandbox does.
 *
 * Checks: shm-inotify, shm-list, shm-proc-maps, shm-guess-name,
 * shm-open-rw, each name followed by SUFFIX if given (the test attacks an
 * unsandboxed and a sandboxed victim). */
#include "probe.h"

#include <dirent.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_NAMES 64
static char names[MAX_NAMES][256];
static int n_names;

/* Names the victim's own processes map (only an unsandboxed probe sees
   them). */
static char victim_names[MAX_NAMES][256];
static int n_victim;

static void add_name(const char *n) {
  for (int i = 0; i < n_names; ++i)
    if (strcmp(names[i], n) == 0)
      return;
  if (n_names < MAX_NAMES)
    snprintf(names[n_names++], sizeof names[0], "%s", n);
}

/* Names in /dev/shm: into OUT (if not NULL), count returned; -1 + errno. */
static int list_shm(char (*out)[256], int cap) {
  DIR *d = opendir("/dev/shm");
  if (!d)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    if (out && n < cap)
      snprintf(out[n], 256, "%s", e->d_name);
    ++n;
  }
  closedir(d);
  return n;
}

static const char *suffix = "";

/* The check's name with the run's suffix. */
static const char *chk(const char *base) {
  static char b[4][64];
  static int next;
  char *out = b[next++ % 4];
  snprintf(out, sizeof b[0], "%s%s", base, suffix);
  return out;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  probe_init(argc, argv);
  if (argc < 3) {
    printf("usage: shm_inject MODE RWDIR [SUFFIX]\n");
    return 64;
  }
  if (argc > 3)
    suffix = argv[3];
  char path[4096];

  /* Before the victim starts: a watch, and what /dev/shm holds now. */
  int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  int ierr = errno, wd = -1;
  if (ifd >= 0) {
    wd = inotify_add_watch(ifd, "/dev/shm", IN_CREATE | IN_OPEN | IN_MOVED_TO);
    ierr = errno;
  }
  static char before[1024][256];
  int n_before = list_shm(before, 1024);
  if (n_before > 1024)
    n_before = 1024;

  snprintf(path, sizeof path, "%s/ready", argv[2]);
  int rfd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (rfd < 0) {
    printf("PROBE shm-setup error cannot create %s: %s\n", path, strerrorname_np(errno));
    return 3;
  }
  close(rfd);

  /* The test writes the victim's pid once its segment exists. */
  long vpid = 0;
  char buf[64];
  snprintf(path, sizeof path, "%s/victim.pid", argv[2]);
  for (int i = 0; i < 300 && vpid <= 0; ++i) {
    if (read_file(path, buf, sizeof buf) > 0)
      vpid = atol(buf);
    else
      sleep_ms(50);
  }
  if (vpid <= 0) {
    printf("PROBE shm-setup error no victim pid in %s after 15 s\n", path);
    return 3;
  }

  /* 1. inotify: names of segments created since the watch. */
  if (wd < 0) {
    refused(chk("shm-inotify"), ierr, "watching /dev/shm");
  } else {
    int found = 0;
    char ev[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (int round = 0; round < 20 && !found; ++round) {
      struct pollfd p = {ifd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0)
        continue;
      ssize_t len;
      while ((len = read(ifd, ev, sizeof ev)) > 0) {
        for (char *q = ev; q < ev + len;) {
          struct inotify_event *e = (struct inotify_event *)q;
          if (e->len && strncmp(e->name, "orc-esc", 7) != 0) {
            add_name(e->name);
            found = 1;
          }
          q += sizeof *e + e->len;
        }
      }
    }
    if (found)
      leaked(chk("shm-inotify"), "learnt %d segment name(s) of another session, e.g. %s", n_names,
             names[0]);
    else
      refused(chk("shm-inotify"), 0, "watch set but no event named another session's segment");
  }

  /* 2. A listing: names that were not there before the victim started. */
  static char after[1024][256];
  int n_after = list_shm(after, 1024), lerr = errno;
  if (n_after < 0) {
    refused(chk("shm-list"), lerr, "listing /dev/shm");
  } else {
    if (n_after > 1024)
      n_after = 1024;
    int fresh = 0;
    for (int i = 0; i < n_after; ++i) {
      int old = 0;
      for (int j = 0; j < n_before && !old; ++j)
        old = strcmp(after[i], before[j]) == 0;
      if (!old && strncmp(after[i], "orc-esc", 7) != 0) {
        add_name(after[i]);
        ++fresh;
      }
    }
    if (fresh)
      leaked(chk("shm-list"), "listed %d new segment name(s) of another session", fresh);
    else
      refused(chk("shm-list"), 0, "listing shows no segment of another session (%d entries)",
              n_after);
  }

  /* 3. Other processes' memory maps name the segments they map. */
  DIR *proc = opendir("/proc");
  int from_maps = 0, perr = proc ? 0 : errno;
  struct dirent *pe;
  while (proc && (pe = readdir(proc))) {
    long pid = atol(pe->d_name);
    if (pid <= 0 || pid == (long)getpid())
      continue;
    char mp[64], line[1024];
    snprintf(mp, sizeof mp, "/proc/%ld/maps", pid);
    FILE *m = fopen(mp, "re");
    if (!m) {
      perr = errno;
      continue;
    }
    while (fgets(line, sizeof line, m)) {
      char *n = strstr(line, " /dev/shm/");
      if (!n || strncmp(n + 10, "orc-esc", 7) == 0)
        continue;
      n[strcspn(n, " \n")] = 0;
      n += 10;
      if (n[0]) {
        add_name(n);
        ++from_maps;
        if (pid >= vpid && pid < vpid + 16 && n_victim < MAX_NAMES)
          snprintf(victim_names[n_victim++], sizeof victim_names[0], "%s", n);
      }
    }
    fclose(m);
  }
  if (proc)
    closedir(proc);
  if (from_maps)
    leaked(chk("shm-proc-maps"), "other processes' maps name %d shared-memory segment(s)",
           from_maps);
  else
    refused(chk("shm-proc-maps"), perr, "no other process's maps name a segment");

  /* 4. The predictable name jitlink_<pid>_<n>, for the victim's pid and
     the next few (a sandboxed executor may work in a child process). */
  int guessed = 0, gerr = ENOENT;
  for (long p = vpid; p < vpid + 16; ++p)
    for (int n = 0; n < 16; ++n) {
      snprintf(path, sizeof path, "/dev/shm/jitlink_%ld_%d", p, n);
      struct stat st;
      if (stat(path, &st) == 0) {
        add_name(path + strlen("/dev/shm/"));
        ++guessed;
      } else if (errno != ENOENT) {
        gerr = errno;
      }
    }
  /* The victim's own names, seen in its maps, that do not follow the
     pattern show that they cannot be guessed, sandbox or not. */
  int patterned = 0;
  for (int i = 0; i < n_victim; ++i) {
    long p;
    int n, end = 0;
    if (sscanf(victim_names[i], "jitlink_%ld_%d%n", &p, &n, &end) == 2 &&
        victim_names[i][end] == 0 &&
        strspn(victim_names[i] + 8, "0123456789_") == strlen(victim_names[i] + 8))
      ++patterned;
  }
  if (guessed)
    leaked(chk("shm-guess-name"),
           "%d segment(s) of the victim found by name jitlink_<pid>_<n> (pid %ld and on)",
           guessed, vpid);
  else if (n_victim > 0 && patterned == 0)
    printf("PROBE %s closed the victim's names are not predictable: it maps %s\n",
           chk("shm-guess-name"), victim_names[0]);
  else
    refused(chk("shm-guess-name"), gerr, "no segment named jitlink_<pid>_<n> (pid %ld and on)",
            vpid);

  /* 5. Open what was learnt, read-write, and map it writable. */
  int opened = 0, oerr = 0;
  const char *which = "";
  for (int i = 0; i < n_names; ++i) {
    snprintf(path, sizeof path, "/dev/shm/%s", names[i]);
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      oerr = errno;
      continue;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (p != MAP_FAILED) {
        munmap(p, 4096);
        if (!opened++)
          which = names[i];
      } else {
        oerr = errno;
      }
    }
    close(fd);
  }
  if (opened)
    escaped(chk("shm-open-rw"), "opened and mapped %d segment(s) of another session read-write, "
            "e.g. %s", opened, which);
  else if (n_names == 0)
    refused(chk("shm-open-rw"), 0, "learnt no name to open");
  else
    refused(chk("shm-open-rw"), oerr, "opening %d learnt name(s) read-write", n_names);
  return probe_status;
}
