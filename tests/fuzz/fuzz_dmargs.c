// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: dm-argv decoding. The input is split at newlines: the first three lines are the
 * drop, replace and append overrides, the rest QEMU's arguments (numbered keys are derived from
 * them too, to exercise the numeric sort). Qubes' direct kernel boot and audio are answered as
 * stubinit answers them.
 */
#include "fuzz.h"
#include "agent/dmargs.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), *line, *save = NULL;
	struct argv_list args = {0}, out = {0};
	const char *over[3] = {"", "", ""};
	char *names[64];
	struct dm_nic nics[8];
	char what[16];
	const char *named;
	unsigned nn = 0;
	const char *bad;
	unsigned xid;
	int i = 0;

	if (!text)
		return 0;
	log_init();
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		if (i < 3)
			over[i] = line;
		else
			argv_push(&args, line);
		if (nn < 64)
			names[nn++] = line;
	}
	dmargs_sort_keys(names, nn, &bad);
	struct dm_launch l = {.qemu = "/q",
			      .datadir = "",
			      .extra = "",
			      .drop = over[0],
			      .replace = over[1],
			      .append = over[2],
			      .console_prefix = "/p",
			      .agent_sock = "/a",
			      .qmp_sock = "/b",
			      .incoming_fd = 3};
	/* As for Qubes' direct kernel boot: what the kernel disk gave, after the arguments. */
	if (dmargs_wants_kernel(args.v, args.n)) {
		l.kernel = "/k/vmlinuz";
		l.initrd = "/k/initramfs";
	}
	/* As for Qubes' audio: a helper serves when the arguments ask for one. */
	if (dmargs_qubes_audio(args.v, args.n, &xid) > 0 && dmargs_sound_card(args.v, args.n))
		l.audio_socket = "/s";
	if (dmargs_build(&l, args.v, args.n, &out) == 0)
		argv_free(&out);
	dmargs_nics(args.v, args.n, nics, 8);
	dmargs_wants_restore(args.v, args.n);
	dmargs_dom0_only(args.v, args.n, what, sizeof(what), &named);
	argv_push_words(&out, over[2]);
	argv_free(&out);
	argv_free(&args);
	free(text);
	return 0;
}
