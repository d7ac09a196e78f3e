"""``manage.py migrate`` as the owner role, then the runtime role's grants.

Django's migrate connects with ``DATABASES["default"]``, the runtime role, which may not
create or alter tables. This runs it with the owner's credentials (``DATABASE_MIGRATE_URL``)
on the same database name, so the test run (which renames the database) keeps working.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.commands import migrate
from django.db import connections

from clinic.management.commands.db_roles import grant_runtime_role

CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


class Command(migrate.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        owner = settings.DATABASE_OWNER
        runtime = {key: connection.settings_dict[key] for key in CREDENTIALS}
        as_owner = options["database"] == "default" and any(runtime[key] != owner[key] for key in CREDENTIALS)
        if not as_owner:
            super().handle(*args, **options)
            return
        connection.close()
        connection.settings_dict.update({key: owner[key] for key in CREDENTIALS})
        try:
            super().handle(*args, **options)
        finally:
            connection.close()
            connection.settings_dict.update(runtime)
        grant_runtime_role(database=connection.settings_dict, owner=owner)
