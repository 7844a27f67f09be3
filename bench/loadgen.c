/*
 * tether-loadgen: a native WebSocket load generator (epoll, one thread), so that the
 * generator is never what limits a benchmark of a fast server.
 *
 *   loadgen echo      --port P [--conns N] [--size S] [--depth D] [--seconds T] [--binary]
 *                     [--raw] [--frame-file F] [--extensions "permessage-deflate; ..."] [--path /x]
 *   loadgen handshake --port P [--conns K] [--seconds T]
 *   loadgen echo      --realtime --port P [--conns N] [--size S] [--depth D] [--seconds T]
 *   loadgen broadcast --port P [--pub-port Q] [--ports P1,P2,...] [--subs N] [--size S] [--window W]
 *                     [--seconds T] [--socketio | --realtime [--msgpack]]
 *   loadgen idle      --port P [--conns N] [--socketio | --realtime [--msgpack]]
 *                     (prints "ready" once every connection is open, holds until stdin closes)
 *
 * Broadcast with --realtime speaks Tether's realtime protocol (tether.v1, JSON or with --msgpack
 * MessagePack): every connection sends Connect and waits for Connected, subscribers then Subscribe
 * to the topic "bench" and wait for the Reply; the publisher publishes and its Replies are read.
 * Only Publication messages count as deliveries. --pub-port connects the publisher to another
 * port (another server node) than the subscribers (default: the same port). --ports spreads the
 * subscribers over several nodes, round robin, the first subscriber (the one the publisher's
 * window follows) on the last port, so the window waits for the farthest node.
 *
 * Echo with --realtime: every connection sends Connect, then keeps --depth requests
 * [6, id, "echo", data] in flight; each Reply counts as one message (the server must answer
 * the method "echo" with its data).
 *
 * Idle with --realtime: every connection sends Connect, then Subscribes to "room<i % 100>" and
 * waits for the Reply; with --socketio: every connection completes the engine.io/socket.io
 * connect and emits "join" for "room<i % 100>". Then all stay idle.
 *
 * Prints one JSON line: messages (or handshakes) per second, latency percentiles (echo),
 * and the generator's own CPU share. Loopback only: it connects to 127.0.0.1.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { ST_CONNECTING, ST_HANDSHAKE, ST_SIO_OPEN, ST_SIO_CONNECT, ST_RT_CONNECT, ST_RT_SUBSCRIBE, ST_OPEN, ST_CLOSING };
enum { RT_CONNECT = 0, RT_CONNECTED = 1, RT_SUBSCRIBE = 2, RT_PUBLISH = 4, RT_REQUEST = 6, RT_REPLY = 7, RT_ERROR = 8, RT_PUBLICATION = 12 }; /* tether.v1 types */
enum { ROLE_ECHO, ROLE_SUB, ROLE_PUB, ROLE_SHAKE, ROLE_IDLE };

typedef struct {
  int fd, state, role, slot;
  unsigned char *in; size_t inlen, incap;
  unsigned char *out; size_t outlen, outcap;
  uint64_t *sent; int head, count; /* send timestamps, FIFO, for latency */
  size_t rawpending;                /* raw mode: bytes of the current reply still expected */
  uint32_t next_id;                 /* realtime echo: the last request id */
} conn;

static int port = 0, nconns = 100, msgsize = 16, depth = 1, seconds = 5, binary = 0, raw = 0, socketio = 0, window_ = 16;
static int realtime = 0, rt_msgpack = 0, pub_port = 0;
static int sub_ports[16]; static int nsub_ports = 0; /* --ports */
static const char *path = "/";
static const char *extensions = NULL; /* Sec-WebSocket-Extensions to offer */
static const char *mode = "echo";
static unsigned char *frame; static size_t framelen; static size_t replysize; /* raw: reply bytes per message */
static int ep;
static uint64_t delivered = 0, measured_from = 0, done_handshakes = 0;
static int measuring = 0;
static uint32_t *lat; static size_t nlat = 0, latcap = 4u << 20;
static conn **conns; static int total_conns = 0;
static uint64_t pub_sent = 0, sub0_received = 0, pub_acked = 0;
static unsigned char pubframe[65536 + 16]; static size_t pubframelen;
static unsigned char *payload;

