"""Starting an import from an uploaded file — the core's import page and plugins' own upload
pages (which choose parameters such as a unit and a plan year) share these two steps."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from unionhub.imports import engine
from unionhub.imports.models import ImportBatch

ALLOWED = (".csv", ".xlsx")


def upload_problem(upload: FileStorage | None) -> str | None:
    """Why ``upload`` cannot be imported (a message for the user), or None."""
    if upload is None or not upload.filename:
        return _("请选择文件")
    if Path(upload.filename).suffix.lower() not in ALLOWED:
        return _("只支持 CSV 或 XLSX 文件")
    return None


def start(session: Session, app: Flask, handler_code: str, upload: FileStorage,
          owner_id: int | None, params: Mapping[str, Any] | None = None) -> ImportBatch:
    """Register ``upload`` as a batch of ``handler_code`` and queue its staging job (after the
    caller's commit). The caller shows :func:`url_for("imports.detail", …)` next."""
    from unionhub.jobs import service as jobs

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload"
        upload.save(path)
        batch = engine.create_batch(session, app, handler_code, path, upload.filename or "",
                                    owner_id, params=params)
    job = jobs.submit("core.import_stage", {"batch_id": batch.id}, session=session,
                      owner_id=owner_id)
    batch.params = {**batch.params, "stage_job": job.id}
    return batch
