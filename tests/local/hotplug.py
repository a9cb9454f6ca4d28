# SPDX-License-Identifier: GPL-2.0-only
"""Room hotplug: the device-model command protocol, PCI and CD-ROM.

pci-ins and pci-rem through xenstore, commands that fail, a CD vbd handed to QEMU, a PCI device
hot-plugged into the stubdomain (uevents: the kernel's taken, a process's ignored).
"""
import os
import re
import subprocess
import tempfile
import time

from qmp import Qmp
from runner import check, eq, test
from stubinit import DOMID, TARGET, Stubinit, guest_store

from .common import (BUILD, GUEST, MACHINE, QEMU_KEYS, TEST_QMP, Env, Ptys, fd_targets,
                     qemu_down, qemu_env, wait_status)


DM = '/local/domain/%d/device-model/%d' % (DOMID, TARGET)


def command(xsd, cmd, param):
    """What a toolstack does: parameter, then command, then wait for the state."""
    with xsd.connect() as c:
        c.write(DM + '/parameter', param)
        c.write(DM + '/command', cmd)


def wait_dm_state(xsd, want, timeout=20):
    end = time.monotonic() + timeout
    got = None
    while time.monotonic() < end:
        try:
            got = xsd.read(DM + '/state')
        except Exception:
            got = None
        if got in want:
            return got
        time.sleep(0.05)
    raise AssertionError('device-model state %r, expected one of %s' % (got, want))


@test
def command_pci_ins_and_pci_rem():
    env, xsd, s, ptys = qemu_env(extra='stubinit.pci-driver=pci-testdev '
                                       'stubinit.command-timeout=1s')
    try:
        wait_status(xsd, 'running', timeout=30)
        command(xsd, 'pci-ins', '0000:00:03.0@28,msitranslate=0,power_mgmt=0')
        eq(wait_dm_state(xsd, ('pci-inserted', 'pci-insert-failed')), 'pci-inserted', 'state')
        # @28 is the vdevfn (slot 5, function 0); QEMU reports it back, as libxl reads it.
        eq(xsd.read(DM + '/parameter'), '0x28', 'parameter')
        s.wait_log(r'command: pci-ins 0000:00:03.0@28,msitranslate=0,power_mgmt=0: device_add '
                   r'\{"driver":"pci-testdev","id":"pci-pt-00_03.0","addr":"5.0"\}')
        with Qmp(s.root_path(TEST_QMP)) as q:
            devs = [d.get('qdev_id') for b in q.ok('query-pci') for d in b['devices']]
        check('pci-pt-00_03.0' in devs, 'query-pci: %s' % devs)
        # The command key was taken, so the same command can be written again.
        eq(xsd.read(DM + '/command'), '', 'command key after it was taken')
        # No guest OS acknowledges an ACPI unplug under TCG: the bound answers it as failed.
        xsd.write(DM + '/state', 'running')
        command(xsd, 'pci-rem', '0000:00:03.0')
        eq(wait_dm_state(xsd, ('pci-removed', 'pci-remove-failed')), 'pci-remove-failed',
           'state')
        s.wait_log(r"command: pci-rem '0000:00:03.0' failed: no answer within 1s")
    finally:
        qemu_down(env, s, ptys)


@test
def command_failures_are_answered():
    env, xsd, s, ptys = qemu_env()
    try:
        wait_status(xsd, 'running', timeout=30)
        # No xen-pci-passthrough in a TCG QEMU: the insert fails, and says so in time for libxl.
        command(xsd, 'pci-ins', '0000:00:03.0,msitranslate=1,power_mgmt=0')
        eq(wait_dm_state(xsd, ('pci-inserted', 'pci-insert-failed')), 'pci-insert-failed',
           'state')
        s.wait_log(r"command: pci-ins '0000:00:03.0,msitranslate=1,power_mgmt=0' failed: "
                   r"device_add: .*xen-pci-passthrough")
        # A malformed parameter: refused before QEMU is asked anything.
        xsd.write(DM + '/state', 'running')
        command(xsd, 'pci-ins', '0000:00:3g.0,msitranslate=0,power_mgmt=0')
        eq(wait_dm_state(xsd, ('pci-inserted', 'pci-insert-failed')), 'pci-insert-failed',
           'state')
        s.wait_log(r"command: pci-ins '0000:00:3g.0,msitranslate=0,power_mgmt=0' failed: "
                   r"malformed parameter: '.' expected")
        check(len(re.findall(r': device_add \{', s.log())) == 1, 'malformed command reached QEMU')
        xsd.write(DM + '/state', 'running')
        command(xsd, 'save', '')
        eq(wait_dm_state(xsd, ('error',)), 'error', 'unknown command')
    finally:
        qemu_down(env, s, ptys)


