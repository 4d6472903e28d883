/*
 * One host of a bare token ring in C: the same program as bench/bareRing.ts (read its comment),
 * so that `bench/bare-ring.netns.ts` shows what the machine itself allows and what Node allows.
 * Built by that benchmark with `cc -O2` when a C compiler is present.
 *
 * Usage: bareRing <index> <address,address,...> <broadcast> <port> <size> <window> <seconds>
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_HOSTS 16
#define START_DELAY 1.5

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct sockaddr_in endpoint(const char *address, int port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (inet_pton(AF_INET, address, &a.sin_addr) != 1) {
    fprintf(stderr, "bad address %s\n", address);
    exit(2);
  }
  return a;
}

static int bound(const char *address, int port, int reuse) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  int one = 1;
  struct sockaddr_in a = endpoint(address, port);
  if (reuse) setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) {
    perror("bind");
    exit(1);
  }
  return s;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: bareRing <index> <addresses> <broadcast> <port> <size> <window> <seconds>\n");
    return 2;
  }
  int me = atoi(argv[1]), hosts = 0;
  char *addresses[MAX_HOSTS];
  for (char *a = strtok(argv[2], ","); a != NULL && hosts < MAX_HOSTS; a = strtok(NULL, ",")) addresses[hosts++] = a;
  if (me < 0 || me >= hosts) return 2;
  int port = atoi(argv[4]), size = atoi(argv[5]), window = atoi(argv[6]);
  double seconds = atof(argv[7]);

  int data = bound("0.0.0.0", port, 1), token = bound(addresses[me], port + 1, 0), sender = bound(addresses[me], 0, 0);
  int one = 1, receiveBuffer = 4 * 1024 * 1024;
  setsockopt(sender, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  setsockopt(data, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
  struct sockaddr_in self;
  socklen_t selfLength = sizeof self;
  getsockname(sender, (struct sockaddr *)&self, &selfLength);
  struct sockaddr_in successor = endpoint(addresses[(me + 1) % hosts], port + 1), group = endpoint(argv[3], port);

  char *payload = calloc(1, (size_t)size), bytes[65536], firstToken[16] = {0};
  long received = 0, own = 0, rotations = 0;
  double start = now(), first = 0, last = 0;
  int tokenSent = me != 0;
  struct pollfd fds[2] = {{.fd = data, .events = POLLIN}, {.fd = token, .events = POLLIN}};
  while (now() - start < seconds) {
    if (!tokenSent && now() - start > START_DELAY) {
      sendto(sender, firstToken, sizeof firstToken, 0, (struct sockaddr *)&successor, sizeof successor);
      tokenSent = 1;
    }
    if (poll(fds, 2, 100) <= 0) continue;
    if (fds[0].revents & POLLIN) {
      for (;;) {
        struct sockaddr_in from;
        socklen_t fromLength = sizeof from;
        if (recvfrom(data, bytes, sizeof bytes, MSG_DONTWAIT, (struct sockaddr *)&from, &fromLength) < 0) break;
        /* A broadcast comes back to its sender's host, as it does to a daemon's. */
        if (from.sin_port == self.sin_port && from.sin_addr.s_addr == self.sin_addr.s_addr) {
          own++;
          continue;
        }
        if (received == 0) first = now();
        received++;
        last = now();
      }
    }
    if (fds[1].revents & POLLIN) {
      ssize_t length = recv(token, bytes, sizeof bytes, MSG_DONTWAIT);
      if (length <= 0) continue;
      rotations++;
      if (me == 0)
        for (int i = 0; i < window; i++) sendto(sender, payload, (size_t)size, 0, (struct sockaddr *)&group, sizeof group);
      sendto(sender, bytes, (size_t)length, 0, (struct sockaddr *)&successor, sizeof successor);
    }
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  double cpu = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
               (double)usage.ru_stime.tv_usec / 1e6;
  printf("{\"me\":%d,\"received\":%ld,\"perSecond\":%.0f,\"rotations\":%ld,\"own\":%ld,\"cpuSeconds\":%.3f}\n", me, received,
         last > first ? (double)received / (last - first) : 0.0, rotations, own, cpu);
  return 0;
}
