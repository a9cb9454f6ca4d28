/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kmod: kernel modules the stubdomain needs before anything talks to Xen (privcmd with
 * unrestricted=1, evtchn, gntdev, gntalloc, the block, net and PCI frontends, tun, bridge). Owns
 * reading the image's load-order list and loading each entry with finit_module(); the image build
 * resolved dependencies into the order. Failures name the module and the errno; none stops boot.
 */
#ifndef STUBINIT_KMOD_H
#define STUBINIT_KMOD_H

/*
 * Loads every module listed in @list: one per line, "<file> [param=value ...]", the file absolute
 * or relative to /lib/modules/<running kernel>/; '#' starts a comment. Compressed modules (.xz,
 * .zst, .gz) are handed to the kernel to decompress. A missing list means nothing to load.
 * Returns the number of modules that failed.
 */
unsigned kmod_load_list(const char *list);

#endif
