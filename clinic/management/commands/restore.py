from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic.backups import BackupError, Target, database_restore


class Command(BaseCommand):
    help = (
        "Restore a dump written by `manage.py backup` into an empty database (the configured one, "
        "or --database-url). Refuses a dump whose checksum fails, and a non-empty database unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The .dump file; its .sha256 must lie beside it.")
        parser.add_argument(
            "--database-url",
            help="Restore into this database (postgres://user@host:port/name) instead of DATABASE_URL.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Drop everything in the target database first (it must otherwise be empty).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url: str | None = options["database_url"]
        try:
            target = Target.from_url(url) if url else Target.configured()
            database_restore(options["file"], target=target, force=options["force"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {options['file']} into database {target.name!r}.")
