# SPDX-License-Identifier: GPL-2.0-only
"""Room net: taps joined to PV NICs, with veth pairs standing in for netfronts.

Frames both ways through two NICs, a NIC QEMU unplugs, the network spec's errors, eight NICs.
"""
import os
import re
import subprocess
import time

from qmp import Qmp
from runner import check, eq, test
from stubinit import Stubinit, guest_store

from .common import (BUILD, DOMID, GUEST, MACHINE, QEMU_KEYS, TEST_QMP, Env, Ptys, qemu_down,
                     wait_status)


class Dom0Net:
    """A network namespace standing in for dom0, and veth pairs standing in for the stubdomain's
    netfronts: one end moves into stubinit's namespace, the peer stays on the dom0 side."""

    def __init__(self):
        self.ns = 'stubinit-dom0-%d' % os.getpid()
        subprocess.run(['ip', 'netns', 'del', self.ns], capture_output=True)
        subprocess.run(['ip', 'netns', 'add', self.ns], check=True)

    def vif(self, s, devid, mac):
        nf, peer = 'nf%d' % devid, 'd%d' % devid
        subprocess.run(['ip', 'link', 'add', nf, 'address', mac, 'mtu', '1400', 'type', 'veth',
                        'peer', 'name', peer, 'netns', self.ns], check=True)
        subprocess.run(['ip', 'link', 'set', nf, 'netns', str(s.pid())], check=True)
        subprocess.run(['ip', '-n', self.ns, 'link', 'set', peer, 'up'], check=True)
        return peer

    def run(self, *cmd, **kw):
        return subprocess.run(['ip', 'netns', 'exec', self.ns] + list(cmd), capture_output=True,
                              text=True, timeout=60, **kw)

    def close(self):
        subprocess.run(['ip', 'netns', 'del', self.ns], capture_output=True)


SEND = """
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
s.send(b'\\xff' * 6 + bytes.fromhex('020000000001') + b'\\x88\\xb5' + sys.argv[2].encode() * 4)
"""

RECV = """
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.settimeout(1)
want = bytes.fromhex(sys.argv[2].replace(':', ''))
end = time.time() + float(sys.argv[3])
print('ready', flush=True)
while time.time() < end:
    try:
        f = s.recv(65536)
    except socket.timeout:
        continue
    if f[6:12] == want:
        print('got', f[12:14].hex(), flush=True)
        sys.exit(0)
sys.exit(1)
"""


def nic_args(devids, usb=()):
    a = []
    for d in devids:
        mac = '00:16:3e:aa:00:%02x' % d
        if d in usb:
            a += ['-device', 'qemu-xhci,id=xhci%d' % d,
                  '-device', 'usb-net,id=nic%d,netdev=net%d,mac=%s' % (d, d, mac)]
        else:
            # rtl8139, libxl's default model, takes (and drops) frames while no guest driver
            # enabled it, so they pass the netdev's filter-dump; an idle e1000 would leave
            # them queued in the tap. No option ROM: with iPXE's, SeaBIOS network-boots the
            # guest about 2 s after QEMU starts, and iPXE's DHCP from the guest's MAC races what
            # the tests send from dom0's side with that MAC (the DHCP test counted an OFFER
            # meant for iPXE).
            a += ['-device', 'rtl8139,id=nic%d,netdev=net%d,mac=%s,romfile=' % (d, d, mac)]
        a += ['-netdev', 'type=tap,id=net%d,ifname=vif7.%d-emu,script=no,downscript=no' % (d, d),
              '-object', 'filter-dump,id=fd%d,netdev=net%d,file=/run/stubinit/qemu/dump%d.pcap'
              % (d, d, d)]
    return a


def net_env(devids, usb=(), extra='', files=None, more=()):
    env = Env(guest=None)
    xsd = env.__enter__()
    vifs = {d: '00:16:3e:00:01:%02x' % d for d in devids}
    guest_store(xsd, args=GUEST[:7] + nic_args(devids, usb) + MACHINE + list(more), consoles=(),
                vifs=vifs)
    s = Stubinit(BUILD, xsd, cmdline='console=hvc0 %s %s' % (QEMU_KEYS, extra), files=files)
    s.start()
    return env, xsd, s, vifs


def links(s):
    r = s.in_ns('ip', '-o', 'link', ns='-n')
    return r.stdout


def master_of(s, ifname):
    m = re.search(r'\d+: %s[@:].* master (\S+)' % re.escape(ifname), links(s))
    return m.group(1) if m else None


