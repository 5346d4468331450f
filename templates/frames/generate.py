#!/usr/bin/env python3
"""Regenerate the overlay frames of the bundled layouts (pure Python, no dependencies).

Each frame is an RGBA PNG the size of its layout's canvas: transparent except a ring
RING px wide just inside every photo slot, an outer border, and (for two-strip sheets) a
dashed cutting guide. Slots must match the layout files next to this folder.
"""
import struct
import zlib

RING = 8
GOLD = (200, 160, 74, 255)
GREY = (170, 170, 170, 255)


def png(path, w, h, px):
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        raw.extend(px[y * w * 4:(y + 1) * w * 4])

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)


def frame(path, w, h, slots, border=0, cut_x=None):
    px = bytearray(w * h * 4)

    def rect(x0, y0, x1, y1, c):
        for y in range(max(0, y0), min(h, y1)):
            row = bytes(c) * (min(w, x1) - max(0, x0))
            px[(y * w + max(0, x0)) * 4:(y * w + min(w, x1)) * 4] = row

    if border:
        rect(0, 0, w, border, GOLD)
        rect(0, h - border, w, h, GOLD)
        rect(0, 0, border, h, GOLD)
        rect(w - border, 0, w, h, GOLD)
    for (x, y, sw, sh) in slots:
        rect(x, y, x + sw, y + RING, GOLD)
        rect(x, y + sh - RING, x + sw, y + sh, GOLD)
        rect(x, y, x + RING, y + sh, GOLD)
        rect(x + sw - RING, y, x + sw, y + sh, GOLD)
    if cut_x is not None:
        for y in range(0, h, 24):
            rect(cut_x - 1, y, cut_x + 1, y + 12, GREY)
    png(path, w, h, px)


def strip_slots(ox):
    return [(ox + 40, 40 + i * 380, 520, 350) for i in range(4)]


frame("strip.png", 1200, 1800, strip_slots(0) + strip_slots(600), cut_x=600)
frame("strip-2x6.png", 600, 1800, strip_slots(0))
frame("postcard.png", 1200, 1800, [(60, 60, 1080, 1380)], border=16)
frame("grid.png", 1200, 1800, [(50, 50, 525, 700), (625, 50, 525, 700), (50, 800, 525, 700), (625, 800, 525, 700)], border=16)
