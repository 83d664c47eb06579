"""The ``unionhub`` command: serve, db, plugins, orgs, demo, create-admin (plus the command
groups of enabled plugins)."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from unionhub import db as database
from unionhub.search.cli import search_cli


def _create_app() -> Any:
    from unionhub.app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False)
def main() -> None:
    """UnionHub (数字工会平台) command line."""


@main.command()
@click.option("--host", default=None, help="Address to listen on (default from config).")
@click.option("--port", default=None, type=int)
@click.option("--threads", default=8, show_default=True)
@with_appcontext
def serve(host: str | None, port: int | None, threads: int) -> None:
    """Serve the platform with waitress (a production WSGI server)."""
    from waitress import serve as waitress_serve

    require_db()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    host = host or app.config["HOST"]
    port = port or int(app.config["PORT"])
    from unionhub.jobs.transport import EmbeddedTransport

    transport = app.extensions["jobs_transport"]
    if isinstance(transport, EmbeddedTransport):
        transport.start()  # no broker configured: run jobs in this process
        click.echo("background jobs: embedded runner (set UNIONHUB_BROKER_URL for Celery)")
    click.echo(f"UnionHub serving on http://{host}:{port}/  (Ctrl+C to stop)")
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="UnionHub")
    finally:
        if isinstance(transport, EmbeddedTransport):
            transport.stop()


def require_db() -> None:
    if not current_app.extensions["unionhub"].db_ready:
        raise click.ClickException("数据库未初始化，请先运行 `unionhub db upgrade` "
                                   "(database not initialised: run `unionhub db upgrade`)")


# --- db ----------------------------------------------------------------------------------

@main.group()
def db() -> None:
    """Database migrations (core and every installed plugin)."""


@db.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Bring the core and every installed plugin to their latest migration."""
    from unionhub import migrate
    from unionhub.plugins import discovery, state

    engine = database.get_db().engine
    installed = discovery.discover()
    for name, item in installed.items():
        if not item.ok:
            click.secho(f"插件 {name} 无法加载，跳过其迁移: {item.error}", fg="red", err=True)
    done = migrate.upgrade(engine, installed, echo=click.echo)
    with database.get_db().factory() as s:
        state.sync(s, installed)
    click.secho(f"已升级: {', '.join(done)}", fg="green")


@db.command("status")
@with_appcontext
def db_status() -> None:
    """Show each history's applied revision and head."""
    from unionhub import migrate
    from unionhub.plugins import discovery

    engine = database.get_db().engine
    for h in migrate.histories(discovery.discover()):
        current, heads = migrate.current_heads(engine, h)
        mark = "✓" if current == heads else "✗ needs upgrade"
        click.echo(f"{h.owner:16} {','.join(sorted(current)) or '-':20} "
                   f"head {','.join(sorted(heads))} {mark}")


# --- plugins -----------------------------------------------------------------------------

@main.group()
def plugins() -> None:
    """List, enable, disable and uninstall plugins (changes apply on restart)."""


@plugins.command("list")
@with_appcontext
def plugins_list() -> None:
    require_db()
    from sqlalchemy import select

    from unionhub.plugins.models import PluginRecord

    ext = current_app.extensions["unionhub"]
    with database.get_db().factory() as s:
        records = {r.name: r for r in s.scalars(select(PluginRecord))}
    if not ext.installed and not records:
        click.echo("没有安装插件 (no plugins installed)")
    for name in sorted(set(ext.installed) | set(records)):
        item = ext.installed.get(name)
        rec = records.get(name)
        if item is None:
            status = "missing (recorded but not installed)"
        elif not item.ok:
            status = f"broken: {item.error}"
        elif rec and rec.enabled:
            status = "enabled" if name in ext.loaded else "enabled (restart to load)"
        else:
            status = "disabled" if name not in ext.loaded else "disabled (restart to unload)"
        version = item.version if item else (rec.version if rec else "?")
        hooks = ", ".join(h.removeprefix("unionhub_") for h in item.hook_names()) if item else ""
        click.echo(f"{name:16} {version:10} {status:28} hooks: {hooks or '-'}")


def _set(name: str, enabled: bool) -> None:
    require_db()
    from unionhub.audit import service as audit
    from unionhub.plugins import state
    from unionhub.plugins.discovery import PluginError

    ext = current_app.extensions["unionhub"]
    s = database.session()
    try:
        change = state.set_enabled(s, ext.installed, name, enabled)
    except PluginError as exc:
        raise click.ClickException(str(exc)) from exc
    audit.record(f"plugin.{'enable' if enabled else 'disable'}", target_type="plugin",
                 target_id=name, session=s)
    s.commit()
    click.echo(f"{name}: {'enabled' if enabled else 'disabled'} ({change.message})")


