// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stream_sock_test - the RTSP socket read-ahead (drivers/stream/
 * stream_sock.c) over socketpairs: the bytes a reading thread gets are
 * the bytes sent, each once and in order, whatever the mix of recv()
 * sizes and flags; MSG_PEEK takes nothing; poll() says "readable" when
 * bytes are buffered and asks the kernel otherwise; a closed descriptor
 * whose number comes back is a new socket; threads that did not attach,
 * and other descriptors, see the C library's own recv() and poll().
 *
 * The attachment is per thread: each case attaches the test's thread
 * for its reading (run_attached()), so cmocka's assertions work as usual,
 * and helper threads that did not attach check nothing themselves: they
 * leave their results for the test's thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "drivers/stream/stream_int.h"
#include "lib/log.h"

#define ORDER_BYTES (1u << 20) /* sent in the ordering test */
#define ORDER_WRITE 3000       /* largest write */
#define ORDER_READ  5000       /* largest read */

struct pair {
	int rd; /* the reader's end */
	int wr; /* the peer */
};

static void pair_open(struct pair *p)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p->rd = sv[0];
	p->wr = sv[1];
}

static void pair_close(struct pair *p)
{
	if (p->rd >= 0)
		close(p->rd);
	if (p->wr >= 0)
		close(p->wr);
	p->rd = p->wr = -1;
}

static void send_str(int fd, const char *s)
{
	size_t n = strlen(s);

	assert_int_equal(write(fd, s, n), (ssize_t)n);
}

/* Byte @i of the ordering test's stream: no period a bug could hide in. */
static uint8_t pattern(uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	return (uint8_t)(x ^ (x >> 17) ^ (i >> 8));
}

static uint32_t rnd(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/* @fn runs attached to a read-ahead of its own. */
typedef void (*attached_fn)(struct stream_sock *sk, void *arg);

static void run_attached(attached_fn fn, void *arg)
{
	struct stream_sock *sk = calloc(1, sizeof(*sk));

	assert_non_null(sk);
	stream__sock_attach(sk);
	fn(sk, arg);
	stream__sock_detach();
	free(sk);
}

/* ---- order: nothing lost, duplicated or reordered ---- */

/* Sends the pattern in writes of random sizes; the fd becomes -1 when a
 * write failed (the reader then sees the stream end early). */
static void *order_writer(void *arg)
{
	int *fdp = arg, fd = *fdp;
	uint8_t buf[ORDER_WRITE];
	uint32_t r = 12345;
	uint64_t sent = 0;

	while (sent < ORDER_BYTES) {
		size_t n = 1 + rnd(&r) % ORDER_WRITE;

		if (n > ORDER_BYTES - sent)
			n = ORDER_BYTES - sent;
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(sent + i);
		if (write(fd, buf, n) != (ssize_t)n) {
			*fdp = -1;
			break;
		}
		sent += n;
		if (rnd(&r) % 64 == 0)
			usleep(200); /* let the reader drain the socket now and then */
	}
	close(fd);
	return NULL;
}

static void check_bytes(const uint8_t *buf, size_t n, uint64_t at)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != pattern(at + i))
			fail_msg("byte %llu differs", (unsigned long long)(at + i));
}

/* One read as libavformat does it (poll, then recv), or with a flag. */
static size_t order_step(struct stream_sock *sk, int fd, uint32_t *r, uint64_t at, int *buffered)
{
	uint8_t buf[ORDER_READ], peek[ORDER_READ];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 1 + rnd(r) % ORDER_READ;
	uint32_t how = rnd(r) % 8;
	ssize_t got, seen;

	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_true(p.revents & (POLLIN | POLLHUP));
	if (how == 0) { /* peek, then the same bytes are read */
		seen = recv(fd, peek, n, MSG_PEEK);
		assert_true(seen >= 0);
		got = recv(fd, buf, (size_t)seen > 0 ? (size_t)seen : n, 0);
		assert_true(got >= seen);
		assert_memory_equal(buf, peek, (size_t)seen);
	} else if (how == 1 && at + n <= ORDER_BYTES) { /* all of it or nothing */
		got = recv(fd, buf, n, MSG_WAITALL);
		assert_int_equal(got, (ssize_t)n);
	} else {
		got = recv(fd, buf, n, how == 2 ? MSG_DONTWAIT : 0);
	}
	assert_true(got >= 0);
	check_bytes(buf, (size_t)got, at);
	*buffered += sk->off < sk->len;
	return (size_t)got;
}