static uint64_t now_us(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (uint64_t)t.tv_sec * 1000000u + t.tv_nsec / 1000u; }
static void die(const char *m) { perror(m); exit(1); }

static void outq(conn *c, const void *p, size_t n) {
  if (c->outlen + n > c->outcap) { c->outcap = (c->outlen + n) * 2; c->out = realloc(c->out, c->outcap); }
  memcpy(c->out + c->outlen, p, n); c->outlen += n;
}

static void flush_out(conn *c) {
  while (c->outlen > 0) {
    ssize_t w = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
    if (w < 0) { if (errno == EAGAIN) break; c->outlen = 0; return; }
    memmove(c->out, c->out + w, c->outlen - w); c->outlen -= w;
  }
  struct epoll_event ev = { .events = EPOLLIN | (c->outlen ? EPOLLOUT : 0), .data.ptr = c };
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* A masked client frame (fixed key: the server must unmask it; randomness is not measured). */
static size_t build_frame(unsigned char *dst, int opcode, const unsigned char *payload, size_t n) {
  static const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };
  size_t h = 0; dst[h++] = 0x80 | opcode;
  if (n < 126) dst[h++] = 0x80 | n;
  else if (n < 65536) { dst[h++] = 0x80 | 126; dst[h++] = n >> 8; dst[h++] = n & 0xff; }
  else { dst[h++] = 0x80 | 127; for (int i = 7; i >= 0; i--) dst[h++] = (i >= 4) ? 0 : (n >> (8 * i)) & 0xff; }
  memcpy(dst + h, key, 4); h += 4;
  for (size_t i = 0; i < n; i++) dst[h + i] = payload[i] ^ key[i & 3];
  return h + n;
}

static void send_text(conn *c, const char *s) { unsigned char b[256]; outq(c, b, build_frame(b, 1, (const unsigned char *)s, strlen(s))); }

/* MessagePack: a non-negative integer, and a string (header then bytes). */
static size_t mp_uint(unsigned char *d, uint32_t v) {
  if (v < 128) { d[0] = v; return 1; }
  d[0] = 0xce; d[1] = v >> 24; d[2] = v >> 16; d[3] = v >> 8; d[4] = v; return 5;
}
static size_t mp_str(unsigned char *d, const unsigned char *s, size_t n) {
  size_t h = 0;
  if (n < 32) d[h++] = 0xa0 | n;
  else if (n < 256) { d[h++] = 0xd9; d[h++] = n; }
  else { d[h++] = 0xda; d[h++] = n >> 8; d[h++] = n & 0xff; }
  memcpy(d + h, s, n); return h + n;
}

/* A masked realtime client frame: Connect [0, "bench", {}], Subscribe [2, id, topic, {}] or
 * Publish [4, id, topic, data, {}] (topic: "bench" unless given; data: ASCII letters, so JSON
 * needs no escaping). */
static size_t rt_frame_to(unsigned char *dst, int type, uint32_t id, const char *topic, const unsigned char *data, size_t n) {
  static unsigned char body[65536 + 64]; size_t k = 0;
  if (type == RT_CONNECT) topic = "bench"; /* the token */
  if (rt_msgpack) {
    body[k++] = 0x90 | (3 + (type != RT_CONNECT) + (data != NULL));
    k += mp_uint(body + k, type);
    if (type != RT_CONNECT) k += mp_uint(body + k, id);
    k += mp_str(body + k, (const unsigned char *)topic, strlen(topic));
    if (data) k += mp_str(body + k, data, n);
    if (type != RT_REQUEST) body[k++] = 0x80; else body[0]--;
  } else {
    k = sprintf((char *)body, "[%d,", type);
    if (type != RT_CONNECT) k += sprintf((char *)body + k, "%u,", id);
    k += sprintf((char *)body + k, "\"%s\",", topic);
    if (data) { body[k++] = '"'; memcpy(body + k, data, n); k += n; body[k++] = '"'; body[k++] = ','; }
    if (type == RT_REQUEST) body[k - 1] = ']'; /* [6, id, method, data]: no options */
    else k += sprintf((char *)body + k, "{}]");
  }
  return build_frame(dst, rt_msgpack ? 2 : 1, body, k);
}
static size_t rt_frame(unsigned char *dst, int type, uint32_t id, const unsigned char *data, size_t n) {
  return rt_frame_to(dst, type, id, "bench", data, n);
}

