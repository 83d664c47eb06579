from tests.helpers import login


def test_home_and_login(client, world):
    assert client.get("/").status_code == 200
    r = login(client, "admin")
    assert r.status_code == 302, r.get_data(as_text=True)
    for url in ["/", "/me", "/office/", "/office/members", "/admin/", "/admin/plugins",
                "/admin/orgs", "/admin/roles", "/admin/audit", "/admin/settings"]:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.get_data(as_text=True)[:2000])
