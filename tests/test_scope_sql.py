"""The scope's SQL conditions for keys and members read exactly what its QuerySets read, and
the rows come back as the ORM builds them."""

from __future__ import annotations

from models.member import Role
from resolvers.api_keys import api_keys_by_ids
from resolvers.members import members_by_ids
from resolvers.scope import Scope
from tests.factories import make_key, make_member, make_org


def _scope(organization_id: int, member_id: int, sees_team: bool) -> Scope:
    return Scope(organization_id, None if sees_team else member_id, member_id, sees_team)


async def test_keys_and_members_by_id_follow_the_scope_as_the_querysets_do(db: object) -> None:
    org, other_org = await make_org(), await make_org()
    admin = await make_member(org, Role.ADMIN)
    member = await make_member(org, Role.MEMBER)
    colleague = await make_member(org, Role.MEMBER)
    stranger = await make_member(other_org, Role.OWNER)
    own = await make_key(org, member, monthly_limit_nanos=5, allowed_models=["gpt-4"])
    theirs = await make_key(org, colleague)
    team = await make_key(org, None)
    foreign = await make_key(other_org, stranger)
    key_ids = [own.id, theirs.id, team.id, foreign.id, 999_999]
    member_ids = [admin.id, member.id, colleague.id, stranger.id, 999_999]

    for viewer, sees_team in ((admin, True), (member, False)):
        scope = _scope(org.id, viewer.id, sees_team)
        keys = await api_keys_by_ids(scope, key_ids)
        expected_keys = await scope.api_keys(include_team_keys=True).filter(id__in=key_ids)
        assert sorted(keys) == sorted(k.id for k in expected_keys)
        members = await members_by_ids(scope, member_ids)
        expected_members = await scope.members().filter(id__in=member_ids)
        assert sorted(members) == sorted(m.id for m in expected_members)
        for key in expected_keys:
            loaded = keys[key.id]
            assert (loaded.label, loaded.prefix, loaded.owner_id, loaded.status) == (
                key.label,
                key.prefix,
                key.owner_id,
                key.status,
            )
            assert (loaded.monthly_limit_nanos, loaded.allowed_models, loaded.created_at) == (
                key.monthly_limit_nanos,
                key.allowed_models,
                key.created_at,
            )
        for expected in expected_members:
            loaded_member = members[expected.id]
            assert (loaded_member.name, loaded_member.email, loaded_member.role) == (
                expected.name,
                expected.email,
                expected.role,
            )

    admin_scope = _scope(org.id, admin.id, True)
    member_scope = _scope(org.id, member.id, False)
    assert set(await api_keys_by_ids(admin_scope, key_ids)) == {own.id, theirs.id, team.id}
    assert set(await api_keys_by_ids(member_scope, key_ids)) == {own.id, team.id}
    assert set(await members_by_ids(member_scope, member_ids)) == {member.id}
    assert await api_keys_by_ids(admin_scope, []) == {}
