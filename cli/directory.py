"""`aize-analytics key ...` and `member ...`: the directory for scripts, on the server.

The same upserts as directory sync (directory/sync.py), run as the operator: the audit trail
records them with via "cli" and no token. Unlike sync, the operator may make, demote and
remove Owners (never the organization's last one).

  key add ORG PREFIX [--label L] [--external-id ID] [--owner EMAIL] [--models a,b]
  key update ORG KEY [--label L] [--owner EMAIL | --team] [--models a,b | --all-models]
                     [--status ACTIVE|BLOCKED] [--reason R] [--external-id ID]
  key revoke ORG KEY [--reason R]
  key list ORG [--json]
  member add ORG EMAIL [--name N] [--role MEMBER|ADMIN|OWNER] [--external-id ID]
  member update ORG MEMBER [--email E] [--name N] [--role R] [--external-id ID]
  member remove ORG MEMBER
  member list ORG [--json]

KEY is a key's numeric id, externalId or prefix; MEMBER a member's id, externalId or email.
"""

from __future__ import annotations

import argparse
from typing import Any

from audit.trail import Actor
from cli.commands import CommandError, find_org
from directory.records import ABSENT, KeyRecord, MemberRecord, OwnerRef
from directory.sync import change_key, change_member, upsert_record
from directory.writer import Change
from ingestion.validation import InvalidRecord
from models.api_key import ApiKey, KeyStatus
from models.member import Member, Role
from models.organization import Organization
from resolvers.scope import Scope

_ROLES = [role.value for role in Role]
_OPERATOR = Actor.operator(via="cli")


def add_directory_parsers(sub: Any) -> None:
    """Register `key` and `member` on the CLI's subparsers."""
    key = sub.add_parser("key", help="add, update, revoke or list API keys (directory)")
    key_actions = key.add_subparsers(dest="key_command", required=True)
    add = key_actions.add_parser("add", help="add a gateway key (or name one seen in usage)")
    add.add_argument("org", help="organization slug or id")
    add.add_argument("prefix", help="the key's visible prefix, e.g. sk-aize-3f9a")
    add.add_argument("--label", help="what the key is for (default: the prefix)")
    add.add_argument("--external-id", help="the gateway's id for the key")
    add.add_argument("--owner", help="owner's email (default: a team key)")
    add.add_argument("--models", help="comma-separated allowed model aliases (default: all)")
    update = key_actions.add_parser("update", help="change a key")
    update.add_argument("org", help="organization slug or id")
    update.add_argument("key", help="key id, externalId or prefix")
    update.add_argument("--label")
    update.add_argument("--external-id")
    owner = update.add_mutually_exclusive_group()
    owner.add_argument("--owner", help="owner's email")
    owner.add_argument("--team", action="store_true", help="make it a team key (no owner)")
    models = update.add_mutually_exclusive_group()
    models.add_argument("--models", help="comma-separated allowed model aliases")
    models.add_argument("--all-models", action="store_true", help="allow every model")
    update.add_argument("--status", choices=["ACTIVE", "BLOCKED"])
    update.add_argument("--reason", help="why (with --status BLOCKED)")
    revoke = key_actions.add_parser("revoke", help="revoke a key (final)")
    revoke.add_argument("org", help="organization slug or id")
    revoke.add_argument("key", help="key id, externalId or prefix")
    revoke.add_argument("--reason")
    listing = key_actions.add_parser("list", help="list the organization's keys")
    listing.add_argument("org", help="organization slug or id")
    listing.add_argument("--json", action="store_true", help="one JSON object")

    member = sub.add_parser("member", help="add, update, remove or list members (directory)")
    member_actions = member.add_subparsers(dest="member_command", required=True)
    madd = member_actions.add_parser("add", help="add a member")
    madd.add_argument("org", help="organization slug or id")
    madd.add_argument("email")
    madd.add_argument("--name", help="display name (default: from the email)")
    madd.add_argument("--role", default="MEMBER", choices=_ROLES)
    madd.add_argument("--external-id", help="the gateway's id for the person")
    mupdate = member_actions.add_parser("update", help="change a member")
    mupdate.add_argument("org", help="organization slug or id")
    mupdate.add_argument("member", help="member id, externalId or email")
    mupdate.add_argument("--email")
    mupdate.add_argument("--name")
    mupdate.add_argument("--role", choices=_ROLES)
    mupdate.add_argument("--external-id")
    mremove = member_actions.add_parser("remove", help="remove a member (tokens revoked)")
    mremove.add_argument("org", help="organization slug or id")
    mremove.add_argument("member", help="member id, externalId or email")
    mlist = member_actions.add_parser("list", help="list the organization's members")
    mlist.add_argument("org", help="organization slug or id")
    mlist.add_argument("--json", action="store_true", help="one JSON object")