static void order_reader(struct stream_sock *sk, void *arg)
{
	int fd = *(int *)arg;
	uint32_t r = 777;
	uint64_t at = 0;
	int buffered = 0;
	size_t got;

	do {
		got = order_step(sk, fd, &r, at, &buffered);
		at += got;
		assert_true(at <= ORDER_BYTES);
	} while (got || at < ORDER_BYTES);
	assert_int_equal(at, ORDER_BYTES);
	/* The read-ahead did work: bytes waited in it between reads. */
	assert_true(buffered > 100);
}

static void test_order(void **state)
{
	struct pair p;
	pthread_t w;

	(void)state;
	pair_open(&p);
	assert_int_equal(pthread_create(&w, NULL, order_writer, &p.wr), 0);
	run_attached(order_reader, &p.rd);
	assert_int_equal(pthread_join(w, NULL), 0);
	assert_true(p.wr >= 0); /* every write went through */
	p.wr = -1;		/* the writer closed it */
	pair_close(&p);
}

/* ---- MSG_PEEK, MSG_WAITALL, MSG_TRUNC, pass-through flags ---- */

static void flags_reader(struct stream_sock *sk, void *arg)
{
	struct pair *p = arg;
	char buf[64];

	/* Nothing buffered: a peek goes to the kernel and takes nothing. */
	send_str(p->wr, "abcdef");
	assert_int_equal(recv(p->rd, buf, 2, MSG_PEEK), 2);
	assert_memory_equal(buf, "ab", 2);
	assert_int_equal(sk->len, 0);
	assert_int_equal(recv(p->rd, buf, 1, 0), 1); /* reads "abcdef" ahead */
	assert_int_equal(buf[0], 'a');
	assert_int_equal(sk->len - sk->off, 5);
	assert_int_equal(recv(p->rd, buf, 3, MSG_PEEK), 3);
	assert_memory_equal(buf, "bcd", 3);
	assert_int_equal(sk->len - sk->off, 5);
	assert_int_equal(recv(p->rd, buf, 3, 0), 3);
	assert_memory_equal(buf, "bcd", 3);
	/* "ef" buffered, "gh" in the kernel: a waiting peek sees all four
	 * in order and takes none; a plain read gets the buffered two. */
	send_str(p->wr, "gh");
	assert_int_equal(recv(p->rd, buf, 4, MSG_PEEK | MSG_WAITALL), 4);
	assert_memory_equal(buf, "efgh", 4);
	assert_int_equal(recv(p->rd, buf, 4, 0), 2);
	assert_memory_equal(buf, "ef", 2);
	assert_int_equal(recv(p->rd, buf, 1, 0), 1);
	assert_int_equal(buf[0], 'g');
	/* "h" buffered: MSG_WAITALL completes from the kernel. */
	send_str(p->wr, "ijk");
	assert_int_equal(recv(p->rd, buf, 4, MSG_WAITALL), 4);
	assert_memory_equal(buf, "hijk", 4);
	/* MSG_TRUNC discards without copying. */
	send_str(p->wr, "lmnop");
	assert_int_equal(recv(p->rd, buf, 1, 0), 1);
	memset(buf, '#', sizeof(buf));
	assert_int_equal(recv(p->rd, buf, 2, MSG_TRUNC), 2);
	assert_int_equal(buf[0], '#');
	assert_int_equal(recv(p->rd, buf, 2, 0), 2);
	assert_memory_equal(buf, "op", 2);
	/* Out-of-band data is not the stream: the kernel answers (none
	 * was sent), the buffer stays as it is. */
	send_str(p->wr, "qrs");
	assert_int_equal(recv(p->rd, buf, 1, 0), 1);
	assert_int_equal(recv(p->rd, buf, 1, MSG_OOB), -1);
	assert_true(errno == EOPNOTSUPP || errno == EINVAL);
	assert_int_equal(recv(p->rd, buf, 8, 0), 2);
	assert_memory_equal(buf, "rs", 2);
	/* Empty: non-blocking and large reads go to the kernel directly. */
	assert_int_equal(recv(p->rd, buf, 8, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(sk->len - sk->off, 0);
}

static void test_flags(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p);
	run_attached(flags_reader, &p);
	pair_close(&p);
}

/* ---- poll() ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void poll_reader(struct stream_sock *sk, void *arg)
{
	struct pair *p = arg, q;
	struct pollfd f[2];
	int64_t t0;
	char buf[16];

	(void)sk;
	pair_open(&q);
	send_str(p->wr, "0123");
	assert_int_equal(recv(p->rd, buf, 1, 0), 1);
	/* Buffered, the kernel queue empty: ready at once, even with a
	 * timeout that would block. */
	f[0] = (struct pollfd){ .fd = p->rd, .events = POLLIN };
	t0 = now_ms();
	assert_int_equal(poll(f, 1, 5000), 1);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(f[0].revents, POLLIN);
	/* Output is asked of the kernel. */
	f[0] = (struct pollfd){ .fd = p->rd, .events = POLLOUT };
	assert_int_equal(poll(f, 1, 0), 1);
	assert_int_equal(f[0].revents, POLLOUT);
	/* With another socket: ours ready, the other as the kernel says. */
	f[0] = (struct pollfd){ .fd = p->rd, .events = POLLIN };
	f[1] = (struct pollfd){ .fd = q.rd, .events = POLLIN };
	t0 = now_ms();
	assert_int_equal(poll(f, 2, 5000), 1);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(f[0].revents, POLLIN);
	assert_int_equal(f[1].revents, 0);
	send_str(q.wr, "x");
	assert_int_equal(poll(f, 2, 0), 2);
	assert_int_equal(f[1].revents, POLLIN);
	assert_int_equal(recv(q.rd, buf, sizeof(buf), 0), 1);
	assert_int_equal(buf[0], 'x');
	/* Drained: the kernel decides again. */
	assert_int_equal(recv(p->rd, buf, sizeof(buf), 0), 3);
	f[0] = (struct pollfd){ .fd = p->rd, .events = POLLIN };
	assert_int_equal(poll(f, 1, 20), 0);
	assert_int_equal(f[0].revents, 0);
	/* End of stream after buffered bytes: they come first, then 0. */
	send_str(p->wr, "45");
	assert_int_equal(recv(p->rd, buf, 1, 0), 1);
	close(p->wr);
	p->wr = -1;
	assert_int_equal(poll(f, 1, 1000), 1);
	assert_int_equal(recv(p->rd, buf, sizeof(buf), 0), 1);
	assert_int_equal(buf[0], '5');
	assert_int_equal(poll(f, 1, 1000), 1);
	assert_true(f[0].revents & (POLLIN | POLLHUP));
	assert_int_equal(recv(p->rd, buf, sizeof(buf), 0), 0);
	pair_close(&q);
}

