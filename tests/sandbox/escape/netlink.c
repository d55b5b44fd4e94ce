/* Netlink: reconfiguring and reading the host's network and audit state.
 *
 * Usage: netlink MODE IFINDEX PORT
 *
 * IFINDEX is a host interface other than lo (its default route's), PORT a
 * TCP port the test listens on. Each check judges by content, so a private
 * network namespace (where the same calls succeed on an empty copy) counts
 * as refused: RTM_NEWLINK must reach interface IFINDEX, the route dump must
 * show a route through an interface other than lo, the socket dump must
 * show the test's listener, a uevent must arrive (the test triggers them
 * while this probe runs).
 *
 * Checks: nl-newlink, nl-audit-status, nl-route-dump, nl-sock-diag,
 * nl-uevent. */
#include "probe.h"

#include <linux/audit.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

static char buf[1 << 16] __attribute__((aligned(8)));

static int nl_open(int proto) {
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
  if (s < 0)
    return -1;
  struct timeval tv = {2, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return s;
}

/* Sends the request of LEN bytes at REQ; returns 0 or -1 with errno. */
static int nl_send(int s, void *req, size_t len) {
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  return sendto(s, req, len, 0, (struct sockaddr *)&to, sizeof to) < 0 ? -1 : 0;
}

/* Calls F on each message of a reply until NLMSG_DONE or an error; returns
   0, or the (positive) errno of an NLMSG_ERROR / recv failure. */
static int nl_walk(int s, int (*f)(struct nlmsghdr *, void *), void *ctx) {
  for (;;) {
    ssize_t n = recv(s, buf, sizeof buf, 0);
    if (n < 0)
      return errno;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE)
        return 0;
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = NLMSG_DATA(h);
        return -e->error;
      }
      if (f && f(h, ctx))
        return 0;
    }
  }
}

static int route_oif(struct nlmsghdr *h, void *ctx) {
  if (h->nlmsg_type != RTM_NEWROUTE)
    return 0;
  struct rtmsg *r = NLMSG_DATA(h);
  int len = RTM_PAYLOAD(h);
  for (struct rtattr *a = RTM_RTA(r); RTA_OK(a, len); a = RTA_NEXT(a, len))
    if (a->rta_type == RTA_OIF && *(int *)RTA_DATA(a) != 1) {
      *(int *)ctx = *(int *)RTA_DATA(a);
      return 1;
    }
  return 0;
}

static int diag_port(struct nlmsghdr *h, void *ctx) {
  if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
    return 0;
  struct inet_diag_msg *m = NLMSG_DATA(h);
  int *port = ctx;
  if (ntohs(m->id.idiag_sport) == *port) {
    *port = -1;
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  probe_init(argc, argv);
  if (argc < 4) {
    printf("usage: netlink MODE IFINDEX PORT\n");
    return 64;
  }
  int ifindex = atoi(argv[2]), port = atoi(argv[3]);

  /* A no-op RTM_NEWLINK on a host interface: accepted means the caller
     may reconfigure the host's network. */
  if (!root_only("nl-newlink", "CAP_NET_ADMIN")) {
    int s = nl_open(NETLINK_ROUTE);
    if (s < 0) {
      refused("nl-newlink", errno, "socket(AF_NETLINK, NETLINK_ROUTE)");
    } else {
      struct {
        struct nlmsghdr h;
        struct ifinfomsg i;
      } req = {{sizeof req, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0},
               {.ifi_family = AF_UNSPEC, .ifi_index = ifindex}};
      int e = nl_send(s, &req, sizeof req) ? errno : nl_walk(s, NULL, NULL);
      if (e == 0)
        escaped("nl-newlink", "RTM_NEWLINK on host interface %d accepted", ifindex);
      else
        refused("nl-newlink", e, "RTM_NEWLINK on interface %d", ifindex);
      close(s);
    }
  }

  if (!root_only("nl-audit-status", "CAP_AUDIT_CONTROL")) {
    int s = nl_open(NETLINK_AUDIT);
    if (s < 0) {
      refused("nl-audit-status", errno, "socket(AF_NETLINK, NETLINK_AUDIT)");
    } else {
      struct nlmsghdr req = {sizeof req, AUDIT_GET, NLM_F_REQUEST, 1, 0};
      int got = 0, e = 0;
      if (nl_send(s, &req, sizeof req) != 0) {
        e = errno;
      } else {
        ssize_t n = recv(s, buf, sizeof buf, 0);
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        if (n < 0)
          e = errno;
        else if (NLMSG_OK(h, (size_t)n) && h->nlmsg_type == AUDIT_GET)
          got = 1;
        else if (NLMSG_OK(h, (size_t)n) && h->nlmsg_type == NLMSG_ERROR)
          e = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
      }
      if (got) {
        struct audit_status *st = NLMSG_DATA((struct nlmsghdr *)buf);
        leaked("nl-audit-status", "audit enabled=%u pid=%u backlog=%u", st->enabled, st->pid,
               st->backlog);
      } else {
        refused("nl-audit-status", e, "AUDIT_GET");
      }
      close(s);
    }
  }

  int s = nl_open(NETLINK_ROUTE);
  if (s < 0) {
    refused("nl-route-dump", errno, "socket(AF_NETLINK, NETLINK_ROUTE)");
  } else {
    struct {
      struct nlmsghdr h;
      struct rtmsg r;
    } req = {{sizeof req, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 1, 0},
             {.rtm_family = AF_INET}};
    int oif = 0;
    int e = nl_send(s, &req, sizeof req) ? errno : nl_walk(s, route_oif, &oif);
    if (oif)
      leaked("nl-route-dump", "a host route through interface %d", oif);
    else
      refused("nl-route-dump", e, "no route through a host interface");
    close(s);
  }

  s = nl_open(NETLINK_SOCK_DIAG);
  if (s < 0) {
    refused("nl-sock-diag", errno, "socket(AF_NETLINK, NETLINK_SOCK_DIAG)");
  } else {
    struct {
      struct nlmsghdr h;
      struct inet_diag_req_v2 r;
    } req = {{sizeof req, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0},
             {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0u}};
    int want = port;
    int e = nl_send(s, &req, sizeof req) ? errno : nl_walk(s, diag_port, &want);
    if (want == -1)
      leaked("nl-sock-diag", "the dump lists the test's listener on port %d", port);
    else
      refused("nl-sock-diag", e, "the dump does not list port %d", port);
    close(s);
  }

  s = nl_open(NETLINK_KOBJECT_UEVENT);
  if (s < 0) {
    refused("nl-uevent", errno, "socket(AF_NETLINK, NETLINK_KOBJECT_UEVENT)");
  } else {
    struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_groups = 1};
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) {
      refused("nl-uevent", errno, "subscribing to uevents");
    } else {
      struct pollfd p = {s, POLLIN, 0};
      ssize_t n = poll(&p, 1, 3000) > 0 ? recv(s, buf, sizeof buf - 1, 0) : -1;
      if (n > 0) {
        buf[n] = 0;
        leaked("nl-uevent", "received uevent \"%s\"", buf);
      } else {
        refused("nl-uevent", 0, "subscribed, but no uevent arrived in 3 s");
      }
    }
    close(s);
  }
  return probe_status;
}