async def key_command(args: argparse.Namespace) -> str | dict[str, Any]:
    """Run a `key` action; returns what to print."""
    org = await find_org(args.org)
    if args.key_command == "list":
        return await _list_keys(org, as_json=args.json)
    if args.key_command == "add":
        record = KeyRecord(
            external_id=args.external_id or ABSENT,
            prefix=args.prefix,
            label=args.label or ABSENT,
            owner=OwnerRef(email=args.owner) if args.owner else ABSENT,
            allowed_models=_models(args.models) if args.models else ABSENT,
        )
        await _refuse_existing_key(org, record)
        change, key_id = await _run(upsert_record(org.id, record, _OPERATOR))
        return f"{_verb(change, 'added')} key {args.prefix} to {org.slug} (id {key_id})"
    key = await _find_key(org, args.key)
    if args.key_command == "revoke":
        record = KeyRecord(
            external_id=ABSENT, status=KeyStatus.REVOKED, status_reason=args.reason or ABSENT
        )
        change = await _run(change_key(org.id, key.id, record, _OPERATOR))
        return f"{_verb(change, 'revoked')} key {key.prefix} (id {key.id})"
    owner: OwnerRef | Any = ABSENT
    if args.team:
        owner = OwnerRef()
    elif args.owner:
        owner = OwnerRef(email=args.owner)
    allowed: list[str] | Any | None = ABSENT
    if args.all_models:
        allowed = None
    elif args.models:
        allowed = _models(args.models)
    if args.reason and not args.status:
        raise CommandError("--reason goes with --status")
    record = KeyRecord(
        external_id=args.external_id or ABSENT,
        label=args.label or ABSENT,
        owner=owner,
        allowed_models=allowed,
        status=KeyStatus(args.status) if args.status else ABSENT,
        status_reason=args.reason or ABSENT,
    )
    change = await _run(change_key(org.id, key.id, record, _OPERATOR))
    return f"{_verb(change, 'updated')} key {key.prefix} (id {key.id})"


async def member_command(args: argparse.Namespace) -> str | dict[str, Any]:
    """Run a `member` action; returns what to print."""
    org = await find_org(args.org)
    if args.member_command == "list":
        return await _list_members(org, as_json=args.json)
    if args.member_command == "add":
        if await Scope.for_organization(org.id).filter(Member).filter(email=args.email).exists():
            raise CommandError(f"{args.email} is already a member of {org.slug}")
        record = MemberRecord(
            external_id=args.external_id or ABSENT,
            email=args.email,
            name=args.name or ABSENT,
            role=Role(args.role),
        )
        change, member_id = await _run(upsert_record(org.id, record, _OPERATOR))
        return (
            f"{_verb(change, 'added')} {args.email} to {org.slug} as {args.role} (id {member_id})"
        )
    member = await _find_member(org, args.member)
    if args.member_command == "remove":
        record = MemberRecord(external_id=ABSENT, removed=True)
        change = await _run(change_member(org.id, member.id, record, _OPERATOR))
        return f"{_verb(change, 'removed')} {member.email} from {org.slug}"
    record = MemberRecord(
        external_id=args.external_id or ABSENT,
        email=args.email or ABSENT,
        name=args.name or ABSENT,
        role=Role(args.role) if args.role else ABSENT,
    )
    change = await _run(change_member(org.id, member.id, record, _OPERATOR))
    return f"{_verb(change, 'updated')} {member.email} (id {member.id})"


async def _run(work: Any) -> Any:
    """The directory call's result, its refusals as one CLI line."""
    try:
        return await work
    except InvalidRecord as exc:
        where = f"{_option(exc.field)}: " if exc.field and exc.field != "removed" else ""
        raise CommandError(f"{where}{exc.reason}") from None
    except LookupError as exc:
        raise CommandError(str(exc)) from None


