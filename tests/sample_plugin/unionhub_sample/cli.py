from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from unionhub import db


@click.group("sample")
def sample() -> None:
    """Sample plugin commands."""


@sample.command("count")
@with_appcontext
def count() -> None:
    from unionhub_sample.models import SampleNote

    click.echo(f"notes: {db.session().scalar(select(func.count()).select_from(SampleNote))}")
