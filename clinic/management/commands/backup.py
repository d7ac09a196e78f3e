from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from clinic.backups import BackupError, database_backup


class Command(BaseCommand):
    help = (
        "Write a compressed pg_dump (custom format) of the clinic's database and its SHA-256 "
        "into BACKUP_DIR, then prune old dumps (BACKUP_KEEP_DAILY, BACKUP_KEEP_WEEKLY)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--directory", type=Path, help="Write here instead of BACKUP_DIR.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup = database_backup(directory=options["directory"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Backup written: {backup.path} ({backup.size:,} bytes in {backup.seconds:.1f} s), "
            f"sha256 {backup.checksum}."
        )
        for path in backup.pruned:
            self.stdout.write(f"Pruned: {path.name}")