@test
def cdrom_vbd_appearing_is_handed_to_qemu():
    # A CD vbd appears as a block device whose sysfs says device/vbd/<devid>. Here a loop device
    # stands in for it, with a stand-in /sys that names it so: Xen's blkfront cannot run here.
    img = tempfile.mktemp(prefix='stubinit-cd-')
    with open(img, 'wb') as f:
        f.write(b'\0' * 65536)
    loop = subprocess.run(['losetup', '-f'], capture_output=True, text=True).stdout.strip()
    check(loop.startswith('/dev/loop'), 'no free loop device: %r' % loop)
    name = os.path.basename(loop)
    env = Env(guest=None)
    xsd = env.__enter__()
    guest_store(xsd, args=GUEST[:7] + MACHINE, consoles=())
    xsd.write('/local/domain/%d/device/vbd/5632/device-type' % DOMID, 'cdrom')
    xsd.chmod('/local/domain/%d/device' % DOMID, 'n0', 'r%d' % DOMID, recurse=True)
    ptys = Ptys(ns=())
    s = Stubinit(BUILD, xsd, cmdline='console=hvc0 ' + QEMU_KEYS,
                 files={'/fake-sys/block/%s/device/nodename' % name: ('device/vbd/5632\n', 0o644)},
                 sys_from='/fake-sys')
    s.start()
    attached = False
    try:
        wait_status(xsd, 'running', timeout=30)
        subprocess.run(['losetup', loop, img], check=True)
        attached = True
        # Attaching is a "change"; a vbd hot-plugged into a stubdomain is an "add": replay one.
        with open('/sys/block/%s/uevent' % name, 'w') as f:
            f.write('add')
        s.wait_log(r'cdrom: vbd 5632 appeared as /dev/%s; add-fd with opaque stub-devid:5632'
                   % name)
        s.wait_log(r'cdrom: handed to QEMU \(add-fd\)')
        with Qmp(s.root_path(TEST_QMP)) as q:
            sets = q.ok('query-fdsets')
        opaques = [f.get('opaque') for st in sets for f in st['fds']]
        check('stub-devid:5632' in opaques, 'query-fdsets: %s' % sets)
        # stubinit let go of its copy, so blkfront could detach the vbd.
        check(not any(t.endswith(name) for t in fd_targets(s.pid()).values()),
              'stubinit still holds the CD')
    finally:
        if attached:
            subprocess.run(['losetup', '-d', loop])
        os.unlink(img)
        qemu_down(env, s, ptys)


# A process's message on the uevent socket, worded as the kernel would word a PCI hot-plug, sent
# into stubinit's network namespace: only the kernel may speak there, so stubinit ignores it.
UEVENT_SEND = r"""
import socket, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)  # NETLINK_KOBJECT_UEVENT
s.bind((0, 0))
s.sendto(sys.argv[1].encode().replace(b'|', b'\0'), (0, 1))
"""


def forged_pci_uevent(s, slot, driver):
    devpath = '/devices/pci-0/pci0000:00/' + slot
    msg = '|'.join(['add@' + devpath, 'ACTION=add', 'DEVPATH=' + devpath, 'SUBSYSTEM=pci',
                    'DRIVER=' + driver, 'PCI_SLOT_NAME=' + slot, 'SEQNUM=1']) + '|'
    subprocess.run(['nsenter', '--net=/proc/%d/ns/net' % s.pid(), 'python3', '-c', UEVENT_SEND,
                    msg], check=True)


