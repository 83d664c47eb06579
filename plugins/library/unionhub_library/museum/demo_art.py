"""Pictures for the demo exhibitions, drawn with Pillow so that nothing is fetched: posters
with sun rays, sepia "old photographs" of factories and locomotives, portraits in an oval
frame, a newspaper page, a medal, a union service card — each with its Chinese caption.

The captions need a CJK font (:mod:`unionhub_library.fonts`); without one, Pillow's default
font is used (the captions then show as boxes, the pictures stay). Every picture takes a few
tens of milliseconds.
"""

from __future__ import annotations

import io
import math
import random
import sys
import wave
from array import array

from PIL import Image, ImageDraw, ImageFilter

from ..fonts import font

Color = tuple[int, int, int]

RED: Color = (190, 22, 30)
DARK_RED: Color = (110, 10, 16)
GOLD: Color = (245, 196, 82)
CREAM: Color = (246, 236, 214)
SEPIA_DARK: Color = (62, 44, 30)
def _gradient(size: tuple[int, int], top: Color, bottom: Color) -> Image.Image:
    column = Image.new("RGB", (1, 256))
    for y in range(256):
        t = y / 255
        column.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top, bottom,
                                                                              strict=True)))
    return column.resize(size, Image.Resampling.BILINEAR)


def _text_center(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int,
                 fill: Color, stroke: Color | None = None) -> None:
    draw.text(xy, text, font=font(size), fill=fill, anchor="mm",
              stroke_width=max(1, size // 18) if stroke else 0, stroke_fill=stroke)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, fill: Color) -> None:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.4
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=fill)


def _jpeg(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def poster(title: str, subtitle: str, year: str, rng: random.Random,
           size: tuple[int, int] = (1000, 1400)) -> bytes:
    """A propaganda-style poster: sun rays, a star, factory chimneys, the title in a band."""
    w, h = size
    img = _gradient(size, (214, 40, 36), (120, 12, 18))
    draw = ImageDraw.Draw(img)
    cx, cy = w * 0.5, h * 0.42
    for i in range(24):
        a0 = i * math.pi / 12
        a1 = a0 + math.pi / 26
        far = max(w, h) * 1.2
        draw.polygon([(cx, cy), (cx + far * math.cos(a0), cy + far * math.sin(a0)),
                      (cx + far * math.cos(a1), cy + far * math.sin(a1))], fill=(226, 70, 48))
    draw.ellipse((cx - w * 0.2, cy - w * 0.2, cx + w * 0.2, cy + w * 0.2), fill=GOLD)
    _star(draw, cx, cy, w * 0.13, RED)
    ground = h * 0.68
    x = 0.0
    while x < w:
        bw = rng.uniform(w * 0.06, w * 0.14)
        top = ground - rng.uniform(h * 0.06, h * 0.16)
        draw.rectangle((x, top, x + bw, ground), fill=DARK_RED)
        if rng.random() < 0.5:
            chimney = x + bw * 0.3
            draw.rectangle((chimney, top - h * 0.1, chimney + w * 0.018, top), fill=DARK_RED)
        x += bw + rng.uniform(2, w * 0.02)
    draw.rectangle((0, ground, w, h), fill=(92, 8, 14))
    band = (w * 0.06, h * 0.72, w * 0.94, h * 0.9)
    draw.rectangle(band, fill=CREAM)
    _text_center(draw, (w / 2, h * 0.785), title, int(w * 0.075), RED)
    _text_center(draw, (w / 2, h * 0.855), subtitle, int(w * 0.034), SEPIA_DARK)
    _text_center(draw, (w / 2, h * 0.95), year, int(w * 0.04), GOLD)
    return _jpeg(img)


def old_photo(caption: str, scene: str, rng: random.Random,
              size: tuple[int, int] = (1600, 1100)) -> bytes:
    """A sepia photograph with a white border: a locomotive, a factory or a crowd."""
    w, h = size
    inner = (w - 120, h - 220)
    img = _gradient(inner, (214, 196, 160), (150, 120, 86))
    draw = ImageDraw.Draw(img)
    iw, ih = inner
    horizon = ih * 0.62
    draw.rectangle((0, horizon, iw, ih), fill=(118, 92, 64))
    ink = SEPIA_DARK
    if scene == "train":
        for k in range(2):
            y = horizon + 40 + k * 34
            draw.line((0, y, iw, y), fill=(70, 52, 36), width=6)
        body = (iw * 0.18, horizon - ih * 0.26, iw * 0.7, horizon + 10)
        draw.rectangle(body, fill=ink)
        draw.rectangle((iw * 0.58, horizon - ih * 0.4, iw * 0.74, horizon + 10), fill=ink)
        draw.rectangle((iw * 0.24, horizon - ih * 0.38, iw * 0.29, horizon - ih * 0.26), fill=ink)
        for wx in (0.26, 0.38, 0.5, 0.64):
            r = ih * 0.07
            draw.ellipse((iw * wx - r, horizon - r + 22, iw * wx + r, horizon + r + 22),
                         outline=(40, 28, 18), width=8, fill=(96, 72, 50))
        for s in range(6):
            r = 30 + s * 16
            draw.ellipse((iw * 0.265 - r + s * 30, horizon - ih * 0.42 - s * 45 - r,
                          iw * 0.265 + r + s * 30, horizon - ih * 0.42 - s * 45 + r),
                         fill=(190, 176, 150))
    elif scene == "factory":
        x = 0.0
        while x < iw:
            bw = rng.uniform(iw * 0.08, iw * 0.18)
            top = horizon - rng.uniform(ih * 0.12, ih * 0.3)
            draw.rectangle((x, top, x + bw, horizon), fill=ink)
            for gx in range(int(x) + 12, int(x + bw) - 20, 36):
                for gy in range(int(top) + 16, int(horizon) - 20, 40):
                    draw.rectangle((gx, gy, gx + 16, gy + 20), fill=(170, 150, 112))
            if rng.random() < 0.6:
                cx0 = x + bw * 0.6
                draw.rectangle((cx0, top - ih * 0.22, cx0 + 26, top), fill=ink)
                for s in range(4):
                    r = 24 + s * 14
                    draw.ellipse((cx0 + 13 - r + s * 34, top - ih * 0.24 - s * 40 - r,
                                  cx0 + 13 + r + s * 34, top - ih * 0.24 - s * 40 + r),
                                 fill=(196, 182, 156))
            x += bw + rng.uniform(6, 40)
    else:  # a crowd with banners
        for row in range(3):
            y = horizon + 20 + row * 70
            for i in range(26):
                px = (i + 0.5 * (row % 2)) * iw / 25 + rng.uniform(-8, 8)
                draw.ellipse((px - 20, y - 80, px + 20, y - 40), fill=ink)
                draw.rectangle((px - 28, y - 40, px + 28, y + 60), fill=ink)
        for bx in (0.2, 0.5, 0.78):
            draw.line((iw * bx, horizon - ih * 0.35, iw * bx, horizon + 40), fill=ink, width=8)
            draw.rectangle((iw * bx, horizon - ih * 0.35, iw * bx + iw * 0.16,
                            horizon - ih * 0.22), fill=(120, 40, 30))
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    noise = Image.effect_noise(inner, 28).convert("RGB")
    img = Image.blend(img, noise, 0.08)
    frame = Image.new("RGB", size, (248, 244, 234))
    frame.paste(img, (60, 60))
    draw = ImageDraw.Draw(frame)
    _text_center(draw, (w / 2, h - 95), caption, 46, (40, 32, 26))
    return _jpeg(frame)


def portrait(name: str, line: str, years: str, palette: tuple[Color, Color],
             size: tuple[int, int] = (1000, 1300)) -> bytes:
    """A commemorative portrait: an oval frame with a figure's silhouette, name and motto."""
    w, h = size
    img = _gradient(size, palette[0], palette[1])
    draw = ImageDraw.Draw(img)
    oval = (w * 0.16, h * 0.07, w * 0.84, h * 0.62)
    draw.ellipse((oval[0] - 14, oval[1] - 14, oval[2] + 14, oval[3] + 14), fill=GOLD)
    draw.ellipse(oval, fill=CREAM)
    cx = w / 2
    draw.ellipse((cx - w * 0.12, h * 0.17, cx + w * 0.12, h * 0.36), fill=SEPIA_DARK)
    draw.chord((cx - w * 0.27, h * 0.36, cx + w * 0.27, h * 0.8), 180, 360, fill=SEPIA_DARK)
    draw.polygon([(cx - w * 0.05, h * 0.37), (cx + w * 0.05, h * 0.37), (cx, h * 0.47)],
                 fill=CREAM)
    draw.ellipse((cx + w * 0.1, h * 0.45, cx + w * 0.16, h * 0.49), fill=RED)
    _text_center(draw, (cx, h * 0.72), name, int(w * 0.1), CREAM, stroke=DARK_RED)
    _text_center(draw, (cx, h * 0.82), line, int(w * 0.042), CREAM)
    _text_center(draw, (cx, h * 0.9), years, int(w * 0.036), GOLD)
    return _jpeg(img)


def newspaper(masthead: str, headline: str, date_line: str, rng: random.Random,
              size: tuple[int, int] = (1100, 1500)) -> bytes:
    """A yellowed newspaper page: masthead, headline and columns of (unreadable) text."""
    w, h = size
    img = _gradient(size, (236, 222, 186), (212, 192, 150))
    draw = ImageDraw.Draw(img)
    _text_center(draw, (w / 2, 120), masthead, 110, (150, 20, 24))
    draw.line((60, 200, w - 60, 200), fill=SEPIA_DARK, width=5)
    _text_center(draw, (w / 2, 230), date_line, 30, SEPIA_DARK)
    draw.line((60, 258, w - 60, 258), fill=SEPIA_DARK, width=2)
    _text_center(draw, (w / 2, 330), headline, 64, SEPIA_DARK)
    columns = 4
    col_w = (w - 120 - (columns - 1) * 30) / columns
    for c in range(columns):
        x0 = 60 + c * (col_w + 30)
        y = 420.0
        while y < h - 80:
            length = col_w if rng.random() > 0.12 else col_w * rng.uniform(0.3, 0.8)
            draw.rectangle((x0, y, x0 + length, y + 9), fill=(120, 100, 76))
            y += 22 if rng.random() > 0.08 else 44
    return _jpeg(img.filter(ImageFilter.GaussianBlur(0.6)))


def medal(title: str, subtitle: str, size: tuple[int, int] = (1200, 1200)) -> bytes:
    """A labour medal on velvet: ribbon, gold disc, star and inscription."""
    w, h = size
    img = _gradient(size, (70, 14, 20), (24, 6, 8))
    draw = ImageDraw.Draw(img)
    cx = w / 2
    draw.polygon([(cx - 170, 80), (cx + 170, 80), (cx + 90, 470), (cx - 90, 470)], fill=RED)
    for k in (-100, 0, 100):
        draw.line((cx + k, 80, cx + k * 0.55, 470), fill=GOLD, width=10)
    r = 300
    cy = 720
    draw.ellipse((cx - r - 18, cy - r - 18, cx + r + 18, cy + r + 18), fill=(176, 128, 40))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=GOLD)
    draw.ellipse((cx - r + 40, cy - r + 40, cx + r - 40, cy + r - 40), outline=(176, 128, 40),
                 width=8)
    _star(draw, cx, cy - 40, 150, RED)
    _text_center(draw, (cx, cy + 170), title, 64, DARK_RED)
    _text_center(draw, (cx, h - 80), subtitle, 40, CREAM)
    return _jpeg(img)


def service_card(title: str, number: str, size: tuple[int, int] = (1600, 1010)) -> bytes:
    """A union service card (its number masked) on a desk (drawn for the default size)."""
    img = _gradient(size, (232, 228, 220), (196, 190, 180))
    card = _gradient((1280, 806), (179, 18, 26), (242, 165, 65))
    mask = Image.new("L", card.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, *card.size), radius=60, fill=255)
    shadow = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(shadow).rounded_rectangle((170, 130, 1450, 936), radius=60,
                                             fill=(0, 0, 0, 90))
    img.paste(shadow.filter(ImageFilter.GaussianBlur(18)), (0, 0),
              shadow.filter(ImageFilter.GaussianBlur(18)))
    img.paste(card, (160, 102), mask)
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((260, 380, 420, 500), radius=18, fill=GOLD)
    for k in range(1, 4):
        draw.line((260, 380 + k * 30, 420, 380 + k * 30), fill=(200, 150, 50), width=3)
    draw.text((260, 190), title, font=font(76), fill=(255, 255, 255))
    draw.text((260, 600), number, font=font(64), fill=(255, 255, 255))
    draw.text((1060, 800), "12351", font=font(54), fill=(255, 240, 220))
    return _jpeg(img)


def melody_wav(seconds_per_beat: float = 0.32, rate: int = 16000) -> bytes:
    """A short pentatonic work-song melody (sine tones with soft attack and decay), WAV."""
    notes = [(392, 1), (440, 1), (523, 2), (440, 1), (392, 1), (330, 2), (392, 1), (523, 1),
             (587, 2), (523, 1), (440, 1), (392, 3), (0, 1), (330, 1), (392, 1), (440, 2),
             (523, 1), (440, 1), (392, 1), (330, 1), (294, 4)]
    samples = array("h")
    for freq, beats in notes:
        n = int(rate * seconds_per_beat * beats)
        for i in range(n):
            envelope = min(1.0, i / 400) * max(0.0, 1 - i / n) ** 0.6
            value = math.sin(2 * math.pi * freq * i / rate) if freq else 0.0
            value += 0.3 * math.sin(4 * math.pi * freq * i / rate) if freq else 0.0
            samples.append(int(9000 * envelope * value))
    if sys.byteorder == "big":
        samples.byteswap()  # WAV samples are little-endian
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buf.getvalue()
