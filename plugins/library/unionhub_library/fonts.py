"""A font with Chinese glyphs for the pictures the plugin draws (demo book covers, the demo
museum's pictures): the first one ``fc-list :lang=zh`` names (a preferred one when installed),
else a few usual paths; without one, Pillow's default font (the captions then show as boxes).
Nothing is ever fetched."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

FontT = ImageFont.FreeTypeFont | ImageFont.ImageFont

PREFERRED = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
FONT_FILES = (".ttf", ".ttc", ".otf")


@lru_cache(maxsize=1)
def cjk_font_path() -> str | None:
    """A font file with Chinese glyphs on this machine, or None."""
    fc_list = shutil.which("fc-list")
    if fc_list:
        try:
            out = subprocess.run([fc_list, ":lang=zh", "file"], capture_output=True, text=True,
                                 timeout=10, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        files = sorted({line.split(":", 1)[0].strip() for line in out.splitlines()})
        usable = [f for f in files if f.lower().endswith(FONT_FILES) and Path(f).is_file()]
        if usable:
            return next((f for f in PREFERRED if f in usable), usable[0])
    return next((p for p in PREFERRED if Path(p).is_file()), None)


@lru_cache(maxsize=32)
def font(size: int) -> FontT:
    """The Chinese font at ``size`` pixels (Pillow's default font when there is none)."""
    path = cjk_font_path()
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()
