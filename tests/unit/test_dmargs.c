// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of QEMU command-line assembly: numeric order of dm-argv keys, the restore placeholder,
 * stubinit's monitors, console paths, and every override form.
 */
#include "unit.h"
#include "agent/dmargs.h"

#include <stdlib.h>

static char *joined(const struct argv_list *a)
{
	static char buf[4096];
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < a->n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "",
					a->v[i]);
	return buf;
}

static const struct dm_launch base = {
	.qemu = "/q",
	.datadir = "",
	.extra = "",
	.drop = "",
	.replace = "",
	.append = "",
	.console_prefix = "/dev/hvc",
	.agent_sock = "/run/a.sock",
	.qmp_sock = "/run/q.sock",
	.incoming_fd = -1,
};

/* libxl 4.17's shape (protocol section 4). */
static char *fixture[] = {"-xen-domid",	  "5",
			  "-no-shutdown", "-nodefaults",
			  "-name",	  "win",
			  "-serial",	  "/dev/hvc3",
			  "-device",	  "e1000,id=nic0,netdev=net0",
			  "-incoming",	  DM_RESTORE_PLACEHOLDER,
			  "-machine",	  "xenfv,suppress-vmdesc=on",
			  "-m",		  "2040"};
#define NFIX (sizeof(fixture) / sizeof(fixture[0]))

TEST(dmargs_keys_sort_numerically_past_999)
{
	char *names[1200];
	const char *bad = NULL;
	char store[1200][8];

	/* Reverse order, and 1000+ keys: "1000" must come after "999", not after "100". */
	for (int i = 0; i < 1200; i++) {
		snprintf(store[i], sizeof(store[i]), "%03d", 1200 - i);
		names[i] = store[i];
	}
	CHECK_INT(dmargs_sort_keys(names, 1200, &bad), 0);
	CHECK_STR(names[0], "001");
	CHECK_STR(names[98], "099");
	CHECK_STR(names[998], "999");
	CHECK_STR(names[999], "1000");
	CHECK_STR(names[1199], "1200");
}

TEST(dmargs_keys_garbled)
{
	char *a[] = {"001", "x02", "003"};
	char *b[] = {"001", "01", "002"};
	char *c[] = {"001", "", "002"};
	const char *bad = NULL;

	CHECK_INT(dmargs_sort_keys(a, 3, &bad), -1);
	CHECK_STR(bad, "x02");
	CHECK_INT(dmargs_sort_keys(b, 3, &bad), -1);
	CHECK(!strcmp(bad, "01") || !strcmp(bad, "001"));
	CHECK_INT(dmargs_sort_keys(c, 3, &bad), -1);
	CHECK_STR(bad, "");
}

TEST(dmargs_monitors_restore_and_consoles)
{
	struct dm_launch l = base;
	struct argv_list out;

	capture_start();
	/* A restore without an incoming fd cannot be built. */
	CHECK_INT(dmargs_build(&l, fixture, NFIX, &out), -1);
	CHECK_CONTAINS(capture_text(), "$STUBDOM_RESTORE_INCOMING_ARG is asked for");
	l.incoming_fd = 3;
	l.datadir = "/usr/share/qemu";
	l.extra = " -sandbox on ";
	l.console_prefix = "/dev/test-hvc";
	CHECK_INT(dmargs_build(&l, fixture, NFIX, &out), 0);
	CHECK_STR(joined(&out),
		  "/q -L /usr/share/qemu -chardev "
		  "socket,id=stubinit-agent,path=/run/a.sock,server=off "
		  "-mon chardev=stubinit-agent,mode=control "
		  "-chardev socket,id=stubinit-qmp,path=/run/q.sock,server=off "
		  "-mon chardev=stubinit-qmp,mode=control -sandbox on -xen-domid 5 -no-shutdown "
		  "-nodefaults -name win -serial /dev/test-hvc3 -device e1000,id=nic0,netdev=net0 "
		  "-incoming fd:3 -machine xenfv,suppress-vmdesc=on -m 2040");
	CHECK(out.v[out.n] == NULL);
	argv_free(&out);
	/* The default prefix leaves /dev/hvc3 alone; a non-numeric suffix is not a console. */
	{
		char *args[] = {"-serial", "/dev/hvc3", "-x", "/dev/hvcX"};
		struct dm_launch d = base;

		CHECK_INT(dmargs_build(&d, args, 4, &out), 0);
		CHECK_CONTAINS(joined(&out), "-serial /dev/hvc3 -x /dev/hvcX");
		argv_free(&out);
		d.console_prefix = "/p";
		CHECK_INT(dmargs_build(&d, args, 4, &out), 0);
		CHECK_CONTAINS(joined(&out), "-serial /p3 -x /dev/hvcX");
		argv_free(&out);
	}
}