@plugins.command("enable")
@click.argument("name")
@with_appcontext
def plugins_enable(name: str) -> None:
    _set(name, True)


@plugins.command("disable")
@click.argument("name")
@with_appcontext
def plugins_disable(name: str) -> None:
    _set(name, False)


@plugins.command("uninstall")
@click.argument("name")
@click.option("--purge", is_flag=True, help="Also drop the plugin's tables and settings.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def plugins_uninstall(name: str, purge: bool, yes: bool) -> None:
    """Forget a plugin. Data stays unless --purge, which drops its tables and says so."""
    require_db()
    from unionhub.plugins import uninstall

    ext = current_app.extensions["unionhub"]
    try:
        plan = uninstall.plan(database.get_db().engine, ext.installed, name, purge)
    except uninstall.UninstallError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in plan.describe():
        click.echo(line)
    if purge and not yes:
        click.confirm("This deletes data permanently. Continue?", abort=True)
    uninstall.execute(database.get_db(), plan)
    click.secho("done. Remove the package with pip to stop it being rediscovered.", fg="green")


# --- jobs --------------------------------------------------------------------------------

@main.group()
def jobs() -> None:
    """Background jobs."""


@jobs.command("list")
@click.option("--limit", default=20, show_default=True)
@with_appcontext
def jobs_list(limit: int) -> None:
    from sqlalchemy import select

    from unionhub.jobs.models import Job

    require_db()
    for j in database.session().scalars(select(Job).order_by(Job.id.desc()).limit(limit)):
        total = f"/{j.total}" if j.total else ""
        click.echo(f"{j.id:6} {j.kind:28} {j.status:10} {j.done}{total} "
                   f"{(j.message or '')[:40]}")


def watch_job(job_id: int, poll: float = 0.5) -> str:
    """Show a progress bar until the job ends; returns its final status."""
    import time

    from unionhub.jobs.models import DONE, Job

    factory = database.get_db().factory

    def read() -> Job:
        with factory() as s:
            job = s.get(Job, job_id)
            if job is None:
                raise click.ClickException(f"no job {job_id}")
            return job

    job = read()
    with click.progressbar(length=job.total or 1, label=f"{job.kind} #{job_id}",
                           show_pos=True) as bar:
        shown = 0
        while True:
            job = read()
            if job.total and bar.length != job.total:
                bar.length = job.total
            bar.update(max(0, job.done - shown))
            shown = max(shown, job.done)
            if job.status in DONE:
                break
            time.sleep(poll)
    click.echo(f"{job.kind} #{job_id}: {job.status}" + (f" — {job.error}" if job.error else ""))
    return job.status


@jobs.command("watch")
@click.argument("job_id", type=int)
@with_appcontext
def jobs_watch(job_id: int) -> None:
    """Follow one job with a progress bar until it ends."""
    require_db()
    if watch_job(job_id) != "succeeded":
        raise SystemExit(1)


@main.command()
@with_appcontext
def worker() -> None:
    """Run background jobs in the foreground without a broker (embedded runner)."""
    import signal
    import threading

    from unionhub.jobs.transport import EmbeddedTransport

    require_db()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runner = EmbeddedTransport(app)
    app.extensions["jobs_transport"] = runner
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    runner.start()
    click.echo("embedded job runner started (Ctrl+C to stop)")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop()


# --- orgs, members, demo, admin --------------------------------------------------------

@main.group()
def orgs() -> None:
    """Union organisations."""


@orgs.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True)
@with_appcontext
def orgs_import(file: Path, dry_run: bool) -> None:
    """Load the 工会组织 file (CSV or XLSX); all rows or none."""
    require_db()
    from unionhub.audit import service as audit
    from unionhub.orgs.service import import_orgs

    s = database.session()
    result = import_orgs(s, file, dry_run=dry_run)
    for w in result.warnings:
        click.secho(f"warning: {w}", fg="yellow")
    if not result.ok:
        s.rollback()
        for e in result.errors:
            click.secho(e, fg="red", err=True)
        raise click.ClickException(f"{len(result.errors)} 处错误，未导入任何数据")
    if not dry_run:
        audit.record("org.import", session=s, details={
            "file": file.name, "created": result.created, "updated": result.updated})
        s.commit()
    click.echo(f"{'(dry run) ' if dry_run else ''}新增 {result.created}，更新 {result.updated}，"
               f"移动 {result.moved}，未变 {result.unchanged}")


