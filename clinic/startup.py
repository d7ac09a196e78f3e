"""Turn configuration mistakes into one line that names the variable, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from clinic.env import ConfigError


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else error.__class__.__name__


@contextmanager
def friendly_config_errors() -> Iterator[None]:
    """Exit with status 2 and one line on bad configuration or an unreachable database/broker."""
    try:
        yield
    except ConfigError as error:
        sys.stderr.write(f"Configuration error: {error}\n")
        raise SystemExit(2) from None
    except Exception as error:
        from django.db import OperationalError

        if isinstance(error, OperationalError):
            sys.stderr.write(
                f"Configuration error: DATABASE_URL: cannot connect to the database ({_first_line(error)})\n"
            )
            raise SystemExit(2) from None
        raise


def run(main: Callable[[], object]) -> object:
    with friendly_config_errors():
        return main()