TEST(dmargs_overrides)
{
	struct dm_launch l = base;
	struct argv_list out;
	const char *j;

	capture_start();
	l.incoming_fd = 7;
	/* Drop a flag, an option with any value, and one by value prefix. */
	l.drop = "-no-shutdown -xen-domid -device=e1000* -nosuch bogus";
	/* Qubes #4321 and #9853: change -machine without repacking the image. */
	l.replace = "-machine=xenfv,max-ram-below-4g=3G -m=512 -nodefaults=1 -name";
	l.append = "-global isa-fdc.driveA= -S";
	CHECK_INT(dmargs_build(&l, fixture, NFIX, &out), 0);
	j = joined(&out);
	CHECK(!strstr(j, "-no-shutdown"));
	CHECK(!strstr(j, "-xen-domid"));
	CHECK(!strstr(j, " 5 "));
	CHECK(!strstr(j, "e1000"));
	CHECK_CONTAINS(j, "-nodefaults -name win");
	CHECK_CONTAINS(j, "-incoming fd:7 -machine xenfv,max-ram-below-4g=3G -m 512 "
			  "-global isa-fdc.driveA= -S");
	/* The agent's own monitors are out of the overrides' reach. */
	CHECK_CONTAINS(j, "-mon chardev=stubinit-agent,mode=control");
	/* Every problem is reported by key name. */
	CHECK_CONTAINS(capture_text(), "key stubinit.qemu-drop: '-nosuch' matches no argument");
	CHECK_CONTAINS(capture_text(), "key stubinit.qemu-drop: 'bogus' is not -option or "
				       "-option=value; skipped");
	CHECK_CONTAINS(capture_text(), "key stubinit.qemu-replace: '-nodefaults=1' is not "
				       "-option=value for an option that takes a value");
	CHECK_CONTAINS(capture_text(), "key stubinit.qemu-replace: '-name' is not");
	CHECK_CONTAINS(capture_text(), "override: -machine xenfv,suppress-vmdesc=on -> -machine "
				       "xenfv,max-ram-below-4g=3G");
	CHECK_CONTAINS(capture_text(), "override: dropped -device e1000,id=nic0,netdev=net0");
	argv_free(&out);
}

/* Qubes' toolstack adds arguments QEMU refuses: qemu-drop takes them by prefix or as a whole. */
TEST(dmargs_drop_whole_arguments)
{
	char *args[] = {"-xen-domid",
			"5",
			"-qubes-audio:audiovm_xid=3",
			"-qubes-net:client_ip=10.137.0.5,gw=10.137.0.1",
			"-qubes-audio:other",
			"-name",
			"-qubes-audio:not-a-value"};
	struct dm_launch l = base;
	struct argv_list out;
	const char *j;

	capture_start();
	l.drop = "-qubes-audio:* -qubes-net:client_ip=10.137.0.5,gw=10.137.0.1 -nomatch:* -x*y*";
	CHECK_INT(dmargs_build(&l, args, 7, &out), 0);
	j = joined(&out);
	CHECK(!strstr(j, "qubes"));
	/* A dropped argument takes nothing with it: -name keeps what follows it, here nothing. */
	CHECK_CONTAINS(j, "-xen-domid 5 -name");
	CHECK_CONTAINS(capture_text(), "override: dropped -qubes-audio:audiovm_xid=3");
	CHECK_CONTAINS(capture_text(),
		       "override: dropped -qubes-net:client_ip=10.137.0.5,gw=10.137.0.1");
	CHECK_CONTAINS(capture_text(), "key stubinit.qemu-drop: '-nomatch:*' matches no argument");
	CHECK_CONTAINS(capture_text(), "key stubinit.qemu-drop: '-x*y*' matches no argument");
	argv_free(&out);
}

