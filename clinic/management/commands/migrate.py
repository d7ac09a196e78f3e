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
    def execute(self, *args: Any, **options: Any) -> str | None:
        # execute, not handle: Django's system checks before handle already connect.
        database = options.get("database") or "default"
        connection = connections[database]
        owner = settings.DATABASE_OWNER
        runtime = {key: connection.settings_dict[key] for key in CREDENTIALS}
        as_owner = database == "default" and any(runtime[key] != owner[key] for key in CREDENTIALS)
        if not as_owner:
            return super().execute(*args, **options)
        connection.close()
        connection.settings_dict.update({key: owner[key] for key in CREDENTIALS})
        try:
            output = super().execute(*args, **options)
        finally:
            connection.close()
            connection.settings_dict.update(runtime)
        grant_runtime_role(database=connection.settings_dict, owner=owner)
        return output
