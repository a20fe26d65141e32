/* Thread hand-off cost on this machine: two threads pass a token back and forth through eventfds,
 * each waiting in epoll_wait as the gateway's loops do. Prints the mean round trip in microseconds.
 * A round trip is two hand-offs to a sleeping thread.   usage: handoff [round-trips] */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int to_main, to_peer, main_epoll, peer_epoll;
static long rounds = 20000;

static void wait_on(int epoll, int fd) {
    struct epoll_event event;
    uint64_t value;
    while (epoll_wait(epoll, &event, 1, -1) != 1) {}
    if (read(fd, &value, sizeof value) != sizeof value) abort();
}

static void post(int fd) {
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) != sizeof one) abort();
}

static void *peer(void *unused) {
    (void)unused;
    for (long i = 0; i < rounds; i++) { wait_on(peer_epoll, to_peer); post(to_main); }
    return NULL;
}

static int watch(int fd) {
    int epoll = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN};
    if (epoll < 0 || epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) abort();
    return epoll;
}

int main(int argc, char **argv) {
    if (argc > 1) rounds = atol(argv[1]);
    to_main = eventfd(0, EFD_NONBLOCK);
    to_peer = eventfd(0, EFD_NONBLOCK);
    main_epoll = watch(to_main);
    peer_epoll = watch(to_peer);
    pthread_t thread;
    pthread_create(&thread, NULL, peer, NULL);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < rounds; i++) { post(to_peer); wait_on(main_epoll, to_main); }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(thread, NULL);
    double us = ((end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec)) / 1e3 / rounds;
    printf("%.1f\n", us);
    return 0;
}
