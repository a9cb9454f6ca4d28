/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * paths: where stubinit keeps what it shares with QEMU. /run/stubinit is root's, 0711: QEMU may
 * pass through it to the sockets given to it, and can neither list, create, rename nor replace
 * anything in it, so no path stubinit opens or connects to can be swapped by QEMU.
 */
#ifndef STUBINIT_PATHS_H
#define STUBINIT_PATHS_H

#define RUN_DIR "/run/stubinit"
/* QEMU connects to both monitors' sockets at its start; stubinit listens. */
#define AGENT_SOCK   RUN_DIR "/agent.sock"
#define SESSION_SOCK RUN_DIR "/session.sock"
/* QEMU's xenstore: stubinit's filter listens here (XENSTORED_PATH in QEMU's environment). */
#define XENSTORE_SOCK RUN_DIR "/xenstore.sock"
/* fdset 1: QEMU saves device state into it; the QMP path moves it to console 1. */
#define SAVE_FILE RUN_DIR "/save-state"
/* QEMU's own directory (its user owns it): stubinit never opens, connects to or looks at
 * anything in it. */
#define QEMU_DIR RUN_DIR "/qemu"
/* Direct kernel boot: the kernel disk, mounted read-only (QEMU reads vmlinuz and initramfs). */
#define KERNEL_DIR RUN_DIR "/kernel"
/* Qubes' audio: the image's helper serves PulseAudio's protocol on AUDIO_SOCK (root's directory;
 * stubinit makes the socket reachable for QEMU once it listens). */
#define AUDIO_DIR  RUN_DIR "/audio"
#define AUDIO_SOCK AUDIO_DIR "/native"
/* Writing "vif-<devid>" here detaches the netfront driver from the stubdomain's PV NIC <devid>. */
#define VIF_UNBIND "/sys/bus/xen/drivers/vif/unbind"
/* The image's own stubinit.* keys (the command line's syntax), read before the command line. */
#define IMAGE_KEYS "/etc/stubinit/keys"

#endif
