// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * stream_sock - read-ahead on the RTSP connection of a stream thread.
 *
 * Why: with RTP interleaved in the RTSP TCP connection, libavformat 5.1
 * reads each RTP packet in three pieces ('$' and channel, the length,
 * then the packet) and its tcp protocol polls the socket before every
 * recv(): about six system calls per RTP packet, some 2500 a second for
 * a 4 Mbit/s camera and most of the CPU a recording costs. libavformat
 * 5.1 has no public hook to put a buffer under the RTSP demuxer's TCP
 * socket (its URLContext is private, and a custom AVIOContext cannot
 * stand in for the rtsp protocol), so recv(), poll() and close() are
 * interposed here, for the threads that ask for it only.
 *
 * How: a thread calls stream__sock_attach() with a buffer; from then on,
 * on that thread only,
 *  - recv(fd, buf, n, 0) with n smaller than the buffer and nothing
 *    buffered reads whatever the socket holds (up to STREAM_SOCK_BUF
 *    bytes) into the buffer, which is then bound to fd; later recv()
 *    calls on fd are served from it until it is empty;
 *  - a recv() on fd with bytes buffered honours MSG_PEEK (nothing taken),
 *    MSG_TRUNC (nothing copied) and MSG_WAITALL (the rest read from the
 *    socket, after the buffered bytes); MSG_OOB and MSG_ERRQUEUE, which
 *    do not read the byte stream, go to the socket;
 *  - poll() answers POLLIN at once for entries on fd that ask for input
 *    while bytes are buffered, and asks the kernel about the others
 *    without waiting (a single entry needs no system call at all);
 *  - close(fd) empties the buffer first, so a descriptor number reused
 *    for another socket never sees the old connection's bytes.
 * Every other call (other threads, other descriptors, other flags, an
 * empty buffer with flags, a request as large as the buffer) goes to the
 * C library as it is: recvfrom(), ppoll() and the close system call are
 * what recv(), poll() and close() do on Linux. Bytes are never lost,
 * duplicated or reordered: the buffer holds bytes of one descriptor, in
 * order, taken from the kernel only when it is empty, and the stream
 * empties it around each connection (stream__sock_reset()). Other calls
 * that read the socket (read(), recvmsg()) would bypass the buffer;
 * libavformat 5.1's tcp protocol reads with recv() only.
 *
 * Once a camera is recording, SO_RCVLOWAT on its socket batches the
 * wake-ups: poll() reports it readable when about STREAM_LOWAT_MS of the
 * stream is queued instead of at every TCP segment, which halves the
 * system calls again for a few tens of milliseconds of delay (end of
 * stream and errors still wake at once; the stall timeout is seconds).
 *
 * Only where verified: the read pattern above is libavformat 5.1's
 * (59.27), a private detail that another release may change, so the
 * read-ahead is used only when the libavformat loaded at run time has the
 * major and minor version it was verified against
 * (stream__sock_verified()); with any other the stream threads read the
 * socket as libavformat does, at a higher CPU cost, and say so once.
 * close() reaches the C library's own close (RTLD_NEXT), keeping its
 * semantics (cancellation point, errno).
 *
 * Threads: the attachment is thread-local; the buffer belongs to the
 * stream and is used by its thread only. tests/unit/stream_sock_test.c.
 */
#include "stream_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <libavformat/avformat.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static __thread struct stream_sock *sock_tls;
static int (*libc_close)(int);
static bool sock_ok;
static pthread_once_t sock_once = PTHREAD_ONCE_INIT;

/* Flags served from the buffer; the others do not read the stream. */
#define SOCK_PASS_FLAGS (MSG_OOB | MSG_ERRQUEUE)

bool stream__sock_verified(unsigned int lavf_version)
{
	return AV_VERSION_MAJOR(lavf_version) == STREAM_SOCK_LAVF_MAJOR &&
	       AV_VERSION_MINOR(lavf_version) == STREAM_SOCK_LAVF_MINOR;
}

/* Before main, while there is one thread: close() may run on any. */
__attribute__((constructor)) static void sock_find_close(void)
{
	libc_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
}

static void sock_init(void)
{
	unsigned int v = avformat_version();

	sock_ok = stream__sock_verified(v) && libc_close;
	if (!sock_ok)
		log_notice("stream: libavformat %u.%u is not the %d.%d the RTSP read-ahead was "
			   "verified against; reading without it (more CPU per camera)",
			   AV_VERSION_MAJOR(v), AV_VERSION_MINOR(v), STREAM_SOCK_LAVF_MAJOR,
			   STREAM_SOCK_LAVF_MINOR);
}

bool stream__sock_usable(void)
{
	pthread_once(&sock_once, sock_init);
	return sock_ok;
}

