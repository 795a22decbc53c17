/* audit.h — the append-only audit log: hash chain, forward-ratcheting MAC,
 * durability, fail-closed appends (Art. 6: every use demonstrable; Art. 6, 9:
 * misuse detected).
 *
 * Each line is one JSON object that ends with
 *     ,"prev":"<hex BLAKE2b-256 of the previous line>","mac":"<hex MAC>"}
 * where the MAC is keyed BLAKE2b-256 over every byte of the line before
 * ","mac":" (the fixed tail after it is checked by audit_tail_ok) under key_seq,
 * and key_{seq+1} = BLAKE2b-256 keyed by key_seq over a fixed label. The daemon
 * keeps only the current key (in state_dir/audit.state); the verifier starts
 * from the initial key written once to [audit] verify_key.
 *
 * audit_append returns 0 only when the line is written (and, with sync=always,
 * fdatasync'ed, shared with concurrent appends: group commit). Any other result
 * means the caller must refuse the operation it was about to allow. A failed
 * flush latches the log: every later append fails until restart (a later fsync
 * may "succeed" after the kernel dropped the data). Thread-safe. */
#ifndef PFS_AUDIT_H
#define PFS_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define AUDIT_KEY_BYTES	 32
#define AUDIT_HASH_BYTES 32

enum audit_sync { AUDIT_SYNC_ALWAYS, AUDIT_SYNC_BATCH };

struct audit_opts {
	const char *log_path;
	const char *state_dir;
	const char *verify_key;
	enum audit_sync sync;
	unsigned sync_interval_ms;
	unsigned max_per_minute;	 /* per user; 0 = no limit */
	unsigned max_per_minute_profile; /* per profile; 0 = no limit */
	int syslog_facility;		 /* audit lines to syslog too (LOG_AUTH...); 0 = not */
	const char *syslog_socket;	 /* NULL: /dev/log (also for daemon errors) */
};

/* One line. Strings may be NULL (written as null). uid/pid are written only when
 * has_caller. */
struct audit_event {
	const char *event;  /* open, list, xattr, lookup, access, alert, mount, unmount, ... */
	const char *result; /* "allowed" or "denied" (NULL for lifecycle lines) */
	const char *reason; /* why denied, or NULL */
	bool has_caller;
	uid_t uid;
	pid_t pid;
	const char *profile;
	const char *path;
	const char *record;
	const char *const *fields;
	unsigned nfields;
	const char *detail; /* free text for lifecycle lines; no personal data */
	uint64_t count;	    /* "denials" lines only: how many requests it stands for */
	const char *since;  /* with count: the first of them (UTC timestamp) */
};

struct audit;

/* Open the log and the state; the log and its folder are checked as for
 * audit_reopen. Each refusal writes its own message to err, once. The first
 * time (no state), create the initial key,
 * write it to o->verify_key (0600, never overwritten) and start the chain. Later,
 * mend a torn last line (logged), then check that the log's tail continues the
 * state (ratcheting forward over lines the state has not seen); refuse to start
 * if it does not. */
int audit_open(struct audit **a, const struct audit_opts *o, char *err, size_t errlen);

/* Append one line (see the contract above). 0, or a negative errno: the caller
 * must refuse. A caller's denied request (result "denied", has_caller, not an
 * alert) is written in full while that caller (uid), reason and profile stay
 * within 20 in any 60 s, and beyond that only counted, for one "denials" line
 * per caller, reason and profile (audit_tick); its file name is cut to 100
 * bytes. The same request again from the same process within a second (the
 * kernel's second lookup of one path walk) is one attempt: no second line. */
int audit_append(struct audit *a, const struct audit_event *ev);

/* Count one open by uid and by profile against max_opens_per_minute and
 * max_opens_per_minute_profile: at most that many allowed opens in any 60
 * seconds (ratelimit.h), exact for any number of users and profiles. Returns
 * false when over a limit (or when the limiter cannot count: fail closed); the
 * first refusal after an allowed open also writes an "alert" line. With no limit
 * set, takes no lock. Thread-safe. */
bool audit_rate_take(struct audit *a, uid_t uid, pid_t pid, const char *profile);

/* Set the limits (a reload with a changed config): 0 = none. Counts in the
 * window are kept, so a lowered limit applies at once. */
void audit_limits_set(struct audit *a, unsigned per_user, unsigned per_profile);

/* A daemon message (a refused reload, a failed purge): stderr and the daemon's
 * syslog (never blocking). Thread-safe; a may be NULL (stderr only). */
void audit_say(struct audit *a, int severity, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write the "denials" lines of counts whose first request is 60 s old, or all
 * of them when final (audit_close does that), and a "syslog" line when audit
 * lines could not be sent to syslog since the last tick (how many, why). Call
 * about once a second. */
void audit_tick(struct audit *a, bool final);

/* Reopen the log at its path (rotation, SIGHUP): creates it if missing (O_EXCL,
 * 0600) and writes a "reopen" line into the new file. A file at the path that is
 * a symbolic link, not the daemon's user's, or writable by group or others (or a
 * folder others can write) is refused: -EPERM or -ELOOP, the reason in err and
 * syslog, and every later append fails until restart (the log is latched). */
int audit_reopen(struct audit *a, char *err, size_t errlen);

/* Flush, save the state, wipe the key. NULL is fine. */
void audit_close(struct audit *a);

/* Shared with the verifier: the MAC of the first len bytes of line under key,
 * and the next key. */
void audit_line_mac(uint8_t mac[AUDIT_HASH_BYTES], const uint8_t key[AUDIT_KEY_BYTES],
		    const char *line, size_t len);
void audit_key_ratchet(uint8_t key[AUDIT_KEY_BYTES]);

/* The seq of a line that starts {"seq":N, (n bytes; no terminator needed). */
bool audit_line_seq(const char *line, size_t n, uint64_t *seq);

/* Does line (n bytes, no newline) end with exactly the fixed tail shape, so that
 * no byte of it escapes the MAC or the chain? */
bool audit_tail_ok(const char *line, size_t n);

/* Write s as a JSON string literal (quotes included) into out (cap bytes, NUL-
 * terminated), exactly as the log writes caller-controlled strings: the result
 * is valid UTF-8 whatever bytes s holds (invalid bytes and control bytes become
 * \u00XX). Returns its length, or -E2BIG when it does not fit (out then holds
 * a prefix). NULL is written as null. Thread-safe. */
ssize_t audit_json_string(char *out, size_t cap, const char *s);

/* The fixed tail of every line: ,"prev":"<64 hex>","mac":"<64 hex>"} */
#define AUDIT_TAIL_PREV ",\"prev\":\""
#define AUDIT_TAIL_MAC	"\",\"mac\":\""
#define AUDIT_TAIL_LEN	(sizeof(AUDIT_TAIL_PREV) - 1 + 64 + sizeof(AUDIT_TAIL_MAC) - 1 + 64 + 2)

#endif
