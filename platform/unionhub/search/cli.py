"""``unionhub search …``: rebuild the index, apply the queue."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from unionhub.search.backend import SearchBusy


@click.group("search")
def search_cli() -> None:
    """Full-text search index."""


@search_cli.command("reindex")
@click.argument("doc_type", required=False)
@with_appcontext
def reindex(doc_type: str | None) -> None:
    """Rebuild the index (or only DOC_TYPE, e.g. core.member) into a new directory and
    swap it in; searches keep working meanwhile."""
    from unionhub.search.service import get_service, rebuild

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    service = get_service(app)
    if doc_type is not None and doc_type not in service.indexers:
        known = ", ".join(service.indexers) or "—"
        raise click.UsageError(f"unknown search type {doc_type!r} (known: {known})")
    state: dict[str, int] = {"total": 0}
    with click.progressbar(length=1, label="索引中", show_pos=True) as bar:

        def on_total(n: int) -> None:
            state["total"] = n
            bar.length = max(n, 1)

        try:
            written = rebuild(app, [doc_type] if doc_type else None, progress=bar.update,
                              on_total=on_total)
        except SearchBusy as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"已索引 {written} 条")


@search_cli.command("process")
@click.option("--batch", default=500, show_default=True)
@with_appcontext
def process(batch: int) -> None:
    """Apply queued index updates now (normally a periodic job does this)."""
    from unionhub.search.queue import process_queue

    run = process_queue(current_app._get_current_object(), batch=batch,  # type: ignore[attr-defined]
                        timeout=5.0)
    if not run.acquired:
        raise click.ClickException("another process is writing the search index")
    click.echo(f"processed {run.processed} (upserted {run.upserted}, deleted {run.deleted}, "
               f"failed {run.failed})")
