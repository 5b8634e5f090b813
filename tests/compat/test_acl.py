"""ACL endpoints through py-consul on a dev agent, where ACLs are disabled."""

import pytest
from consul import ACLDisabled


def test_token_list_says_acls_are_disabled(c):
    with pytest.raises(ACLDisabled):
        c.acl.token.list()


def test_policy_list_says_acls_are_disabled(c):
    with pytest.raises(ACLDisabled):
        c.acl.policy.list()
