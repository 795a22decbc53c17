/* slog.c — a syslog client that never blocks (see slog.h). */
#include "slog.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Set once in slog_open, then read-only. */
struct slog {
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;
};

int slog_facility(const char *name)
{
	static const struct {
		const char *name;
		int facility;
	} f[] = {{"auth", LOG_AUTH},	 {"authpriv", LOG_AUTHPRIV}, {"daemon", LOG_DAEMON},
		 {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2},
		 {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},     {"local5", LOG_LOCAL5},
		 {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7}};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(name, f[i].name) == 0)
			return f[i].facility;
	return -1;
}

int slog_open(struct slog **out, const char *path, char *err, size_t errlen)
{
	struct slog *s = calloc(1, sizeof(*s));

	*out = NULL;
	path = path && *path ? path : SLOG_DEFAULT_SOCKET;
	if (!s) {
		util_errf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (strlen(path) >= sizeof(s->addr.sun_path)) {
		util_errf(err, errlen, "%s: syslog socket path too long", path);
		free(s);
		return -ENAMETOOLONG;
	}
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		int e = errno;
		util_errf(err, errlen, "syslog socket: %s", strerror(e));
		free(s);
		return -e;
	}
	s->addr.sun_family = AF_UNIX;
	strcpy(s->addr.sun_path, path);
	s->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	*out = s;
	return 0;
}

int slog_send(struct slog *s, int facility, int severity, const char *msg, size_t len)
{
	char head[64], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	struct iovec iov[2];
	struct msghdr mh = {0};
	size_t hl;

	if (!s)
		return -EBADF;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	hl = (size_t)snprintf(head, sizeof(head), "<%d>%s protocolfs[%d]: ",
			      (facility & LOG_FACMASK) | (severity & LOG_PRIMASK), stamp,
			      (int)getpid());
	iov[0] = (struct iovec){head, hl < sizeof(head) ? hl : sizeof(head) - 1};
	iov[1] = (struct iovec){(void *)msg, len};
	mh.msg_name = &s->addr;
	mh.msg_namelen = s->addrlen;
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	return sendmsg(s->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

void slog_daemon(struct slog *s, int severity, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	int n;

	if (!s)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n > 0)
		slog_send(s, LOG_DAEMON, severity, msg,
			  (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

const char *slog_path(const struct slog *s)
{
	return s->addr.sun_path;
}

void slog_close(struct slog *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}