@test
def net_two_nics_frames_both_ways():
    net = Dom0Net()
    env, xsd, s, vifs = net_env([0, 1])
    try:
        s.wait_log(r'network: created tap vif7.0-emu')
        s.wait_log(r'network: 10 item\(s\): 0 failed, \d+ waiting, 0 bad')
        wait_status(xsd, 'running', timeout=30)
        peers = [net.vif(s, d, vifs[d]) for d in (0, 1)]
        # The netfronts appear after QEMU started: link events bring them in, nobody polls.
        s.wait_log(r'network: every item applied')
        for d in (0, 1):
            eq(master_of(s, 'nf%d' % d), 'br%d' % d, 'nf%d master' % d)
            eq(master_of(s, 'vif7.%d-emu' % d), 'br%d' % d, 'tap %d master' % d)
            ln = links(s)
            check(re.search(r'nf%d@\S+ .*mtu 1400 .*link/ether fe:ff:ff:ff:%02x:fe' % (d, d), ln),
                  'netfront %d MAC/MTU: %s' % (d, ln))
            check(re.search(r'vif7.%d-emu: .*mtu 1400 ' % d, ln), 'tap MTU carried: %s' % ln)
        # dom0 -> guest NIC: a frame sent on the dom0 side reaches QEMU's netdev.
        for d in (0, 1):
            r = net.run('python3', '-c', SEND, peers[d], 'stubinit-to-nic%d' % d)
            eq(r.returncode, 0, 'send: ' + r.stderr)
        for d in (0, 1):
            end = time.monotonic() + 10
            dump = b''
            while b'stubinit-to-nic%d' % d not in dump:
                check(time.monotonic() < end, 'frame never reached QEMU netdev %d' % d)
                time.sleep(0.1)
                try:
                    dump = open(s.root_path('/run/stubinit/qemu/dump%d.pcap' % d), 'rb').read()
                except OSError:
                    dump = b''
            check(b'stubinit-to-nic%d' % (1 - d) not in dump, 'frames crossed NICs')
        # guest NIC -> dom0: QEMU announces the guest's MAC (RARP), seen on the dom0 side.
        for d in (0, 1):
            p = subprocess.Popen(['ip', 'netns', 'exec', net.ns, 'python3', '-c', RECV, peers[d],
                                  '00:16:3e:aa:00:%02x' % d, '20'], stdout=subprocess.PIPE,
                                 text=True)
            eq(p.stdout.readline().strip(), 'ready', 'receiver')
            with Qmp(s.root_path(TEST_QMP)) as q:
                q.ok('announce-self', initial=50, max=100, rounds=2, step=50)
            eq(p.wait(30), 0, 'no frame from the guest MAC reached dom0 on NIC %d' % d)
    finally:
        qemu_down(env, s, Ptys(ns=()))
        net.close()


@test
def net_device_deleted_removes_bridge_and_tap():
    net = Dom0Net()
    env, xsd, s, vifs = net_env([0, 1], usb=(1,))
    try:
        wait_status(xsd, 'running', timeout=30)
        for d in (0, 1):
            net.vif(s, d, vifs[d])
        s.wait_log(r'network: every item applied')
        with Qmp(s.root_path(TEST_QMP)) as q:
            r = q.call('device_del', {'id': 'nic1'})
            check('return' in r, 'device_del: %s' % r)
        s.wait_log(r'monitor: event .*"event":"DEVICE_DELETED".*"device":"nic1"')
        s.wait_log(r'network: QEMU unplugged nic1; removing its bridge and tap')
        s.wait_log(r'network: removed br1')
        s.wait_log(r'network: removed vif7.1-emu')
        # unplug-pv-nic: the stubdomain's own PV NIC 1 goes (no Xen bus here: the unbind fails
        # and says so, the frontend directory goes all the same).
        s.wait_log(r'network: cannot unbind vif-1 from the netfront driver '
                   r'\(/sys/bus/xen/drivers/vif/unbind\)')
        s.wait_log(r'network: removed /local/domain/%d/device/vif/1: dom0 tears down' % DOMID)
        check(not xsd.exists('/local/domain/%d/device/vif/1' % DOMID), 'device/vif/1 left')
        eq(xsd.read('/local/domain/%d/device/vif/0/mac' % DOMID), vifs[0], 'device/vif/0 kept')
        ln = links(s)
        check(' br1:' not in ln and 'vif7.1-emu' not in ln, 'br1 or its tap left: %s' % ln)
        eq(master_of(s, 'nf0'), 'br0', 'NIC 0 untouched')
        # A device named like a NIC that the topology does not have (as a hostile QEMU would
        # report it) touches nothing.
        with Qmp(s.root_path(TEST_QMP)) as q:
            r = q.call('device_add', {'driver': 'usb-kbd', 'id': 'nic9', 'bus': 'xhci1.0'})
            check('return' in r, 'device_add nic9: %s' % r)
            r = q.call('device_del', {'id': 'nic9'})
            check('return' in r, 'device_del nic9: %s' % r)
        s.wait_log(r'network: QEMU unplugged nic9')
        time.sleep(0.5)
        check(not re.search(r'vif-9|device/vif/9', s.log()), 'NIC 9 was acted on')
        eq(xsd.read('/local/domain/%d/device/vif/0/mac' % DOMID), vifs[0], 'device/vif/0 kept')
    finally:
        qemu_down(env, s, Ptys(ns=()))
        net.close()


