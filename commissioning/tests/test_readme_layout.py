"""README's "Where a rule lives" list names files that exist (a newcomer's one guess)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_names_only_files_that_exist_in_where_a_rule_lives():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("Where a rule lives", 1)[1].split("\n\n", 2)[1]
    paths = re.findall(r"`([a-z0-9_/]+\.py)`", section)
    assert len(paths) >= 8, section
    assert [p for p in paths if not (ROOT / p).is_file()] == []
    for path, name in [("funding/riskshare.py", "def risk_share("),
                       ("monitoring/s52.py", "def assessment_due_date("),
                       ("monitoring/rag.py", "def rag("),
                       ("commissioning/locking.py", "class ConcurrentEditError("),
                       ("commissioning/periods.py", "class FinancialYear")]:
        assert name in (ROOT / path).read_text(), path
