/* slog.h — a syslog client that never blocks (Art. 6: the audit trail shipped to
 * the city's central log; daemon errors where an admin looks).
 *
 * One datagram per message, RFC 3164 framing as glibc's syslog(3) writes it
 * ("<PRI>Mmm dd hh:mm:ss protocolfs[PID]: MESSAGE"), sent with MSG_DONTWAIT to
 * a Unix socket path (default /dev/log) resolved at every send, so a restarted
 * syslog daemon is reached again. glibc's syslog(3) blocks while the socket's
 * queue is full; here a full queue (EAGAIN), a missing socket or a refused
 * send is a failure the caller counts: nothing waits for the syslog daemon.
 * Thread-safe (one socket, sendto is atomic per datagram). */
#ifndef PFS_SLOG_H
#define PFS_SLOG_H

#include <stddef.h>

#define SLOG_DEFAULT_SOCKET "/dev/log"

struct slog;

/* Facility by name: "auth", "authpriv", "daemon", "local0".."local7"; -1 if
 * unknown. */
int slog_facility(const char *name);

/* A client for socket path (NULL: SLOG_DEFAULT_SOCKET). 0 or a negative errno
 * (message in err). */
int slog_open(struct slog **s, const char *path, char *err, size_t errlen);

/* Send msg (len bytes, no newline) at facility and severity (LOG_INFO...). 0, or
 * a negative errno: -EAGAIN when the socket's queue is full, -ENOENT or
 * -ECONNREFUSED when nobody listens. Never blocks. */
int slog_send(struct slog *s, int facility, int severity, const char *msg, size_t len);

/* printf-style, at the daemon facility; failures are ignored (the message also
 * goes to stderr, which the caller writes). */
void slog_daemon(struct slog *s, int severity, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The socket path. */
const char *slog_path(const struct slog *s);

/* NULL is fine. */
void slog_close(struct slog *s);

#endif
