"""Snapshot endpoints through py-consul: save, then restore rolls state back."""

import pytest
from consul import ConsulException


def test_save_then_restore(c):
    assert c.kv.put("snap/before", "1")
    archive = c.snapshot.save()
    assert isinstance(archive, bytes)
    assert archive[:2] == b"\x1f\x8b"  # gzip

    assert c.kv.put("snap/after", "2")
    assert c.kv.put("snap/before", "changed")

    assert c.snapshot.restore(archive) is True
    assert c.kv.get("snap/before")[1]["Value"] == b"1"
    assert c.kv.get("snap/after")[1] is None


def test_restore_of_garbage_is_an_error_and_changes_nothing(c):
    assert c.kv.put("snap/keep", "yes")
    with pytest.raises(ConsulException):
        c.snapshot.restore(b"this is not a snapshot archive")
    assert c.kv.get("snap/keep")[1]["Value"] == b"yes"
