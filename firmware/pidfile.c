// SPDX-License-Identifier: GPL-2.0-or-later
#include "firmware/pidfile.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/parse.h"

int pidfile_write(const char *state_dir)
{
	char path[PATH_MAX], text[24];
	int n, ret;

	snprintf(path, sizeof(path), "%s/" PIDFILE_NAME, state_dir);
	n = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	/* Replaced whole: a `camgate status` reading it meanwhile sees the
	 * old pid or the new one, never an empty file. */
	ret = fs_replace(path, text, (size_t)n, 0644);
	if (ret)
		log_warn("%s: cannot write: %s", path, strerror(-ret));
	return ret;
}

void pidfile_remove(const char *state_dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/" PIDFILE_NAME, state_dir);
	unlink(path);
}

int pidfile_daemon(const char *state_dir, pid_t *pidp)
{
	char path[PATH_MAX], buf[32], comm[32] = "";
	int64_t pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/" PIDFILE_NAME, state_dir);
	f = fopen(path, "r");
	if (!f)
		return -ENOENT;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	if (parse_i64(buf, 2, INT32_MAX, &pid))
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%lld/comm", (long long)pid);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
	}
	if (strncmp(comm, "camgate", 7) || (kill((pid_t)pid, 0) && errno == ESRCH))
		return -ESRCH;
	*pidp = (pid_t)pid;
	return 0;
}