/* Without an override, Qubes' pseudo-arguments are taken out, each with what the guest lacks. */
TEST(dmargs_qubes_arguments_taken_out)
{
	char *args[] = {"-xen-domid",
			"5",
			"-qubes-audio:audiovm_xid=0",
			"-qubes-net:client_ip=10.137.0.5,gw=10.137.0.1,netmask=255.255.255.255",
			"-qubes-future:x",
			"-name",
			"vm"};
	struct dm_launch l = base;
	struct argv_list out;
	const char *j;

	capture_start();
	l.extra = "-qubes-image-flag";
	CHECK_INT(dmargs_build(&l, args, 7, &out), 0);
	j = joined(&out);
	CHECK(!strstr(j, "qubes"));
	CHECK_CONTAINS(j, "-xen-domid 5 -name vm");
	CHECK_CONTAINS(capture_text(), "dm-argv: -qubes-audio:audiovm_xid=0 taken out: the audio "
				       "lines say what the guest's sound gets");
	CHECK_CONTAINS(capture_text(),
		       "dm-argv: -qubes-net:client_ip=10.137.0.5,gw=10.137.0.1,"
		       "netmask=255.255.255.255 taken out: stubinit's DHCP server serves it");
	CHECK_CONTAINS(capture_text(), "dm-argv: -qubes-future:x: a Qubes argument that no QEMU "
				       "takes and stubinit does not know; taken out");
	argv_free(&out);
}

/* dm_restrict's -chroot names a directory of dom0's: taken out, -xen-domid-restrict kept. */
TEST(dmargs_dm_restrict_chroot_taken_out)
{
	char *args[] = {"-xen-domid",
			"5",
			"-xen-domid-restrict",
			"-chroot",
			"/var/run/xen/qemu-root-5",
			"-name",
			"vm",
			"-chroot"};
	struct dm_launch l = base;
	struct argv_list out;

	capture_start();
	CHECK_INT(dmargs_build(&l, args, 7, &out), 0);
	CHECK_CONTAINS(joined(&out), "-xen-domid 5 -xen-domid-restrict -name vm");
	CHECK(!strstr(joined(&out), "chroot"));
	CHECK_CONTAINS(capture_text(), "dm-argv: -chroot /var/run/xen/qemu-root-5 taken out: a "
				       "directory of dom0's (xl.cfg dm_restrict)");
	argv_free(&out);
	/* a -chroot without its value at the end is QEMU's to refuse */
	CHECK_INT(dmargs_build(&l, args, 8, &out), 0);
	CHECK_CONTAINS(joined(&out), "-name vm -chroot");
	argv_free(&out);
}

/* xl.cfg acpi = 0: -no-acpi, which QEMU 9.0 removed, as the machine property both QEMUs take. */
TEST(dmargs_no_acpi_as_machine_property)
{
	char *args[] = {"-machine", "xenfv,suppress-vmdesc=on", "-no-acpi", "-name", "vm"};
	struct dm_launch l = base;
	struct argv_list out;

	capture_start();
	CHECK_INT(dmargs_build(&l, args, 5, &out), 0);
	CHECK_CONTAINS(joined(&out),
		       "-machine xenfv,suppress-vmdesc=on -machine acpi=off -name vm");
	CHECK(!strstr(joined(&out), "-no-acpi"));
	CHECK_CONTAINS(capture_text(), "dm-argv: -no-acpi given as -machine acpi=off");
	argv_free(&out);
}

/* Qubes' direct kernel boot: -append without -kernel asks for the kernel disk's vmlinuz. */
TEST(dmargs_direct_kernel_boot)
{
	char *qubes[] = {"-xen-domid", "5", "-append", "root=/dev/xvda ro"};
	char *own[] = {"-kernel", "/k", "-append", "x"};
	char *none[] = {"-xen-domid", "5", "-name", "-append-x"};
	struct dm_launch l = base;
	struct argv_list out;

	CHECK_INT(dmargs_wants_kernel(qubes, 4), 1);
	CHECK_INT(dmargs_wants_kernel(own, 4), 0);
	CHECK_INT(dmargs_wants_kernel(none, 4), 0);
	l.kernel = "/run/stubinit/kernel/vmlinuz";
	l.initrd = "/run/stubinit/kernel/initramfs";
	l.append = "-S";
	CHECK_INT(dmargs_build(&l, qubes, 4, &out), 0);
	/* After the toolstack's arguments, before the appended override. */
	CHECK_CONTAINS(joined(&out),
		       "-append root=/dev/xvda ro -kernel /run/stubinit/kernel/vmlinuz "
		       "-initrd /run/stubinit/kernel/initramfs -S");
	argv_free(&out);
	l.initrd = NULL;
	CHECK_INT(dmargs_build(&l, qubes, 4, &out), 0);
	CHECK(!strstr(joined(&out), "-initrd"));
	argv_free(&out);
}

