"""KV endpoints through py-consul: put/get/delete, flags, empty values, recurse, keys with a
separator, check-and-set, locks with sessions and blocking reads."""

import threading

import consul
import pytest
from consul.exceptions import ClientError, ConsulException


def test_put_get_delete(c):
    assert c.kv.put("app/color", "blue") is True
    index, entry = c.kv.get("app/color")
    assert int(index) > 0
    assert entry["Key"] == "app/color"
    assert entry["Value"] == b"blue"
    assert entry["Flags"] == 0
    assert entry["LockIndex"] == 0
    assert entry["CreateIndex"] == entry["ModifyIndex"] > 0
    assert "Session" not in entry

    assert c.kv.delete("app/color") is True
    assert c.kv.get("app/color")[1] is None


def test_update_keeps_create_index(c):
    c.kv.put("app/ver", "1")
    first = c.kv.get("app/ver")[1]
    c.kv.put("app/ver", "2")
    second = c.kv.get("app/ver")[1]
    assert second["Value"] == b"2"
    assert second["CreateIndex"] == first["CreateIndex"]
    assert second["ModifyIndex"] > first["ModifyIndex"]


def test_flags_round_trip(c):
    assert c.kv.put("app/flagged", "x", flags=42)
    assert c.kv.get("app/flagged")[1]["Flags"] == 42


def test_binary_value_round_trips(c):
    raw = bytes(range(256))
    assert c.kv.put("app/bin", raw)
    assert c.kv.get("app/bin")[1]["Value"] == raw


def test_empty_put_reads_back_null_value(c):
    assert c.kv.put("app/dir/", None) is True
    entry = c.kv.get("app/dir/")[1]
    assert entry["Key"] == "app/dir/"
    assert entry["Value"] is None


def test_missing_key_is_none_with_an_index(c):
    index, entry = c.kv.get("no/such/key")
    assert entry is None
    assert int(index) > 0


def test_recurse_and_keys_with_separator(c):
    for key in ("tree/a", "tree/b", "tree/sub/c", "tree/sub/d", "treehouse"):
        assert c.kv.put(key, key.upper())
    _, entries = c.kv.get("tree/", recurse=True)
    assert [e["Key"] for e in entries] == ["tree/a", "tree/b", "tree/sub/c", "tree/sub/d"]
    assert entries[2]["Value"] == b"TREE/SUB/C"

    _, keys = c.kv.get("tree/", keys=True)
    assert keys == ["tree/a", "tree/b", "tree/sub/c", "tree/sub/d"]
    _, keys = c.kv.get("tree/", keys=True, separator="/")
    assert keys == ["tree/a", "tree/b", "tree/sub/"]
    _, keys = c.kv.get("tree", keys=True, separator="/")
    assert keys == ["tree/", "treehouse"]

    assert c.kv.get("nothing-here/", recurse=True)[1] is None


def test_delete_recurse(c):
    for key in ("gone/a", "gone/b/c", "gonezo"):
        c.kv.put(key, "x")
    assert c.kv.delete("gone/", recurse=True) is True
    assert c.kv.get("gone/", recurse=True)[1] is None
    assert c.kv.get("gonezo")[1]["Value"] == b"x"


def test_cas_zero_only_creates(c):
    assert c.kv.put("cas/new", "1", cas=0) is True
    assert c.kv.put("cas/new", "2", cas=0) is False
    assert c.kv.get("cas/new")[1]["Value"] == b"1"


def test_cas_with_stale_index_is_refused(c):
    c.kv.put("cas/k", "1")
    idx = c.kv.get("cas/k")[1]["ModifyIndex"]
    assert c.kv.put("cas/k", "2", cas=idx) is True
    assert c.kv.put("cas/k", "3", cas=idx) is False  # idx is stale now
    assert c.kv.get("cas/k")[1]["Value"] == b"2"


def test_delete_cas(c):
    c.kv.put("cas/del", "1")
    idx = c.kv.get("cas/del")[1]["ModifyIndex"]
    assert c.kv.delete("cas/del", cas=idx + 1000) is False
    assert c.kv.get("cas/del")[1] is not None
    assert c.kv.delete("cas/del", cas=idx) is True
    assert c.kv.get("cas/del")[1] is None