/* Idle connections spread over 100 topics / rooms: "room<slot % 100>". */
static const char *idle_room(conn *c) { static char t[16]; snprintf(t, sizeof t, "room%d", c->slot % 100); return t; }

static void send_rt(conn *c, int type) {
  unsigned char b[128];
  outq(c, b, rt_frame_to(b, type, 1, c->role == ROLE_IDLE ? idle_room(c) : "bench", NULL, 0));
}

/* The type of a realtime server message (its array's first element), or -1. */
static int rt_type(const unsigned char *p, size_t n) {
  if (rt_msgpack) return n >= 2 && (p[0] & 0xf0) == 0x90 && p[1] < 0x80 ? p[1] : -1;
  size_t i = 1; int t = 0;
  if (n < 3 || p[0] != '[') return -1;
  for (; i < n && p[i] >= '0' && p[i] <= '9' && i < 4; i++) t = t * 10 + (p[i] - '0');
  return i > 1 && i < n && p[i] == ',' ? t : -1;
}

static void record_latency(conn *c) {
  if (c->count == 0) return;
  uint64_t t0 = c->sent[c->head]; c->head = (c->head + 1) % (depth > 0 ? depth : 1); c->count--;
  if (measuring && nlat < latcap) lat[nlat++] = (uint32_t)(now_us() - t0);
}

static size_t rt_frame_to(unsigned char *dst, int type, uint32_t id, const char *topic, const unsigned char *data, size_t n);

static void send_echo(conn *c) {
  if (realtime) {
    static unsigned char b[65536 + 128];
    c->next_id = c->next_id % 2147483647u + 1;
    outq(c, b, rt_frame_to(b, RT_REQUEST, c->next_id, "echo", payload, msgsize));
  } else outq(c, frame, framelen);
  int tail = (c->head + c->count) % depth; c->sent[tail] = now_us(); c->count++;
}

static void start_conn(conn *c);

static void on_message(conn *c, int opcode, const unsigned char *p, size_t n) {
  if (socketio && opcode == 1) {
    if (n == 1 && p[0] == '2') { send_text(c, "3"); return; } /* engine.io ping */
    if (c->state == ST_SIO_OPEN && n > 0 && p[0] == '0') { send_text(c, "40"); c->state = ST_SIO_CONNECT; return; }
    if (c->state == ST_SIO_CONNECT && n >= 2 && p[0] == '4' && p[1] == '0') {
      c->state = ST_OPEN;
      if (c->role == ROLE_SUB) send_text(c, "42[\"join\",\"bench\"]");
      else if (c->role == ROLE_IDLE) { char j[48]; snprintf(j, sizeof j, "42[\"join\",\"%s\"]", idle_room(c)); send_text(c, j); }
      return;
    }
  }
  if (realtime) {
    int type = rt_type(p, n);
    if (type == RT_ERROR) { fprintf(stderr, "realtime error from the server: %.*s\n", (int)(n < 200 ? n : 200), p); exit(1); }
    if (c->state == ST_RT_CONNECT && type == RT_CONNECTED) {
      if (c->role == ROLE_SUB || c->role == ROLE_IDLE) { send_rt(c, RT_SUBSCRIBE); c->state = ST_RT_SUBSCRIBE; }
      else c->state = ST_OPEN;
      if (c->role == ROLE_ECHO) for (int i = 0; i < depth; i++) send_echo(c);
      return;
    }
    if (c->role == ROLE_ECHO && type == RT_REPLY) {
      if (c->state != ST_OPEN) return;
      if (measuring) delivered++;
      record_latency(c);
      send_echo(c);
      return;
    }
    if (c->state == ST_RT_SUBSCRIBE && type == RT_REPLY) { c->state = ST_OPEN; return; }
    if (c->role == ROLE_PUB && type == RT_REPLY) { pub_acked++; return; }
    if (type != RT_PUBLICATION) return;
  }
  if (c->state != ST_OPEN) return;
  if (c->role == ROLE_ECHO) {
    if (measuring) delivered++;
    record_latency(c);
    send_echo(c);
  } else if (c->role == ROLE_SUB) {
    if (measuring) delivered++;
    if (c->slot == 0) sub0_received++;
  }
}