TEST(dmargs_words_split)
{
	struct argv_list a = {0};

	/* The legacy MiniOS dmargs string: one space-separated line. */
	CHECK_INT(argv_push_words(&a, "  -domain-name win\t-videoram 8 \n-boot c "), 0);
	CHECK_INT(a.n, 6);
	CHECK_STR(a.v[0], "-domain-name");
	CHECK_STR(a.v[5], "c");
	CHECK(a.v[6] == NULL);
	argv_free(&a);
	CHECK_INT(argv_push_words(&a, ""), 0);
	CHECK_INT(a.n, 0);
	argv_free(&a);
}

#include "agent/hotplug.h"

TEST(hotplug_pci_parameters)
{
	struct pci_param p;

	CHECK(!hotplug_parse_pci("0000:00:03.0@05,msitranslate=1,power_mgmt=0", true, &p));
	CHECK_INT(p.domain, 0);
	CHECK_INT(p.dev, 3);
	CHECK_INT(p.vdevfn, 5);
	CHECK_INT(p.msitranslate, 1);
	CHECK(!hotplug_parse_pci("abcd:ff:1f.7,msitranslate=0,power_mgmt=1", true, &p));
	CHECK_INT(p.domain, 0xabcd);
	CHECK_INT(p.bus, 0xff);
	CHECK_INT(p.vdevfn, -1);
	CHECK(!hotplug_parse_pci("0000:01:00.1", false, &p));
	CHECK_INT(p.func, 1);
	/* Every malformed form is refused with a reason. */
	CHECK_STR(hotplug_parse_pci("0000:00:20.0,msitranslate=0,power_mgmt=0", true, &p),
		  "a number is out of range");
	CHECK_STR(hotplug_parse_pci("0000:00:03.8,msitranslate=0,power_mgmt=0", true, &p),
		  "a number is out of range");
	CHECK_STR(hotplug_parse_pci("0000:00:3g.0,msitranslate=0,power_mgmt=0", true, &p),
		  "'.' expected");
	CHECK_STR(hotplug_parse_pci("0000:00:03.0", true, &p), "',msitranslate=' expected");
	CHECK_STR(hotplug_parse_pci("0000:00:03.0,msitranslate=2,power_mgmt=0", true, &p),
		  "a number is out of range");
	CHECK_STR(hotplug_parse_pci("0000:00:03.0,msitranslate=0,power_mgmt=0x", true, &p),
		  "trailing characters after power_mgmt");
	CHECK_STR(hotplug_parse_pci("0000:00:03.0 ", false, &p),
		  "trailing characters after the address");
	CHECK_STR(hotplug_parse_pci("", false, &p), "a number is missing");
	CHECK_STR(hotplug_parse_pci("00000:00:03.0", false, &p), "':' expected");
}

TEST(dmargs_taps_become_fds)
{
	static const struct dm_tapfd taps[] = {{"vif7.0-emu", 4}};
	char *args[] = {"-netdev",
			"type=tap,id=net0,ifname=vif7.0-emu,script=no,downscript=no,br=xenbr0",
			"-netdev", "tap,id=net1,ifname=vif7.1-emu,script=no"};
	struct dm_launch l = base;
	struct argv_list out;

	l.tapfds = taps;
	l.ntapfds = 1;
	CHECK_INT(dmargs_build(&l, args, 4, &out), 0);
	/* QEMU refuses ifname/script/downscript/br beside fd: they go, the rest stays. */
	CHECK_CONTAINS(joined(&out), "-netdev type=tap,id=net0,fd=4 ");
	/* A tap stubinit holds no fd for keeps its name. */
	CHECK_CONTAINS(joined(&out), "-netdev tap,id=net1,ifname=vif7.1-emu,script=no");
	argv_free(&out);
}

