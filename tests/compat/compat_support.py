"""Helpers shared by the compatibility test modules.

`eventually` polls an assertion until it holds or a deadline passes; it is how the suite
waits for state that Consul itself only promises eventually (anti-entropy into the catalog,
HTTP check runs, gossip-delivered events). There are no fixed sleeps.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

DEFAULT_DEADLINE_S = 10.0


def eventually(probe: Callable[[], T], deadline_s: float = DEFAULT_DEADLINE_S) -> T:
    """Call `probe` until it stops raising AssertionError; return its value.

    After `deadline_s` the last AssertionError is re-raised, so the failure message is the
    one the probe's own assertion produced.
    """
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return probe()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.02)


def b64(text: str) -> str:
    """Base64 of a UTF-8 string, as the txn API wants KV values."""
    return base64.b64encode(text.encode()).decode()


# Known deviations of Legate from Consul, shared by the tests they block. Each is a strict