/* Parses server frames from c->in; returns 0 when the connection must be dropped. */
static int parse_frames(conn *c) {
  size_t pos = 0;
  while (c->inlen - pos >= 2) {
    unsigned char *b = c->in + pos;
    uint64_t n = b[1] & 0x7f; size_t h = 2;
    if (n == 126) { if (c->inlen - pos < 4) break; n = (b[2] << 8) | b[3]; h = 4; }
    else if (n == 127) { if (c->inlen - pos < 10) break; n = 0; for (int i = 2; i < 10; i++) n = (n << 8) | b[i]; h = 10; }
    if (c->inlen - pos < h + n) break;
    int opcode = b[0] & 0x0f, fin = b[0] & 0x80;
    if (opcode == 8) { c->inlen = 0; return 0; }
    if (fin && opcode != 9 && opcode != 10) on_message(c, opcode ? opcode : 2, b + h, n);
    pos += h + n;
  }
  memmove(c->in, c->in + pos, c->inlen - pos); c->inlen -= pos;
  return 1;
}

static void begin_open(conn *c) {
  if (socketio) { c->state = ST_SIO_OPEN; return; }
  if (realtime) { send_rt(c, RT_CONNECT); c->state = ST_RT_CONNECT; return; }
  c->state = ST_OPEN;
  if (c->role == ROLE_ECHO) for (int i = 0; i < depth; i++) send_echo(c);
  else if (c->role == ROLE_SHAKE) {
    unsigned char b[16]; unsigned char code[2] = { 0x03, 0xe8 };
    outq(c, b, build_frame(b, 8, code, 2)); c->state = ST_CLOSING;
  }
}

static void drop(conn *c, int reconnect) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd); c->fd = -1; c->inlen = c->outlen = 0; c->count = 0; c->head = 0;
  if (reconnect) start_conn(c);
}

static void on_readable(conn *c) {
  for (;;) {
    if (c->incap - c->inlen < 65536) { c->incap = c->inlen + 262144; c->in = realloc(c->in, c->incap); }
    ssize_t r = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
    if (r == 0) {
      if (c->role == ROLE_SHAKE && c->state == ST_CLOSING) { if (measuring) done_handshakes++; drop(c, 1); return; }
      fprintf(stderr, "connection closed by server\n"); drop(c, c->role == ROLE_SHAKE); return;
    }
    if (r < 0) { if (errno == EAGAIN) break; drop(c, c->role == ROLE_SHAKE); return; }
    c->inlen += r;
    if (raw) {
      size_t got = c->inlen; c->inlen = 0;
      while (got > 0) {
        size_t take = got < c->rawpending ? got : c->rawpending;
        c->rawpending -= take; got -= take;
        if (c->rawpending == 0) { c->rawpending = replysize; if (measuring) delivered++; record_latency(c); send_echo(c); }
      }
      continue;
    }
    if (c->state == ST_HANDSHAKE) {
      unsigned char *e = memmem(c->in, c->inlen, "\r\n\r\n", 4);
      if (!e) continue;
      if (memcmp(c->in, "HTTP/1.1 101", 12) != 0) { fprintf(stderr, "handshake refused: %.40s\n", c->in); exit(1); }
      size_t hl = e + 4 - c->in;
      if (realtime && !memmem(c->in, hl, rt_msgpack ? "tether.v1.msgpack" : "tether.v1.json", rt_msgpack ? 17 : 14)) {
        fprintf(stderr, "the server did not select the realtime subprotocol\n"); exit(1);
      }
      memmove(c->in, c->in + hl, c->inlen - hl); c->inlen -= hl;
      begin_open(c);
    }
    if (c->state == ST_CLOSING) { c->inlen = 0; continue; } /* wait for the server to close */
    if (!parse_frames(c)) { drop(c, 0); return; }
  }
  if (c->outlen) flush_out(c);
}