/* Qubes' audio: the VM's domid, the sound card, and QEMU's arguments once a helper serves. */
TEST(dmargs_qubes_audio)
{
	char *hda[] = {"-device", "intel-hda", "-device", "hda-duplex",
		       "-qubes-audio:audiovm_xid=3"};
	char *ac97[] = {"-device", "ac97,addr=5", "-device", "es1370,audiodev=own",
			"-qubes-audio:x=1,audiovm_xid=12"};
	char *bad[] = {"-qubes-audio:audiovm_xid=-1", "-qubes-audio:audiovm=2", "-qubes-audio:"};
	char *none[] = {"-device", "e1000", "-soundhw", "-qubes-audiox"};
	struct dm_launch l = base;
	struct argv_list out;
	unsigned xid = 99;

	CHECK_INT(dmargs_qubes_audio(hda, 5, &xid), 1);
	CHECK_INT(xid, 3);
	CHECK_INT(dmargs_qubes_audio(ac97, 5, &xid), 1);
	CHECK_INT(xid, 12);
	for (int i = 0; i < 3; i++)
		CHECK_INT(dmargs_qubes_audio(bad + i, 1, &xid), -1);
	CHECK_INT(dmargs_qubes_audio(none, 4, &xid), 0);
	CHECK_STR(dmargs_sound_card(hda, 5), "intel-hda");
	CHECK_STR(dmargs_sound_card(ac97, 5), "ac97");
	CHECK(!dmargs_sound_card(none, 4));
	{
		/* the same forms of -device as the device check reads */
		char *forms[] = {"--device", "driver=es1370,addr=0x5", "-device", "sb16"};

		CHECK_STR(dmargs_sound_card(forms, 2), "es1370");
		CHECK_STR(dmargs_sound_card(forms + 2, 2), "sb16");
	}
	{
		char *net[] = {"-qubes-netx", "-qubes-net:client_ip=1.2.3.4", "-qubes-net:x"};

		CHECK_STR(dmargs_qubes_net(net, 3), "client_ip=1.2.3.4");
		CHECK(!dmargs_qubes_net(net, 1));
	}

	l.audio_socket = "/run/s";
	CHECK_INT(dmargs_build(&l, hda, 5, &out), 0);
	CHECK_CONTAINS(joined(&out), "-device intel-hda -device hda-duplex,audiodev=stubinit-audio "
				     "-audiodev pa,id=stubinit-audio,server=unix:/run/s,"
				     "timer-period=1000,out.buffer-length=8000,in.latency=80000");
	argv_free(&out);
	CHECK_INT(dmargs_build(&l, ac97, 5, &out), 0);
	CHECK_CONTAINS(joined(&out), "-device ac97,addr=5,audiodev=stubinit-audio -device "
				     "es1370,audiodev=own -audiodev pa,id=stubinit-audio,"
				     "server=unix:/run/s");
	CHECK(!strstr(joined(&out), "timer-period"));
	argv_free(&out);
	/* no helper: the card plays into nothing (QEMU 9.0 and later refuse a card without one) */
	l.audio_socket = NULL;
	capture_start();
	CHECK_INT(dmargs_build(&l, hda, 5, &out), 0);
	CHECK_CONTAINS(joined(&out), "-device intel-hda -device hda-duplex,audiodev=stubinit-audio "
				     "-audiodev none,id=stubinit-audio");
	CHECK_CONTAINS(capture_text(), "audio: the guest's sound card plays into nothing");
	argv_free(&out);
	CHECK_INT(dmargs_build(&l, none, 4, &out), 0);
	CHECK(!strstr(joined(&out), "audiodev"));
	argv_free(&out);
}

