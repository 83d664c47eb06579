"""Dublin Core-style metadata of an exhibit (``MuseumItem.dc``): the fifteen DCMES elements
minus ``title`` (the item's own column), each a short text; ``description`` may be long.

Only filled elements are stored. ``type`` and ``format`` left blank are derived when shown:
the DCMI Type Vocabulary term for the item's kind, and the media type with the pixel size.
"""

from __future__ import annotations

from typing import Any

#: element → (label, longest text allowed); the order is the form's and the table's.
ELEMENTS: dict[str, tuple[str, int]] = {
    "creator": ("创作者", 200),
    "date": ("日期", 100),
    "description": ("描述", 4000),
    "subject": ("主题", 300),
    "coverage": ("时空范围", 200),
    "source": ("来源", 300),
    "publisher": ("发布者", 200),
    "contributor": ("其他贡献者", 200),
    "rights": ("权利", 300),
    "format": ("格式", 200),
    "identifier": ("标识符", 200),
    "language": ("语言", 50),
    "type": ("类型", 50),
    "relation": ("关联", 300),
}

#: DCMI Type Vocabulary term per item kind.
DCMI_TYPES = {"image": "StillImage", "video": "MovingImage", "audio": "Sound", "text": "Text"}


def derived(item: Any) -> dict[str, str]:
    """The item's elements as shown: the stored ones, with ``type`` and ``format`` derived
    from the item when they were left blank."""
    dc: dict[str, str] = {k: str(v) for k, v in (item.dc or {}).items()
                          if k in ELEMENTS and str(v).strip()}
    dc.setdefault("type", DCMI_TYPES.get(item.kind, item.kind))
    if "format" not in dc:
        if item.media_type and item.width and item.height:
            dc["format"] = f"{item.media_type}, {item.width}×{item.height}"
        elif item.media_type:
            dc["format"] = item.media_type
        elif item.kind == "text":
            dc["format"] = "text/html"
    return dc


def rows(item: Any) -> list[tuple[str, str, str]]:
    """(element, label, value) in the table's order, filled elements only."""
    dc = derived(item)
    return [(key, label, dc[key]) for key, (label, _n) in ELEMENTS.items() if key in dc]
