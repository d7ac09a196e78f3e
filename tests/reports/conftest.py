from __future__ import annotations

import pytest

from reports import summaries


@pytest.fixture(autouse=True)
def _fresh_summaries(db: None) -> None:
    """The summaries (materialized views) are not emptied by the flush after a transactional
    test elsewhere: each report test starts from summaries of its own (empty) data."""
    summaries.refresh_summaries()