TEST(dmargs_missing_device)
{
	const char *known = "piix3-usb-uhci\nusb-tablet\ncirrus-vga\nrtl8139\ne1000\nVGA";
	char *ok[] = {"-device",
		      "cirrus-vga,vgamem_mb=8",
		      "-device",
		      "rtl8139,id=nic0,netdev=net0",
		      "-usb",
		      "-device",
		      "driver=usb-tablet,id=t"};
	char *ahci[] = {"-device",	 "VGA",	    "-device",
			"ahci,id=ahci0", "-device", "ide-hd,bus=ahci0.0"};
	char *nic[] = {"-device", "virtio-net-pci,id=nic0,netdev=net0,mac=00:16:3e:00:00:01"};
	char *other[] = {"-device", "pvpanic", "-device"};
	char *prefix[] = {"-device", "usb", "-device", "e1000e,netdev=net1"};
	char d[16];

	CHECK(!dmargs_missing_device(ok, 7, known, d, sizeof(d)));
	CHECK_STR(dmargs_missing_device(ahci, 6, known, d, sizeof(d)), "hdtype = \"ahci\"");
	CHECK_STR(d, "ahci");
	CHECK_STR(dmargs_missing_device(nic, 2, known, d, sizeof(d)), "model= of a vif");
	CHECK_STR(d, "virtio-net-pci"); /* 15 bytes and the NUL */
	CHECK_STR(dmargs_missing_device(nic, 2, known, d, 8), "model= of a vif");
	CHECK_STR(d, "virtio-");
	/* a -device without its value at the end is QEMU's to refuse */
	CHECK_STR(dmargs_missing_device(other, 3, known, d, sizeof(d)),
		  "device_model_args or an xl.cfg setting");
	CHECK_STR(d, "pvpanic");
	/* whole lines only: "usb" is no prefix match of "usb-tablet", "e1000e" none of "e1000" */
	CHECK_STR(dmargs_missing_device(prefix, 2, known, d, sizeof(d)),
		  "device_model_args or an xl.cfg setting");
	CHECK_STR(d, "usb");
	CHECK_STR(dmargs_missing_device(prefix + 2, 2, known, d, sizeof(d)), "model= of a vif");
	CHECK_STR(d, "e1000e");
	/* an empty list knows nothing */
	CHECK(dmargs_missing_device(ok, 7, "", d, sizeof(d)) != NULL);
	CHECK_STR(d, "cirrus-vga");
}

TEST(dmargs_dom0_only)
{
	char *ok[] = {
		"-machine", "xenfv,suppress-vmdesc=on,max-ram-below-4g=536870912",
		"-chardev", "socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-7,server=on,wait=off",
		"-append",  "root=/dev/xvda",
		"-kernel"};
	char *kernel[] = {"-m", "512", "-kernel", "/root/vmlinuz", "-initrd", "/root/initrd"};
	char *initrd[] = {"-initrd", "/root/initrd"};
	char *pty[] = {"-chardev", "pty,id=libxl-channel0"};
	char *sock[] = {"-nodefaults", "-chardev",
			"socket,id=libxl-channel1,path=/tmp/ch1,server=on,wait=off"};
	char *igd[] = {"-machine", "xenfv,igd-passthru=on"};
	char *igd_off[] = {"-machine", "xenfv,igd-passthru=off"};
	const char *names;
	char w[24];

	/* (a -kernel without its value at the end is QEMU's to refuse) */
	CHECK(!dmargs_dom0_only(ok, 7, w, sizeof(w), &names));
	CHECK_STR(dmargs_dom0_only(kernel, 6, w, sizeof(w), &names), "kernel");
	CHECK_STR(w, "-kernel /root/vmlinuz");
	CHECK_STR(names, "a file in dom0, which QEMU in the stubdomain cannot open");
	CHECK_STR(dmargs_dom0_only(initrd, 2, w, sizeof(w), &names), "ramdisk");
	CHECK_STR(dmargs_dom0_only(pty, 2, w, sizeof(w), &names), "channel");
	CHECK_STR(w, "-chardev pty,id=libxl-c"); /* cut to the buffer */
	CHECK_STR(dmargs_dom0_only(sock, 3, w, sizeof(w), &names), "channel");
	CHECK_STR(names, "a channel end that would be the stubdomain's, out of dom0's reach");
	CHECK_STR(dmargs_dom0_only(igd, 2, w, sizeof(w), &names), "gfx_passthru");
	CHECK_STR(names, "the host's IGD bridge, which the stubdomain does not have");
	CHECK(!dmargs_dom0_only(igd_off, 2, w, sizeof(w), &names));
}
