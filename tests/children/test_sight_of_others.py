"""An agency that holds a referral only through a share sees its own
people's reads and changes in the access log and the subject access export:
not which other agencies hold it, nor their staff."""

from __future__ import annotations

from tests.children.conftest import child, refer
from tests.referral_helpers import share_with


def test_a_shared_agency_sees_only_its_own_people_in_the_access_log(client, world):
    referral = refer(client, world.officer, world.yjs, child("Jayden", "Miller", "2011-03-14"))
    client.post(
        f"/api/v1/referrals/{referral['id']}/transitions",
        json={"action": "accept"},
        headers=world.yjs_manager.headers,
    )
    share_with(client, world, referral["id"], world.charity)
    share_with(client, world, referral["id"], world.stranger_org)  # another further agency
    client.get(f"/api/v1/referrals/{referral['id']}", headers=world.charity_worker.headers)
    client.get(f"/api/v1/referrals/{referral['id']}", headers=world.stranger_manager.headers)

    log = client.get(
        f"/api/v1/referrals/{referral['id']}/access-log", headers=world.charity_manager.headers
    )
    assert log.status_code == 200, log.json
    agencies = {
        entry["actor_organisation"]["id"] for entry in log.json if entry["actor_organisation"]
    }
    assert agencies == {str(world.charity.id)}
    # The referring agency still sees everyone.
    full = client.get(
        f"/api/v1/referrals/{referral['id']}/access-log", headers=world.police_manager.headers
    ).json
    seen = {entry["actor_organisation"]["id"] for entry in full if entry["actor_organisation"]}
    assert {str(world.yjs.id), str(world.charity.id), str(world.stranger_org.id)} <= seen

    exported = client.get(
        f"/api/v1/children/{referral['child']['id']}/export", headers=world.charity_manager.headers
    )
    assert exported.status_code == 200, exported.json
    access = exported.json["access"]
    assert access, "the charity's own reads are listed"
    assert {
        entry["actor_organisation"]["id"] for entry in access if entry["actor_organisation"]
    } == {str(world.charity.id)}