static int src_ip_index = 0;

/* The port a connection goes to: the publisher's, or its share of --ports (slot 0 on the last). */
static int conn_port(conn *c) {
  if (c->role == ROLE_PUB && pub_port) return pub_port;
  if (c->role == ROLE_SUB && nsub_ports > 0) return sub_ports[(c->slot + nsub_ports - 1) % nsub_ports];
  return port;
}

static void start_conn(conn *c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  /* Spread source addresses over 127.0.0.0/8 so that many short connections do not run out of ports. */
  struct sockaddr_in src = { .sin_family = AF_INET, .sin_port = 0 };
  src.sin_addr.s_addr = htonl(0x7f000000 | (2 + (src_ip_index++ % 200)));
  if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) die("bind");
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(conn_port(c)) };
  a.sin_addr.s_addr = htonl(0x7f000001);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) die("connect");
  c->fd = fd; c->state = ST_CONNECTING; c->rawpending = replysize;
  struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void on_connected(conn *c) {
  int err = 0; socklen_t l = sizeof err; getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
  if (err) { errno = err; die("connect"); }
  if (raw) { c->state = ST_OPEN; for (int i = 0; i < depth; i++) send_echo(c); flush_out(c); return; }
  char req[768];
  const char *p = c->role == ROLE_SUB ? (socketio ? "/socket.io/?EIO=4&transport=websocket" : "/sub")
                : c->role == ROLE_PUB ? (socketio ? "/socket.io/?EIO=4&transport=websocket" : "/pub")
                : (socketio ? "/socket.io/?EIO=4&transport=websocket" : path);
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s%s%s%s\r\n", p,
                   conn_port(c),
                   extensions ? "Sec-WebSocket-Extensions: " : "", extensions ? extensions : "", extensions ? "\r\n" : "",
                   !realtime ? "" : rt_msgpack ? "Sec-WebSocket-Protocol: tether.v1.msgpack\r\n" : "Sec-WebSocket-Protocol: tether.v1.json\r\n");
  c->state = ST_HANDSHAKE; outq(c, req, n); flush_out(c);
}

static conn *new_conn(int role, int slot) {
  conn *c = calloc(1, sizeof *c); c->role = role; c->slot = slot;
  c->sent = calloc(depth > 0 ? depth : 1, sizeof(uint64_t));
  conns[total_conns++] = c; start_conn(c); return c;
}

static void publish(conn *pub) {
  while (pub->state == ST_OPEN && pub_sent - sub0_received < (uint64_t)window_) {
    /* Realtime publishes are requests: each has its own id (1 .. 2^31 - 1, wrapping). */
    if (realtime) pubframelen = rt_frame(pubframe, RT_PUBLISH, (uint32_t)(pub_sent % 2147483647u) + 1, payload, msgsize);
    outq(pub, pubframe, pubframelen); pub_sent++;
  }
  if (pub->outlen) flush_out(pub);
}