@test
def net_spec_errors_name_line_and_item():
    spec = ('bridge lab0\n'
            'tap labtap0 mac=02:00:00:00:00:01\n'
            'bogus thing\n'
            'tap labtap1 mtu=99999\n'
            'attach lab0 labtap0\n'
            'link vif:x\n')
    env, xsd, s, vifs = net_env([], files={'/etc/stubinit/network': (spec, 0o644)},
                                extra='"stubinit.network=bridge lab1;attach lab1 lab0x"')
    try:
        s.wait_log(r"network: /etc/stubinit/network line 3: 'bogus thing': unknown item")
        s.wait_log(r"network: /etc/stubinit/network line 4: 'tap labtap1 mtu=99999': mtu must be")
        s.wait_log(r"network: /etc/stubinit/network line 6: 'link vif:x': not a valid interface")
        s.wait_log(r'network: 5 item\(s\): 0 failed, 1 waiting, 3 bad spec line\(s\)')
        wait_status(xsd, 'running', timeout=30)
        eq(master_of(s, 'labtap0'), 'lab0', 'declared port')
        check(re.search(r'labtap0: .*link/ether 02:00:00:00:00:01', links(s)), 'declared MAC')
        check(' lab1:' in links(s), 'bridge from stubinit.network')
    finally:
        qemu_down(env, s, Ptys(ns=()))


@test
def net_eight_nics():
    net = Dom0Net()
    devs = list(range(8))
    env, xsd, s, vifs = net_env(devs)
    try:
        wait_status(xsd, 'running', timeout=60)
        for d in devs:
            net.vif(s, d, vifs[d])
        s.wait_log(r'network: every item applied', timeout=30)
        for d in devs:
            eq(master_of(s, 'nf%d' % d), 'br%d' % d, 'nf%d' % d)
            eq(master_of(s, 'vif7.%d-emu' % d), 'br%d' % d, 'tap %d' % d)
    finally:
        qemu_down(env, s, Ptys(ns=()))
        net.close()


# The guest's side of DHCP, from dom0's end of the NIC (frames pass the stubdomain's bridge): a
# flood of what a hostile guest sends (every truncation, options running past the end, lengths
# that lie, fragments, a relay, strangers' MACs, server messages), none of which may get an
# answer, then one good DISCOVER that must.
DHCP_HOSTILE = """
import os, random, socket, struct, sys, time
ifname, guest = sys.argv[1], bytes.fromhex(sys.argv[2].replace(':', ''))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind((ifname, 0))
s.settimeout(0.05)
def csum(h):
    t = sum(struct.unpack('>10H', h))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return struct.pack('>H', ~t & 0xffff)
def frame(opts, mac=guest, flags=0x8000, giaddr=bytes(4), frag=0, cut=None, xid=None):
    bp = (bytes([1, 1, 6, 0]) + (xid or os.urandom(4)) + struct.pack('>HH', 0, flags) + bytes(12) +
          giaddr + mac + bytes(10) + bytes(192) + bytes([99, 130, 83, 99]) + bytes(opts))
    udp = struct.pack('>HHHH', 68, 67, 8 + len(bp), 0) + bp
    h = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, frag, 64, 17, 0, bytes(4),
                    b'\\xff' * 4)
    ip = h[:10] + csum(h) + h[12:] + udp
    if cut is not None:
        ip = ip[:cut]
    return b'\\xff' * 6 + mac + b'\\x08\\x00' + ip
def replies(wait):
    got, end = [], time.time() + wait
    while time.time() < end:
        try:
            f = s.recv(2048)
        except socket.timeout:
            continue
        if len(f) > 42 and f[23] == 17 and f[34:36] == b'\\x00\\x43':
            got.append(f)
    return got
stranger = bytes.fromhex('02aabbccddee')
discover = [53, 1, 1, 255]
bad = [frame(discover, cut=c) for c in range(0, len(frame(discover)) - 14, 7)]
bad += [frame([53, 1, 1, 12, 250, 1, 2]), frame([53, 2, 1, 1, 255]), frame([12, 1, 120, 255]),
        frame([53, 1, 2, 255]), frame([53, 1, 5, 255]), frame([53, 1, 0, 255]),
        frame(discover, mac=stranger), frame(discover, giaddr=bytes([10, 0, 0, 1])),
        frame(discover, frag=0x2000), frame([53, 1, 3, 255]),
        frame([53, 1, 3, 50, 4, 10, 137, 0, 5, 54, 4, 10, 0, 0, 1, 255])]
bad += [frame(list(os.urandom(random.randrange(0, 64)))) for _ in range(200)]
n = 0
for i in range(20):
    for f in bad:
        s.send(f)
        n += 1
got = [f for f in replies(1.0)]
print('sent %d hostile frames, %d replies' % (n, len(got)), flush=True)
xid = os.urandom(4)
s.send(frame(discover, xid=xid))
got = replies(3.0)
offers = [f for f in got if f[42 + 28:42 + 34] == guest]
answers = [f for f in offers if f[42 + 4:42 + 8] == xid]
print('good DISCOVER: %d replies, %d for the guest, %d with its xid' % (
    len(got), len(offers), len(answers)), flush=True)
sys.exit(0 if len(offers) == 1 and len(answers) == 1 and n > 0 else 1)
"""