def host_pci_device():
    """A PCI device of this machine with a driver: the kernel words its uevents as pcifront's."""
    for slot in sorted(os.listdir('/sys/bus/pci/devices')):
        drv = '/sys/bus/pci/devices/%s/driver' % slot
        if os.path.islink(drv):
            return slot, os.path.basename(os.readlink(drv))
    raise AssertionError('this machine has no PCI device with a driver to make the kernel send '
                         'a PCI uevent for')


def kernel_pci_uevent(slot):
    """The kernel sends an "add" uevent for @slot again (as udevadm trigger makes it), to every
    network namespace's uevent sockets: what pcifront's hot-plug makes it send in a stubdomain.
    stubinit's /sys is a stand-in, so its unbind touches nothing of this machine's."""
    with open('/sys/bus/pci/devices/%s/uevent' % slot, 'w') as f:
        f.write('add')


@test
def pci_device_hot_plugged_is_taken_from_stubdomain_drivers():
    # The device is QEMU's: stubinit logs it and unbinds the driver the uevent names. QEMU runs
    # deprivileged here, which xen-pci-passthrough cannot work with (Linux shows a process without
    # CAP_SYS_ADMIN only 64 bytes of config space): stubinit says so, naming the key. With
    # qemu-user=root (a second stubinit) it does not, nor with the default, auto, when the
    # stubdomain has a PCI frontend at boot (a third: Qubes' libxl attaches PCI devices before the
    # stubdomain runs). A process's look-alike message is ignored.
    slot, driver = host_pci_device()
    unbind = '/fake-sys/bus/pci/devices/%s/driver/unbind' % slot
    for user, pci_at_boot in (('', False), ('root', False), ('', True)):
        env = Env(guest=None)
        xsd = env.__enter__()
        guest_store(xsd, args=GUEST[:7] + MACHINE, consoles=())
        if pci_at_boot:
            xsd.write('/local/domain/%d/device/pci/0/state' % DOMID, '1')
        ptys = Ptys(ns=())
        s = Stubinit(BUILD, xsd, cmdline='console=hvc0 ' + QEMU_KEYS +
                     (' stubinit.qemu-user=' + user if user else ''),
                     files={unbind: ('', 0o200)},
                     sys_from='/fake-sys')
        s.start()
        try:
            wait_status(xsd, 'running', timeout=30)
            forged_pci_uevent(s, '0000:00:1f.7', 'fake-drv')
            s.wait_log(r'uevent: a message not from the kernel \(port \d+\) ignored')
            kernel_pci_uevent(slot)
            s.wait_log(r'pci: %s hot-plugged into the stubdomain; driver %s' % (slot, driver))
            s.wait_log(r'pci: %s: unbound from %s' % (slot, driver))
            with open(s.root_path(unbind)) as f:
                eq(f.read(), slot, 'written to driver/unbind')
            check('0000:00:1f.7' not in s.log(), 'the forged uevent was acted on')
            warned = re.search(r'pci: %s: QEMU runs deprivileged \(key stubinit.qemu-user='
                               r'auto: no PCI frontend at boot, as upstream libxl attaches PCI '
                               r'devices after QEMU started\).* needs stubinit.qemu-user=root'
                               % slot, s.log())
            check(bool(warned) == (user != 'root' and not pci_at_boot),
                  'qemu-user=%r, PCI frontend at boot %s: warning %s' % (
                      user or 'default', pci_at_boot, 'logged' if warned else 'missing'))
            kept = re.search(r'QEMU keeps root \(stubinit.qemu-user=auto\): the stubdomain has '
                             r'1 PCI frontend\(s\) at boot', s.log())
            check(bool(kept) == pci_at_boot, 'auto with a PCI frontend at boot: %s' % (
                'root' if kept else 'deprivileged'))
        finally:
            qemu_down(env, s, ptys)