static void run_loop(uint64_t until, conn *pub) {
  struct epoll_event evs[512];
  while (now_us() < until) {
    int n = epoll_wait(ep, evs, 512, 10);
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (c->fd < 0) continue;
      if (c->state == ST_CONNECTING && (evs[i].events & (EPOLLOUT | EPOLLERR))) { on_connected(c); continue; }
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_readable(c);
      if (c->fd >= 0 && (evs[i].events & EPOLLOUT)) flush_out(c);
    }
    if (pub) publish(pub);
  }
}

static int all_open(void) { for (int i = 0; i < total_conns; i++) if (conns[i]->state != ST_OPEN) return 0; return 1; }

static int cmp32(const void *a, const void *b) { uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: loadgen echo|handshake|broadcast|idle --port P ...\n"); return 2; }
  mode = argv[1];
  const char *framefile = NULL;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i]; const char *v = i + 1 < argc ? argv[i + 1] : "0";
    if (!strcmp(a, "--port")) port = atoi(v), i++;
    else if (!strcmp(a, "--pub-port")) pub_port = atoi(v), i++;
    else if (!strcmp(a, "--ports")) {
      for (char *t = strtok(strdup(v), ","); t && nsub_ports < 16; t = strtok(NULL, ",")) sub_ports[nsub_ports++] = atoi(t);
      i++;
    }
    else if (!strcmp(a, "--conns") || !strcmp(a, "--subs")) nconns = atoi(v), i++;
    else if (!strcmp(a, "--size")) msgsize = atoi(v), i++;
    else if (!strcmp(a, "--depth")) depth = atoi(v), i++;
    else if (!strcmp(a, "--seconds")) seconds = atoi(v), i++;
    else if (!strcmp(a, "--window")) window_ = atoi(v), i++;
    else if (!strcmp(a, "--path")) path = v, i++;
    else if (!strcmp(a, "--frame-file")) framefile = v, i++;
    else if (!strcmp(a, "--extensions")) extensions = v, i++;
    else if (!strcmp(a, "--reply-size")) replysize = atoi(v), i++;
    else if (!strcmp(a, "--binary")) binary = 1;
    else if (!strcmp(a, "--raw")) raw = 1;
    else if (!strcmp(a, "--socketio")) socketio = 1;
    else if (!strcmp(a, "--realtime")) realtime = 1;
    else if (!strcmp(a, "--msgpack")) rt_msgpack = 1;
    else { fprintf(stderr, "unknown flag %s\n", a); return 2; }
  }
  if (!port) { fprintf(stderr, "--port is required\n"); return 2; }
  if (realtime && (socketio || raw || !strcmp(mode, "handshake") || msgsize > 65000)) { fprintf(stderr, "--realtime is for echo, broadcast and idle, without --socketio or --raw, up to 65000 bytes\n"); return 2; }
  if ((pub_port || nsub_ports) && strcmp(mode, "broadcast") != 0) { fprintf(stderr, "--pub-port and --ports are for broadcast\n"); return 2; }
  struct rlimit rl = { 65536, 65536 }; setrlimit(RLIMIT_NOFILE, &rl);
  ep = epoll_create1(0);
  conns = calloc(nconns + 2, sizeof *conns);
  lat = malloc(latcap * sizeof *lat);
  payload = malloc(msgsize + 1);
  for (int i = 0; i < msgsize; i++) payload[i] = 'a' + i % 26;
  frame = malloc(msgsize + 16);
  if (framefile) { /* a prepared frame, e.g. a compressed one */
    FILE *f = fopen(framefile, "rb"); if (!f) die("frame-file");
    frame = realloc(frame, 1 << 20); framelen = fread(frame, 1, 1 << 20, f); fclose(f);
  } else if (raw) { memcpy(frame, payload, msgsize); framelen = msgsize; replysize = msgsize; }
  else framelen = build_frame(frame, binary ? 2 : 1, payload, msgsize);

  conn *pub = NULL;
  if (!strcmp(mode, "echo")) for (int i = 0; i < nconns; i++) new_conn(ROLE_ECHO, i);
  else if (!strcmp(mode, "handshake")) { depth = 1; for (int i = 0; i < nconns; i++) new_conn(ROLE_SHAKE, i); }
  else if (!strcmp(mode, "idle")) for (int i = 0; i < nconns; i++) new_conn(ROLE_IDLE, i);
  else if (!strcmp(mode, "broadcast")) {
    /* Subscribers are started in the connect loop below, at most 256 still setting up at once:
     * thousands of simultaneous SYNs overflow the servers' accept queues (SYN cookies, then
     * retransmissions backing off for seconds). */
    if (socketio) {
      char body[65536 + 64]; int n = snprintf(body, sizeof body, "42[\"pub\",\"%.*s\"]", msgsize, (char *)payload);
      pubframelen = build_frame(pubframe, 1, (unsigned char *)body, n);
    } else pubframelen = build_frame(pubframe, binary ? 2 : 1, payload, msgsize);
  } else { fprintf(stderr, "unknown mode %s\n", mode); return 2; }

  /* Connect everything first (not measured). */
  uint64_t deadline = now_us() + 150000000u; /* 10,000 realtime sessions through brokers on one shared core take a while */
  if (strcmp(mode, "handshake") != 0) {
    int broadcast = !strcmp(mode, "broadcast"), started = 0;
    while (broadcast ? started < nconns || !all_open() : !all_open()) {
      if (now_us() > deadline) { fprintf(stderr, "timed out connecting\n"); return 1; }
      if (broadcast) {
        int open = 0; for (int i = 0; i < total_conns; i++) open += conns[i]->state == ST_OPEN;
        while (started < nconns && started - open < 256) { new_conn(ROLE_SUB, started); started++; }
      }
      run_loop(now_us() + 20000, NULL);
    }
    if (!strcmp(mode, "broadcast")) {
      /* Give subscribers (socket.io joins) a moment, then connect the publisher. */
      run_loop(now_us() + 300000, NULL);
      pub = new_conn(ROLE_PUB, -1);
      while (pub->state != ST_OPEN) run_loop(now_us() + 20000, NULL);
    }
  }
  if (!strcmp(mode, "idle")) {
    /* socket.io's join is not acknowledged: let the server take the joins before "ready". */
    if (socketio) run_loop(now_us() + 300000, NULL);
    printf("ready\n"); fflush(stdout);
    char buf[16]; while (read(0, buf, sizeof buf) > 0) {}
    return 0;
  }
  run_loop(now_us() + 500000, pub); /* warm-up */
  struct rusage r0, r1; getrusage(RUSAGE_SELF, &r0);
  measuring = 1; measured_from = now_us();
  run_loop(measured_from + (uint64_t)seconds * 1000000u, pub);
  measuring = 0;
  uint64_t elapsed = now_us() - measured_from;
  getrusage(RUSAGE_SELF, &r1);
  if (realtime && !strcmp(mode, "broadcast")) {
    fprintf(stderr, "realtime: %llu published, %llu acknowledged (warm-up included)\n", (unsigned long long)pub_sent, (unsigned long long)pub_acked);
    if (pub_acked == 0) { fprintf(stderr, "the server acknowledged no publish\n"); return 1; }
  }
  double cpu = ((r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) + (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec)) * 1e6 +
               (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
  double secs = elapsed / 1e6;
  uint64_t count = !strcmp(mode, "handshake") ? done_handshakes : delivered;
  uint32_t p50 = 0, p99 = 0;
  if (nlat > 0) { qsort(lat, nlat, sizeof *lat, cmp32); p50 = lat[nlat / 2]; p99 = lat[(size_t)(nlat * 0.99)]; }
  printf("{\"mode\":\"%s\",\"count\":%llu,\"seconds\":%.3f,\"rate\":%.1f,\"p50_us\":%u,\"p99_us\":%u,\"loadgen_cpu\":%.3f}\n",
         mode, (unsigned long long)count, secs, count / secs, p50, p99, cpu / elapsed);
  return 0;
}
