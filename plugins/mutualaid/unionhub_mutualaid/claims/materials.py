"""Claim materials: the checklist per program and the uploaded files.

Uploads are checked by their first bytes (not the file name or the browser's content type):
only JPEG, PNG, WebP and PDF are kept. Files are stored under
``instance_path/mutualaid/claims/<claim id>/`` with a random name — outside the web root;
they are served only through the claims views, after the visibility check.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import MutualaidClaim
from .models import MutualaidClaimFile

#: program → ordered checklist (code, label)
CHECKLISTS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "ZYYL": (("discharge_summary", "出院小结"), ("invoice", "费用明细或发票"),
             ("insurance_statement", "医保结算单")),
    "ZYJT": (("discharge_summary", "出院小结"), ("stay_certificate", "住院证明")),
    "ZDJB": (("diagnosis_certificate", "诊断证明"), ("pathology", "病理或检查报告")),
    "NGTJ": (("pathology", "病理报告"),),
    "YWSH": (("accident_proof", "事故证明"), ("medical_proof", "医疗证明")),
    "ZNYW": (("accident_proof", "事故证明"), ("medical_proof", "医疗证明"),
             ("kinship_proof", "亲子关系证明")),
    "FGSZH": (("accident_proof", "事故或火灾证明"),),
    "ECBX": (),
}
OTHER = ("other", "其他材料")

SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"%PDF-", 0, "application/pdf", "pdf"),
)


class MaterialError(ValueError):
    """An upload that is refused; the message says why (in Chinese)."""


def checklist(program: str) -> tuple[tuple[str, str], ...]:
    return CHECKLISTS.get(program, ())


def kinds(program: str) -> tuple[tuple[str, str], ...]:
    """Checklist items plus "other" (what an upload may be filed as)."""
    return (*checklist(program), OTHER)


def label(program: str, kind: str) -> str:
    return dict(kinds(program)).get(kind, kind)


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the magic bytes, or None when not an accepted type."""
    for magic, offset, ctype, ext in SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return ctype, ext
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def max_bytes() -> int:
    from unionhub.settings import service as settings

    return int(settings.get("mutualaid.claim_file_max_mb")) * 1024 * 1024


def folder(claim_id: int) -> Path:
    return Path(current_app.instance_path) / "mutualaid" / "claims" / str(claim_id)


def path_of(row: MutualaidClaimFile) -> Path:
    return folder(row.claim_id) / row.stored_name


def files(session: Session, claim: MutualaidClaim) -> list[MutualaidClaimFile]:
    return list(session.scalars(select(MutualaidClaimFile)
                                .where(MutualaidClaimFile.claim_id == claim.id)
                                .order_by(MutualaidClaimFile.id)))


def missing(session: Session, claim: MutualaidClaim) -> list[tuple[str, str]]:
    """Checklist items without any uploaded file."""
    have = set(session.scalars(select(MutualaidClaimFile.kind)
                               .where(MutualaidClaimFile.claim_id == claim.id)))
    return [(code, name) for code, name in checklist(claim.program) if code not in have]


def store(session: Session, claim: MutualaidClaim, kind: str, filename: str, data: bytes,
          *, actor: Any) -> MutualaidClaimFile:
    """Check and store one file. Raises :class:`MaterialError` naming the file and why."""
    name = (filename or "file").replace("\\", "/").rsplit("/", 1)[-1][:200] or "file"
    if kind not in dict(kinds(claim.program)):
        raise MaterialError(f"{name}：请选择材料类别")
    if not data:
        raise MaterialError(f"{name}：文件为空")
    limit = max_bytes()
    if len(data) > limit:
        raise MaterialError(f"{name}：文件超过 {limit // (1024 * 1024)} MB 上限")
    found = sniff(data)
    if found is None:
        raise MaterialError(f"{name}：只接受 JPEG、PNG、WebP 图片或 PDF 文件")
    ctype, ext = found
    stored = f"{secrets.token_hex(16)}.{ext}"
    target = folder(claim.id)
    target.mkdir(parents=True, exist_ok=True)
    path = target / stored
    path.write_bytes(data)
    row = MutualaidClaimFile(claim_id=claim.id, kind=kind, original_name=name,
                             stored_name=stored, content_type=ctype, size=len(data),
                             uploaded_by=getattr(actor, "id", None))
    session.add(row)
    try:
        session.flush()
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return row