def test_acquire_and_release_with_a_session(c):
    holder = c.session.create(name="holder")
    other = c.session.create(name="other")
    try:
        assert c.kv.put("locks/leader", "me", acquire=holder) is True
        entry = c.kv.get("locks/leader")[1]
        assert entry["Session"] == holder
        assert entry["LockIndex"] == 1

        assert c.kv.put("locks/leader", "you", acquire=other) is False
        assert c.kv.get("locks/leader")[1]["Value"] == b"me"

        assert c.kv.put("locks/leader", "you", release=other) is False  # not the holder
        assert c.kv.put("locks/leader", "me", release=holder) is True
        entry = c.kv.get("locks/leader")[1]
        assert "Session" not in entry
        assert entry["LockIndex"] == 1
    finally:
        c.session.destroy(holder)
        c.session.destroy(other)


def test_blocking_get_returns_after_a_concurrent_put(c, agent):
    c.kv.put("watch/me", "before")
    index, _ = c.kv.get("watch/me")
    # The writer gets its own client: a requests session is not for sharing across threads.
    writer_client = consul.Consul(host="127.0.0.1", port=agent.port)
    writer = threading.Thread(target=lambda: writer_client.kv.put("watch/me", "after"))
    writer.start()
    try:
        new_index, entry = c.kv.get("watch/me", index=index, wait="20s")
    finally:
        writer.join(timeout=20)
    assert int(new_index) > int(index)
    assert entry["Value"] == b"after"


def test_blocking_get_times_out_with_same_index(c):
    c.kv.put("watch/quiet", "x")
    index, _ = c.kv.get("watch/quiet")
    same_index, entry = c.kv.get("watch/quiet", index=index, wait="100ms")
    assert same_index == index
    assert entry["Value"] == b"x"


@pytest.mark.parametrize("key", ["with space", "ünïcode/ключ", "a+b=c&d"])
def test_awkward_keys_round_trip(c, key):
    assert c.kv.put(key, "v")
    assert c.kv.get(key)[1]["Key"] == key
    assert c.kv.delete(key)


def test_delete_of_missing_key_is_ok(c):
    assert c.kv.delete("never/existed") is True


def test_keys_on_missing_prefix_is_none(c):
    assert c.kv.get("never/", keys=True)[1] is None


def test_consistency_modes_read_the_same_value(c):
    c.kv.put("modes/k", "v")
    for mode in ("consistent", "stale", "default"):
        assert c.kv.get("modes/k", consistency=mode)[1]["Value"] == b"v"


def test_value_over_512k_is_rejected(c):
    with pytest.raises(ClientError) as err:
        c.kv.put("big/value", b"x" * (512 * 1024 + 1))
    assert str(err.value).startswith("413 ")
    assert c.kv.get("big/value")[1] is None


def test_acquire_with_unknown_session_is_an_error(c):
    with pytest.raises(ConsulException):
        c.kv.put("locks/ghost", "x", acquire="00000000-0000-0000-0000-000000000000")
    assert c.kv.get("locks/ghost")[1] is None


def test_lock_delay_blocks_reacquire_after_invalidation(c):
    first = c.session.create(name="first")  # default 15s lock delay
    assert c.kv.put("locks/delayed", "1", acquire=first)
    assert c.session.destroy(first)
    second = c.session.create(name="second")
    try:
        assert c.kv.put("locks/delayed", "2", acquire=second) is False
    finally:
        c.session.destroy(second)


def test_zero_lock_delay_allows_immediate_reacquire(c):
    first = c.session.create(name="first", lock_delay=0)
    assert c.kv.put("locks/nodelay", "1", acquire=first)
    assert c.session.destroy(first)
    second = c.session.create(name="second")
    try:
        assert c.kv.put("locks/nodelay", "2", acquire=second) is True
        assert c.kv.get("locks/nodelay")[1]["LockIndex"] == 2
    finally:
        c.session.destroy(second)


def test_blocking_recurse_wakes_on_a_new_key_under_the_prefix(c, agent):
    c.kv.put("prefix/one", "1")
    index, _ = c.kv.get("prefix/", recurse=True)
    writer_client = consul.Consul(host="127.0.0.1", port=agent.port)
    writer = threading.Thread(target=lambda: writer_client.kv.put("prefix/two", "2"))
    writer.start()
    try:
        new_index, entries = c.kv.get("prefix/", recurse=True, index=index, wait="20s")
    finally:
        writer.join(timeout=20)
    assert int(new_index) > int(index)
    assert [e["Key"] for e in entries] == ["prefix/one", "prefix/two"]