def _option(field: str) -> str:
    # The record's camelCase field as the option that sets it (ownerEmail -> --owner).
    names = {"ownerEmail": "--owner", "allowedModels": "--models", "statusReason": "--reason"}
    if field in names:
        return names[field]
    return "--" + "".join("-" + c.lower() if c.isupper() else c for c in field)


def _verb(change: Change, done: str) -> str:
    return "unchanged:" if change is Change.UNCHANGED else done


def _models(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


async def _refuse_existing_key(org: Organization, record: KeyRecord) -> None:
    # `add` names a new key, or one known so far only from usage (UNSYNCED), which it adopts.
    existing = Scope.for_organization(org.id).filter(ApiKey).exclude(status=KeyStatus.UNSYNCED)
    if (
        isinstance(record.external_id, str)
        and await existing.filter(external_id=record.external_id).exists()
    ):
        raise CommandError(f"a key with external id {record.external_id!r} already exists")
    if await existing.filter(prefix=record.prefix).exists():
        raise CommandError(f"a key with prefix {record.prefix!r} already exists; use key update")


async def _find_key(org: Organization, ref: str) -> ApiKey:
    keys = Scope.for_organization(org.id).filter(ApiKey)
    found = await keys.filter(id=int(ref)).first() if ref.isdigit() else None
    found = found or await keys.filter(external_id=ref).first()
    if found is None:
        matches = await keys.filter(prefix=ref).limit(2)
        if len(matches) > 1:
            raise CommandError(f"several keys have prefix {ref!r}; use the key id")
        found = matches[0] if matches else None
    if found is None:
        raise CommandError(f"no key {ref!r} in {org.slug}")
    return found


async def _find_member(org: Organization, ref: str) -> Member:
    members = Scope.for_organization(org.id).filter(Member)
    found = await members.filter(id=int(ref)).first() if ref.isdigit() else None
    found = found or await members.filter(external_id=ref).first()
    found = found or await members.filter(email=ref).first()
    if found is None:
        raise CommandError(f"no member {ref!r} in {org.slug}")
    return found


async def _list_keys(org: Organization, *, as_json: bool) -> str | dict[str, Any]:
    scope = Scope.for_organization(org.id)
    keys = await scope.filter(ApiKey).order_by("id")
    # The owners by their organization too (prefetch_related would read them by id alone).
    owner_ids = {key.owner_id for key in keys if key.owner_id is not None}
    owners = dict(
        await scope.filter(Member).filter(id__in=owner_ids).values_list("id", "email")
        if owner_ids
        else []
    )
    rows = [
        {
            "id": key.id,
            "externalId": key.external_id,
            "prefix": key.prefix,
            "label": key.label,
            "owner": owners.get(key.owner_id),
            "status": key.status.value,
            "statusReason": key.status_reason,
            "allowedModels": key.allowed_models,
        }
        for key in keys
    ]
    if as_json:
        return {"organization": org.slug, "keys": rows}
    lines = [f"{'id':>6}  {'prefix':<20} {'status':<9} {'owner':<28} label"]
    lines += [
        f"{r['id']:>6}  {r['prefix']:<20} {r['status']:<9} {r['owner'] or '(team)':<28} "
        f"{r['label']}"
        for r in rows
    ]
    return "\n".join(lines)


async def _list_members(org: Organization, *, as_json: bool) -> str | dict[str, Any]:
    members = await Scope.for_organization(org.id).filter(Member).order_by("id")
    rows = [
        {
            "id": m.id,
            "externalId": m.external_id,
            "email": m.email,
            "name": m.name,
            "role": m.role.value,
            "removed": m.removed_at is not None,
        }
        for m in members
    ]
    if as_json:
        return {"organization": org.slug, "members": rows}
    lines = [f"{'id':>6}  {'role':<7} {'email':<32} name"]
    lines += [
        f"{r['id']:>6}  {r['role']:<7} {r['email']:<32} {r['name']}"
        + ("  (removed)" if r["removed"] else "")
        for r in rows
    ]
    return "\n".join(lines)
