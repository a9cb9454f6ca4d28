# SPDX-License-Identifier: GPL-2.0-only
"""A minimal RFB (VNC) 3.8 client, for the display tests: the handshake with no security, one
full-screen raw framebuffer update, and the screen as PNG. The local tier imports it; in emulated
dom0 it runs as a script:

    python3 rfb.py SOCKET OUT.png   prints "banner <version> size <w>x<h> name <name> colours <n>"
"""
import socket
import struct
import sys
import time
import zlib


class RfbError(Exception):
    pass


class Rfb:
    def __init__(self, path, timeout=20):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.banner = self.recv(12)
        if not self.banner.startswith(b'RFB 003.'):
            raise RfbError('no RFB banner: %r' % self.banner)

    def recv(self, n):
        out = b''
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise RfbError('connection closed after %d of %d bytes' % (len(out), n))
            out += chunk
        return out

    def handshake(self):
        """Version 3.8, security type None, a shared session; the server's size and name."""
        self.s.sendall(b'RFB 003.008\n')
        n = self.recv(1)[0]
        if n == 0:
            why = self.recv(struct.unpack('>I', self.recv(4))[0])
            raise RfbError('server refused: %r' % why)
        types = self.recv(n)
        if 1 not in types:
            raise RfbError('no security type None among %r' % list(types))
        self.s.sendall(b'\x01')
        if struct.unpack('>I', self.recv(4))[0] != 0:
            raise RfbError('security handshake failed')
        self.s.sendall(b'\x01')
        w, h = struct.unpack('>HH', self.recv(4))
        self.recv(16)
        name = self.recv(struct.unpack('>I', self.recv(4))[0])
        self.width, self.height, self.name = w, h, name.decode(errors='replace')
        # 32 bits per pixel, true colour, little-endian, blue in the low byte; raw encoding, and
        # the DesktopSize pseudo-encoding (the guest changes modes: QEMU's placeholder, text).
        self.s.sendall(struct.pack('>BxxxBBBBHHHBBBxxx', 0, 32, 24, 0, 1, 255, 255, 255,
                                   16, 8, 0))
        self.s.sendall(struct.pack('>BxHii', 2, 2, 0, -223))
        return w, h, self.name

    def screen(self):
        """One full, non-incremental update: the screen as RGB bytes, row by row."""
        w, h = self.width, self.height
        self.s.sendall(struct.pack('>BBHHHH', 3, 0, 0, 0, w, h))
        rgb = bytearray(w * h * 3)
        while True:
            kind = self.recv(1)[0]
            if kind == 0:
                break
            if kind == 2:  # bell
                continue
            if kind == 1:  # colour map entries
                _, _, count = struct.unpack('>xHH', self.recv(5))
                self.recv(6 * count)
                continue
            if kind == 3:  # server cut text
                self.recv(struct.unpack('>xxxI', self.recv(7))[0])
                continue
            raise RfbError('unexpected server message %d' % kind)
        nrects = struct.unpack('>xH', self.recv(3))[0]
        resized = False
        for _ in range(nrects):
            x, y, rw, rh, enc = struct.unpack('>HHHHi', self.recv(12))
            if enc == -223:  # DesktopSize: the screen changed size; ask again
                self.width, self.height = rw, rh
                resized = True
                continue
            if enc != 0:
                raise RfbError('unexpected encoding %d' % enc)
            data = self.recv(rw * rh * 4)
            for row in range(rh):
                px = data[row * rw * 4:(row + 1) * rw * 4]
                line = bytearray(rw * 3)
                line[0::3], line[1::3], line[2::3] = px[2::4], px[1::4], px[0::4]
                o = ((y + row) * w + x) * 3
                rgb[o:o + rw * 3] = line
        return self.screen() if resized else bytes(rgb)

    def close(self):
        self.s.close()


def colours(w, h, rgb):
    return len({rgb[i:i + 3] for i in range(0, w * h * 3, 3)})


def png(w, h, rgb):
    def chunk(kind, body):
        return (struct.pack('>I', len(body)) + kind + body +
                struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff))
    raw = b''.join(b'\x00' + rgb[r * w * 3:(r + 1) * w * 3] for r in range(h))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


# QEMU's screen before the guest set a video mode ("Guest has not initialized the display").
PLACEHOLDER = (640, 480)


def guest_screen(c, wait):
    """Screens until the guest's own (a mode the guest set, not blank: SeaBIOS's text is grey on
    black) or @wait seconds pass. The last screen, and its number of colours."""
    end = time.monotonic() + wait
    while True:
        rgb = c.screen()
        n = colours(c.width, c.height, rgb)
        if (n > 1 and (c.width, c.height) != PLACEHOLDER) or time.monotonic() > end:
            return rgb, n
        time.sleep(0.5)


def text_screen(path, out, wait=60):
    """Connects, takes the guest's screen (guest_screen) and writes it as PNG to @out."""
    c = Rfb(path)
    w, h, name = c.handshake()
    rgb, n = guest_screen(c, wait)
    w, h = c.width, c.height
    c.close()
    with open(out, 'wb') as f:
        f.write(png(w, h, rgb))
    return c.banner.decode().strip(), w, h, name, n


if __name__ == '__main__':
    banner, w, h, name, n = text_screen(sys.argv[1], sys.argv[2])
    print('banner %s size %dx%d name %s colours %d' % (banner, w, h, name, n))