@main.command("import")
@click.argument("kind")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Apply without asking after the preview.")
@click.option("--dry-run", is_flag=True, help="Validate and preview only.")
@click.option("--as", "as_user", default=None, help="Username to import as (its scope).")
@with_appcontext
def import_file(kind: str, file: Path, yes: bool, dry_run: bool, as_user: str | None) -> None:
    """Import FILE with the KIND handler (e.g. `members`), with progress bars: validate and
    preview first, then apply after confirmation."""
    from sqlalchemy import select

    from unionhub.identity.models import Account
    from unionhub.imports import engine
    from unionhub.imports.models import BatchStatus, ImportBatch

    require_db()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    handlers = engine.handlers(app)
    code = kind if kind in handlers else f"core.{kind}"
    if code not in handlers:
        raise click.ClickException(f"unknown import kind {kind}; known: {', '.join(handlers)}")
    handler = handlers[code]
    s = database.session()
    owner = None
    if as_user:
        owner = s.scalar(select(Account).where(Account.username == as_user))
        if owner is None:
            raise click.ClickException(f"no account {as_user}")
    batch = engine.create_batch(s, app, code, file, file.name, owner.id if owner else None)
    s.commit()
    batch_id = batch.id

    def bar_progress(label: str) -> tuple[Any, Any]:
        state: dict[str, Any] = {"bar": None, "shown": 0}

        def progress(done: int, total: int | None = None, message: str | None = None,
                     *, force: bool = False) -> None:
            if state["bar"] is None:
                state["bar"] = click.progressbar(length=total or 0, label=label,
                                                 show_pos=True).__enter__()
            bar = state["bar"]
            if total and bar.length != total:
                bar.length = total
            bar.update(max(0, done - state["shown"]))
            state["shown"] = max(state["shown"], done)

        def close() -> None:
            if state["bar"] is not None:
                state["bar"].__exit__(None, None, None)

        return progress, close

    progress, close = bar_progress("校验")
    try:
        engine.stage(app, batch_id, progress)
    finally:
        close()
    s.expire_all()
    batch = s.get(ImportBatch, batch_id)
    assert batch is not None
    if batch.status != BatchStatus.READY:
        raise click.ClickException(batch.error or "校验失败")
    labels = handler.count_labels
    click.echo("预览: " + "，".join(f"{labels.get(k, k)} {v}" for k, v in batch.preview.items()))
    for w in batch.warnings:
        click.secho(f"warning: {w}", fg="yellow")
    for line, column, reason in batch.sample_errors[:20]:
        click.secho(f"第 {line} 行 {column}: {reason}", fg="red")
    if batch.rejected:
        click.echo(f"错误报告: {engine.batch_dir(app, batch_id) / engine.ERRORS_FILE}")
    if dry_run or not (yes or click.confirm("按预览导入？", default=False)):
        engine.discard(s, app, batch)
        s.commit()
        click.echo("未导入任何数据")
        return
    progress, close = bar_progress("导入")
    try:
        counts = engine.apply(app, batch_id, progress)
    finally:
        close()
    click.secho("完成: " + "，".join(f"{labels.get(k, k)} {v}" for k, v in counts.items()),
                fg="green")


@main.command()
@click.option("--members", default=2000, show_default=True)
@click.option("--seed", default=12351, show_default=True, help="Random seed (reproducible).")
@click.option("--if-empty", is_flag=True, help="Skip quietly when data already exists.")
@with_appcontext
def demo(members: int, seed: int, if_empty: bool) -> None:
    """Seed a believable union system into an empty database."""
    require_db()
    from unionhub.demo import seed_demo

    try:
        lines = seed_demo(database.session(), members=members, seed=seed, if_empty=if_empty,
                          echo=click.echo)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in lines:
        click.echo(line)


@main.command("create-admin")
@click.option("--username", prompt=True)
@click.option("--name", "display_name", default="平台管理员")
@click.option("--password", default=None,
              help="Prompted when omitted (or UNIONHUB_ADMIN_PASSWORD).")
@with_appcontext
def create_admin(username: str, display_name: str, password: str | None) -> None:
    """Create a platform admin account granted the admin role at the root org."""
    require_db()
    from unionhub.identity.admin import AdminError, create_platform_admin

    password = password or os.environ.get("UNIONHUB_ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise click.ClickException("no password given (use --password or a terminal)")
        password = getpass.getpass("Password: ")
    try:
        create_platform_admin(database.session(), username, display_name, password)
    except AdminError as exc:
        raise click.ClickException(str(exc)) from exc
    click.secho(f"管理员 {username} 已创建", fg="green")


# Core services' command groups.
main.add_command(search_cli)