static void test_poll(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p);
	run_attached(poll_reader, &p);
	pair_close(&p);
}

/* ---- other descriptors, other threads ---- */

struct others {
	struct pair a, b;
	int polled;  /* what poll() said on the thread that did not attach */
	ssize_t got; /* what recv() gave it */
	char buf[16];
};

/* Not attached: the kernel, even for the socket the test's thread has
 * bytes of; it neither sees nor takes them. */
static void *others_thread(void *arg)
{
	struct others *o = arg;
	struct pollfd f = { .fd = o->a.rd, .events = POLLIN };

	o->polled = poll(&f, 1, 0);
	if (write(o->a.wr, "XYZ", 3) == 3)
		o->got = recv(o->a.rd, o->buf, 2, 0);
	return NULL;
}

static void others_reader(struct stream_sock *sk, void *arg)
{
	struct others *o = arg;
	pthread_t t;
	char buf[16];

	send_str(o->a.wr, "0123456789");
	assert_int_equal(recv(o->a.rd, buf, 1, 0), 1);
	assert_int_equal(sk->len - sk->off, 9);
	/* Another socket on this thread: the kernel's bytes, ours kept. */
	send_str(o->b.wr, "bb");
	assert_int_equal(recv(o->b.rd, buf, sizeof(buf), 0), 2);
	assert_memory_equal(buf, "bb", 2);
	assert_int_equal(sk->len - sk->off, 9);
	assert_int_equal(pthread_create(&t, NULL, others_thread, o), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(o->polled, 0);
	assert_int_equal(o->got, 2);
	assert_memory_equal(o->buf, "XY", 2);
	/* Ours, then what the other thread left in the kernel. */
	assert_int_equal(recv(o->a.rd, buf, sizeof(buf), 0), 9);
	assert_memory_equal(buf, "123456789", 9);
	assert_int_equal(recv(o->a.rd, buf, sizeof(buf), 0), 1);
	assert_int_equal(buf[0], 'Z');
}

static void test_other_threads(void **state)
{
	struct others o = { .got = -1 };

	(void)state;
	pair_open(&o.a);
	pair_open(&o.b);
	run_attached(others_reader, &o);
	pair_close(&o.a);
	pair_close(&o.b);
}

/* ---- close(), reset, SO_RCVLOWAT ---- */

static void reuse_reader(struct stream_sock *sk, void *arg)
{
	struct pair *p = arg, q;
	struct pollfd f;
	int num = p->rd, lowat = 0;
	socklen_t len = sizeof(lowat);
	char buf[16];

	send_str(p->wr, "old bytes");
	assert_int_equal(recv(p->rd, buf, 1, 0), 1);
	assert_true(sk->len - sk->off > 0);
	/* Closed with bytes buffered; the number comes back as another
	 * socket, which must not see them. */
	assert_int_equal(close(p->rd), 0);
	p->rd = -1;
	pair_open(&q);
	if (q.wr == num) { /* either end will do */
		q.wr = q.rd;
		q.rd = num;
	} else if (q.rd != num) {
		assert_int_equal(dup2(q.rd, num), num);
		close(q.rd);
		q.rd = num;
	}
	f = (struct pollfd){ .fd = q.rd, .events = POLLIN };
	assert_int_equal(poll(&f, 1, 0), 0);
	send_str(q.wr, "new");
	assert_int_equal(recv(q.rd, buf, sizeof(buf) - 1, 0), 3);
	assert_memory_equal(buf, "new", 3);
	/* A reset forgets buffered bytes (the connection is over). */
	send_str(q.wr, "abc");
	assert_int_equal(recv(q.rd, buf, 1, 0), 1);
	stream__sock_reset(sk);
	send_str(q.wr, "d");
	assert_int_equal(recv(q.rd, buf, sizeof(buf) - 1, 0), 1);
	assert_int_equal(buf[0], 'd');
	/* Wake-up batching: 30 ms of 4 Mbit/s, set at the next fill. */
	stream__sock_lowat(sk, 4000000);
	send_str(q.wr, "e");
	assert_int_equal(recv(q.rd, buf, 1, 0), 1);
	assert_int_equal(getsockopt(q.rd, SOL_SOCKET, SO_RCVLOWAT, &lowat, &len), 0);
	assert_int_equal(lowat, 4000000 / 8 * STREAM_LOWAT_MS / 1000);
	stream__sock_lowat(sk, 1000000000);
	assert_int_equal(sk->lowat_want, STREAM_LOWAT_MAX);
	pair_close(&q);
}

static void test_close_reuse(void **state)
{
	struct pair p;

	(void)state;
	pair_open(&p);
	run_attached(reuse_reader, &p);
	pair_close(&p);
}

/* The read-ahead is used only with the libavformat it was verified
 * against: this build's (Debian 12), and no other major or minor. */
static void test_version_gate(void **state)
{
	(void)state;
	assert_true(stream__sock_verified(AV_VERSION_INT(59, 27, 100)));
	assert_true(stream__sock_verified(AV_VERSION_INT(59, 27, 0)));
	assert_false(stream__sock_verified(AV_VERSION_INT(59, 28, 100)));
	assert_false(stream__sock_verified(AV_VERSION_INT(59, 26, 100)));
	assert_false(stream__sock_verified(AV_VERSION_INT(60, 3, 100)));
	assert_false(stream__sock_verified(AV_VERSION_INT(61, 1, 100)));
	/* What is loaded here is what the build was made with. */
	assert_int_equal(stream__sock_usable(), stream__sock_verified(avformat_version()));
	assert_int_equal(stream__sock_usable(),
			 LIBAVFORMAT_VERSION_MAJOR == STREAM_SOCK_LAVF_MAJOR &&
				 LIBAVFORMAT_VERSION_MINOR == STREAM_SOCK_LAVF_MINOR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),	    cmocka_unit_test(test_flags),
		cmocka_unit_test(test_poll),	    cmocka_unit_test(test_other_threads),
		cmocka_unit_test(test_close_reuse), cmocka_unit_test(test_version_gate),
	};

	log_init("stream_sock_test", false, LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
