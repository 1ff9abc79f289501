"""flask import-catalog FILE [--dry-run] and flask rebuild-search-words; each runs in one unit
of work (committed at the end, rolled back on an error)."""

import click
from flask import current_app

from portal import caching, transactions
from portal.catalog import importer, words
from portal.errors import UserError


class _Refused(Exception):
    """Roll the unit of work back (rejected rows, a dry run) and report."""


@click.command("import-catalog")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and print the report only.")
def import_catalog_command(path, dry_run):
    """Create or update catalogue items from an XLSX/CSV file (all rows or none)."""
    with open(path, "rb") as handle:
        data = handle.read()
    # Messages are translated like in the UI (Russian), which needs a request context.
    with current_app.test_request_context():
        _run_import_command(path, data, dry_run)


def _run_import_command(path, data, dry_run):
    try:
        with transactions.unit_of_work():
            report = importer.import_catalog(path, data, dry_run=dry_run)
            if report.rejected or dry_run:
                raise _Refused
            caching.forget_catalogue()
    except UserError as error:
        raise click.ClickException(str(error.message)) from error
    except _Refused:
        for rejected in report.rejected:
            click.echo(f"line {rejected.line}: {rejected.reason}", err=True)
        if report.rejected:
            raise click.ClickException(
                f"{len(report.rejected)} rows rejected; nothing imported"
            ) from None
        click.echo(f"Checked: {report.created} to create, {report.updated} to update.")
        return
    click.echo(f"Imported: {report.created} created, {report.updated} updated.")


@click.command("rebuild-search-words")
def rebuild_search_words_command():
    """Rebuild the typo-search word list from the active items (after bulk SQL changes)."""
    with transactions.unit_of_work():
        count = words.rebuild_search_words()
        caching.forget_catalogue()
    click.echo(f"Search words: {count}.")


def register(app) -> None:
    app.cli.add_command(import_catalog_command)
    app.cli.add_command(rebuild_search_words_command)
