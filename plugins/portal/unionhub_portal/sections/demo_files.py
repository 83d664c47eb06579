"""Files for the demo's attachments, drawn here so that nothing is fetched: PNG covers (a
poster-like skyline under a sky gradient, encoded with ``zlib`` and ``struct``), one-page PDFs
with Chinese text (the standard ``STSong-Light`` CID font, which PDF readers provide without
embedding) and UTF-8 text files."""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Sequence

Color = tuple[int, int, int]

#: (sky top, sky bottom, sun, buildings) — the union's reds and a few calm alternatives.
PALETTES: tuple[tuple[Color, Color, Color, Color], ...] = (
    ((200, 22, 29), (250, 170, 90), (255, 236, 160), (120, 12, 18)),
    ((176, 18, 36), (244, 124, 84), (255, 220, 120), (96, 10, 24)),
    ((28, 88, 160), (150, 200, 240), (255, 244, 200), (20, 50, 96)),
    ((22, 120, 98), (170, 222, 190), (255, 250, 210), (14, 70, 60)),
    ((120, 60, 150), (240, 170, 190), (255, 230, 180), (70, 30, 90)),
    ((214, 110, 20), (252, 210, 120), (255, 250, 220), (120, 56, 10)),
)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + tag + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))


def png(width: int, height: int, rows: Sequence[bytes]) -> bytes:
    """An 8-bit RGB PNG from ``height`` rows of ``width * 3`` bytes."""
    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))


def _mix(a: Color, b: Color, t: float) -> Color:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


def cover_png(rng: random.Random, width: int = 480, height: int = 270) -> bytes:
    """A cover: sky gradient, a sun, a skyline with lit windows and a ground band — one
    slice assignment per shape and row, so a cover takes about a millisecond."""
    top, bottom, sun, building = rng.choice(PALETTES)
    ground = height - height // 8
    sun_x, sun_y = rng.randint(width // 5, width * 4 // 5), rng.randint(height // 6, height // 2)
    sun_r = rng.randint(height // 10, height // 6)
    towers: list[tuple[int, int, int]] = []
    x = 0
    while x < width:
        w = rng.randint(width // 24, width // 9)
        towers.append((x, min(width, x + w), rng.randint(height // 3, ground - height // 12)))
        x += w + rng.randint(0, width // 60)
    window = _mix(sun, (255, 255, 255), 0.3)
    rows: list[bytes] = []
    for y in range(height):
        row = bytearray(bytes(_mix(top, bottom, y / height)) * width)
        dy = y - sun_y
        if abs(dy) <= sun_r:
            half = int((sun_r * sun_r - dy * dy) ** 0.5)
            x0, x1 = max(0, sun_x - half), min(width, sun_x + half)
            row[x0 * 3:x1 * 3] = bytes(sun) * (x1 - x0)
        for x0, x1, roof in towers:
            if y >= roof:
                row[x0 * 3:x1 * 3] = bytes(building) * (x1 - x0)
                if (y - roof) % 12 in (4, 5, 6) and y < ground - 4:
                    for wx in range(x0 + 3, x1 - 5, 9):
                        row[wx * 3:(wx + 4) * 3] = bytes(window) * 4
        if y >= ground:
            row[:] = bytes(_mix(building, (0, 0, 0), 0.35)) * width
        rows.append(bytes(row))
    return png(width, height, rows)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        while len(paragraph) > width:
            lines.append(paragraph[:width])
            paragraph = paragraph[width:]
        lines.append(paragraph)
    return lines


def _hex(text: str) -> str:
    return text.encode("utf-16-be", "replace").hex().upper()


def pdf(title: str, body: str) -> bytes:
    """A one-page A4 PDF: ``title`` in 18 pt, ``body`` (lines split on ``\\n``) in 11 pt,
    as much as fits on the page."""
    ops = [f"BT /F1 18 Tf 56 780 Td <{_hex(title[:30])}> Tj ET"]
    y = 740
    for line in _wrap(body, 40):
        if y < 60:
            break
        ops.append(f"BT /F1 11 Tf 56 {y} Td <{_hex(line)}> Tj ET")
        y -= 18
    content = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
        b"/FontDescriptor 7 0 R /DW 1000 >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
        b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
        b"/CapHeight 880 /StemV 93 >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def text_file(title: str, body: str) -> bytes:
    return (title + "\n\n" + body + "\n").encode("utf-8")
