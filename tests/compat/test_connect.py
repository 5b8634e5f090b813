"""Connect CA endpoint through py-consul: the dev agent's built-in CA roots."""


def test_ca_roots_has_one_active_root(c):
    roots = c.connect.ca.roots()
    assert roots["TrustDomain"].endswith(".consul")
    (root,) = roots["Roots"]
    assert root["ID"] == roots["ActiveRootID"]
    assert root["Active"] is True
    assert root["RootCert"].startswith("-----BEGIN CERTIFICATE-----")
