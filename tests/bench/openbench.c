/* openbench.c — open + read to EOF + close throughput over the files of one folder.
 *
 *   openbench DIR THREADS SECONDS [UIDS BASE GID]
 *
 * Lists DIR once (not timed), keeps its regular files (by d_type, or lstat when the
 * type is unknown), then runs THREADS threads for SECONDS: each thread walks its own
 * shuffled copy of the list (a fixed seed per thread, so runs are comparable) and
 * for each name does openat(O_RDONLY), read() into a 64 KiB buffer until EOF, and
 * close(). Prints one line: "ops_per_s=X ops=N seconds=T bytes=B errors=E".
 * With UIDS BASE GID (root only), every open is made as another caller: before
 * each open the thread sets its filesystem ids to uid BASE + (k % UIDS) and gid
 * GID (setfsuid/setfsgid are per thread), so a FUSE daemon sees UIDS distinct
 * users (none needs an account: give GID a profile).
 * Build: gcc -O2 -pthread -o openbench openbench.c */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char **names;
static size_t nnames;
static int dirfd_;
static atomic_int stop;
static unsigned nuids, uid_base, fs_gid;

struct worker {
	pthread_t th;
	unsigned seed;
	uint64_t ops, bytes, errors;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	size_t *order = malloc(nnames * sizeof(*order));
	char *buf = malloc(65536);
	uint64_t s = 0x9e3779b97f4a7c15ull * (w->seed + 1);

	if (!order || !buf) {
		perror("malloc");
		exit(2);
	}
	for (size_t i = 0; i < nnames; i++)
		order[i] = i;
	for (size_t i = nnames - 1; i > 0; i--) {
		size_t j = (size_t)(xorshift(&s) % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t k = 0; !atomic_load_explicit(&stop, memory_order_relaxed); k++) {
		const char *name = names[order[k % nnames]];
		int fd;

		if (nuids) {
			setfsgid(fs_gid);
			setfsuid(uid_base + (unsigned)((k + w->seed * 1237u) % nuids));
		}
		fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC);
		ssize_t r;

		if (fd < 0) {
			w->errors++;
			continue;
		}
		while ((r = read(fd, buf, 65536)) > 0)
			w->bytes += (uint64_t)r;
		if (r < 0)
			w->errors++;
		close(fd);
		w->ops++;
	}
	free(order);
	free(buf);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	DIR *d;
	struct dirent *de;
	size_t cap = 0;
	int nthreads;
	double secs, t0, t1;
	struct worker *ws;
	uint64_t ops = 0, bytes = 0, errors = 0;

	if (argc != 4 && argc != 7) {
		fprintf(stderr, "usage: openbench DIR THREADS SECONDS [UIDS BASE GID]\n");
		return 2;
	}
	if (argc == 7) {
		nuids = (unsigned)atoi(argv[4]);
		uid_base = (unsigned)atoi(argv[5]);
		fs_gid = (unsigned)atoi(argv[6]);
		setfsgid(fs_gid);
		setfsuid(uid_base);
	}
	nthreads = atoi(argv[2]);
	secs = atof(argv[3]);
	if (nthreads < 1 || secs <= 0) {
		fprintf(stderr, "openbench: bad THREADS or SECONDS\n");
		return 2;
	}
	dirfd_ = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd_ < 0 || !(d = fdopendir(dup(dirfd_)))) {
		perror(argv[1]);
		return 2;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_type == DT_UNKNOWN) {
			if (fstatat(dirfd_, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
		} else if (de->d_type != DT_REG) {
			continue;
		}
		if (nnames == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, cap * sizeof(*names));
			if (!names) {
				perror("realloc");
				return 2;
			}
		}
		names[nnames++] = strdup(de->d_name);
	}
	closedir(d);
	if (nnames == 0) {
		fprintf(stderr, "openbench: no regular files in %s\n", argv[1]);
		return 2;
	}
	qsort(names, nnames, sizeof(*names), cmp); /* same order whatever readdir gives */
	ws = calloc((size_t)nthreads, sizeof(*ws));
	t0 = mono();
	for (int i = 0; i < nthreads; i++) {
		ws[i].seed = (unsigned)i;
		if (pthread_create(&ws[i].th, NULL, run, &ws[i]) != 0) {
			perror("pthread_create");
			return 2;
		}
	}
	while (mono() - t0 < secs)
		usleep(10000);
	atomic_store(&stop, 1);
	for (int i = 0; i < nthreads; i++) {
		pthread_join(ws[i].th, NULL);
		ops += ws[i].ops;
		bytes += ws[i].bytes;
		errors += ws[i].errors;
	}
	t1 = mono();
	printf("ops_per_s=%.0f ops=%llu seconds=%.3f bytes=%llu errors=%llu files=%zu\n",
	       (double)ops / (t1 - t0), (unsigned long long)ops, t1 - t0,
	       (unsigned long long)bytes, (unsigned long long)errors, nnames);
	return errors ? 1 : 0;
}
