/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * audio: the guest's sound, as Qubes' toolstack asks for it (-qubes-audio:audiovm_xid=N and an
 * emulated sound card). Owns the image's audio helper (stubinit.audio-helper): starting it as
 * `<helper> <audio VM's domid> <socket>` before QEMU, waiting (inotify, no polling) until its
 * socket accepts a connection, restarting it when it exits, and telling main.c whether QEMU gets
 * the socket. The helper serves PulseAudio's native protocol on <socket> and plays into the audio
 * VM (Qubes' image: pulseaudio with its vchan sink). Without a helper, a sound card, or with the
 * socket not there in time, QEMU starts without audio and the log says why, once.
 */
#ifndef STUBINIT_AUDIO_H
#define STUBINIT_AUDIO_H

#include "config.h"

#include <stdint.h>

struct audio_opts {
	const char *helper; /* stubinit.audio-helper: a program, or "" */
	uint64_t wait_ms;   /* stubinit.audio-wait: how long QEMU waits for its socket */
};

/* Called once: @socket for QEMU's -audiodev, or NULL (QEMU goes without audio). */
typedef void (*audio_ready_fn)(const char *socket, void *arg);

/* Decides from @cfg's arguments; calls @ready at once when there is nothing to start. */
void audio_start(const struct dm_config *cfg, const struct audio_opts *o, audio_ready_fn ready,
		 void *arg);

#endif