# busybox udhcpc's script: what the lease said, one line.
UDHCPC_SCRIPT = """#!/bin/sh
[ "$1" = bound ] && echo "bound ip=$ip mask=$subnet router=$router dns=$dns server=$serverid lease=$lease"
exit 0
"""


@test
def net_qubes_dhcp_one_lease_to_the_guest_only():
    qubes = ('-qubes-net:client_ip=10.137.0.5,gw=10.137.0.1,netmask=255.255.255.0,'
             'dns_0=10.139.1.1,dns_1=10.139.1.2')
    guest_mac = '00:16:3e:aa:00:00'  # nic_args' -device mac= for NIC 0
    net = Dom0Net()
    env, xsd, s, vifs = net_env([0], more=[qubes], extra='stubinit.log-level=debug')
    script = '/tmp/stubinit-udhcpc-%d.sh' % os.getpid()
    try:
        s.wait_log(r'dm-argv: -qubes-net:client_ip=10.137.0.5,.* taken out: stubinit.s DHCP '
                   r'server serves it')
        s.wait_log(r'dhcp: serving 10.137.0.5 on br0 to 00:16:3e:aa:00:00 only \(router and '
                   r'server 10.137.0.1, 2 DNS server\(s\)\)')
        wait_status(xsd, 'running', timeout=30)
        peer = net.vif(s, 0, vifs[0])
        s.wait_log(r'network: every item applied')
        # dom0's end of the NIC stands in for the guest: it sends from the guest's MAC.
        r = net.run('ip', 'link', 'set', peer, 'address', guest_mac)
        eq(r.returncode, 0, r.stderr)
        r = net.run('python3', '-c', DHCP_HOSTILE, peer, guest_mac)
        eq(r.returncode, 0, 'hostile flood, then a DISCOVER: %s; stubinit: %s' % (
            ' | '.join((r.stdout + r.stderr).splitlines()),
            ' | '.join(re.findall(r'dhcp: .*', s.log()))))
        check(re.search(r'sent [1-9]\d* hostile frames, 0 replies', r.stdout), r.stdout)
        check(s._alive(), 'stubinit died under the flood')
        with open(script, 'w') as f:
            f.write(UDHCPC_SCRIPT)
        os.chmod(script, 0o755)
        r = net.run('busybox', 'udhcpc', '-f', '-q', '-n', '-i', peer, '-t', '5', '-T', '1',
                    '-s', script)
        eq(r.returncode, 0, 'udhcpc got no lease: %s %s' % (r.stdout, r.stderr))
        eq(re.search(r'^bound .*', r.stdout, re.M).group(0),
           'bound ip=10.137.0.5 mask=255.255.255.0 router=10.137.0.1 '
           'dns=10.139.1.1 10.139.1.2 server=10.137.0.1 lease=864000', 'the lease')
        s.wait_log(r'dhcp: br0: REQUEST -> ACK 10.137.0.5')
        dhcp_lines = len(re.findall(r'dhcp: ', s.log()))
        check(dhcp_lines < 60, '%d dhcp lines: the flood reached the log' % dhcp_lines)
    finally:
        qemu_down(env, s, Ptys(ns=()))
        net.close()
        if os.path.exists(script):
            os.unlink(script)
