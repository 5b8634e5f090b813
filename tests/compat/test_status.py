"""Status endpoints through py-consul: status.leader and status.peers."""

import re

ADDR = re.compile(r"^\d{1,3}(\.\d{1,3}){3}:\d+$")


def test_leader_is_a_server_address(c):
    leader = c.status.leader()
    assert isinstance(leader, str)
    assert ADDR.match(leader), leader


def test_peers_is_the_single_dev_server_which_leads(c):
    peers = c.status.peers()
    assert peers == [c.status.leader()]