void stream__sock_reset(struct stream_sock *sk)
{
	sk->fd = -1;
	sk->off = 0;
	sk->len = 0;
	sk->lowat_want = 0;
	sk->lowat_set = 0;
}

void stream__sock_attach(struct stream_sock *sk)
{
	stream__sock_reset(sk);
	sock_tls = sk;
}

void stream__sock_detach(void)
{
	sock_tls = NULL;
}

void stream__sock_lowat(struct stream_sock *sk, uint64_t bitrate_bps)
{
	uint64_t bytes = bitrate_bps / 8 * STREAM_LOWAT_MS / 1000;

	sk->lowat_want = (int)(bytes > STREAM_LOWAT_MAX ? STREAM_LOWAT_MAX : bytes);
}

/* Best effort: a socket that refuses keeps waking at every byte. */
static void sock_apply_lowat(struct stream_sock *sk)
{
	int v = sk->lowat_want > 1 ? sk->lowat_want : 1;

	if (sk->lowat_set == sk->lowat_want)
		return;
	setsockopt(sk->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof(v));
	sk->lowat_set = sk->lowat_want;
}

static bool sock_buffered(const struct stream_sock *sk)
{
	return sk->off < sk->len;
}

/* The buffer is empty: fill it from @fd. */
static ssize_t sock_fill(struct stream_sock *sk, int fd)
{
	ssize_t r = recvfrom(fd, sk->buf, sizeof(sk->buf), 0, NULL, NULL);

	if (r <= 0)
		return r;
	if (sk->fd != fd) {
		sk->lowat_set = 0; /* another socket: not set there */
		sk->fd = fd;
	}
	sk->off = 0;
	sk->len = (size_t)r;
	sock_apply_lowat(sk);
	return r;
}

/* Serve @n bytes from the buffer of @fd; with MSG_WAITALL the rest comes
 * from the socket, after the buffered bytes. */
static ssize_t sock_serve(struct stream_sock *sk, int fd, void *buf, size_t n, int flags)
{
	size_t take = sk->len - sk->off < n ? sk->len - sk->off : n;
	ssize_t more;

	if (!(flags & MSG_TRUNC))
		memcpy(buf, sk->buf + sk->off, take);
	if (!(flags & MSG_PEEK))
		sk->off += take;
	if (take == n || !(flags & MSG_WAITALL))
		return (ssize_t)take;
	more = recvfrom(fd, (uint8_t *)buf + take, n - take, flags, NULL, NULL);
	return (ssize_t)take + (more > 0 ? more : 0);
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	struct stream_sock *sk = sock_tls;
	ssize_t r;

	if (!sk || !n)
		return recvfrom(fd, buf, n, flags, NULL, NULL);
	if (sock_buffered(sk)) {
		if (fd != sk->fd || (flags & SOCK_PASS_FLAGS))
			return recvfrom(fd, buf, n, flags, NULL, NULL);
		return sock_serve(sk, fd, buf, n, flags);
	}
	if (flags || n >= sizeof(sk->buf))
		return recvfrom(fd, buf, n, flags, NULL, NULL);
	r = sock_fill(sk, fd);
	if (r <= 0)
		return r; /* end of stream, or the error in errno */
	return sock_serve(sk, fd, buf, n, 0);
}

static int sock_poll_real(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000 };

	return ppoll(fds, n, timeout_ms < 0 ? NULL : &ts, NULL);
}

/* The input events @p asks for on the buffered socket, or 0. */
static short sock_poll_mine(const struct stream_sock *sk, const struct pollfd *p)
{
	return p->fd == sk->fd ? (short)(p->events & (POLLIN | POLLRDNORM)) : 0;
}

int poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	struct stream_sock *sk = sock_tls;
	nfds_t mine = 0;
	short in = 0;
	int ready;

	if (sk && sock_buffered(sk)) {
		for (nfds_t i = 0; i < n; i++) {
			in = sock_poll_mine(sk, &fds[i]);
			mine += in != 0;
		}
	}
	if (!mine)
		return sock_poll_real(fds, n, timeout_ms);
	if (n == 1) {
		fds[0].revents = in;
		return 1;
	}
	/* Input is ready already: only look at the others, without waiting. */
	ready = sock_poll_real(fds, n, 0);
	if (ready < 0)
		return ready;
	for (nfds_t i = 0; i < n; i++) {
		in = sock_poll_mine(sk, &fds[i]);
		if (!in)
			continue;
		if (!fds[i].revents)
			ready++;
		fds[i].revents |= in;
	}
	return ready;
}

int close(int fd)
{
	struct stream_sock *sk = sock_tls;

	if (sk && fd >= 0 && fd == sk->fd) {
		sk->fd = -1;
		sk->off = 0;
		sk->len = 0;
		sk->lowat_set = 0;
	}
	if (!libc_close) /* no C library close found: the system call */
		return (int)syscall(SYS_close, fd);
	return libc_close(fd);
}
