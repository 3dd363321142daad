"""The hidden version field every locked form shares (commissioning/locking.py)."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from commissioning.locking import ConcurrentEditError, VersionField, posted_version


def test_it_reads_the_version_a_page_sent_back():
    assert VersionField().clean("7") == 7
    assert posted_version(QueryDict("version=3")) == 3


@pytest.mark.parametrize("sent", ["", "-1", "abc", "1.5", "9" * 30, "9" * 10_000])
def test_it_treats_a_version_no_page_sends_as_not_sent(sent):
    assert posted_version({"version": sent}) is None


def test_it_words_every_refusal_the_same_way():
    assert str(ConcurrentEditError("this scheme")) == (
        "Someone else changed this scheme since you opened it. Your changes have not been "
        "saved. Reload to see their changes.")
