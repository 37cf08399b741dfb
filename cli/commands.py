"""The CLI's commands. Each returns what to print (a string, a dict for JSON, or None)."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from auth.tokens import issue_token, revoke_token
from ingestion.folding import configure_folding
from models.access_token import Scope
from models.database import apply_migrations, close_database, init_database
from models.member import Member, Role
from models.organization import Organization, Tier
from pricing.cost import percent_to_basis_points
from pricing.money import usd_to_nanos
from resolvers.periods import parse_timezone
from resolvers.scope import Scope as ReadScope
from settings import Settings

if TYPE_CHECKING:
    from cli.demo_data import DemoTokens

T = TypeVar("T")


class CommandError(Exception):
    """Bad arguments or state, as one line for the user."""


async def with_database(
    settings: Settings,
    handler: Callable[[argparse.Namespace], Awaitable[T]],
    args: argparse.Namespace,
) -> T:
    """Run a command with the database connected (SQLite is migrated automatically)."""
    if args.command == "migrate":
        await apply_migrations(settings)
    await init_database(settings, migrate=settings.is_sqlite and args.command != "migrate")
    configure_folding(settings.rollup_folding)
    try:
        return await handler(args)
    finally:
        await close_database()


async def migrate_command(args: argparse.Namespace) -> str:
    return "migrations applied"


async def demo_command(args: argparse.Namespace) -> dict[str, str] | str:
    from cli.demo_data import seed_demo

    if await Organization.filter(slug="acme-ai").exists():
        raise CommandError(
            "the demo data already exists in this database; use a fresh AIZE_DATABASE_URL"
        )
    tokens = await seed_demo(args.requests, seed=args.seed)
    if args.json:
        return {
            "owner": tokens.owner,
            "admin": tokens.admin,
            "member": tokens.member,
            "ingest": tokens.ingest,
            "directory": tokens.directory,
        }
    return _token_banner(tokens, url=None)


def _token_banner(tokens: DemoTokens, url: str | None) -> str:
    owner = tokens.owner
    lines = [f"Demo organization: {tokens.organization}"]
    if url:
        lines += [
            f"GraphiQL: {url}  (add the header below in GraphiQL's Headers tab)",
            f"Usage page: {_page_url(url)}  (paste a token below)",
        ]
    lines += [
        f'  Owner  token: {owner}      {{"Authorization": "Bearer {owner}"}}',
        f"  Admin  token: {tokens.admin}",
        f"  Member token: {tokens.member}",
        f"  Ingest token: {tokens.ingest}",
        f"  Directory token: {tokens.directory}",
        # The docs' shell examples read these variables.
        f"export AIZE_TOKEN={owner} AIZE_INGEST_TOKEN={tokens.ingest} "
        f"AIZE_DIRECTORY_TOKEN={tokens.directory}",
    ]
    return "\n".join(lines)


async def create_org_command(args: argparse.Namespace) -> str:
    try:
        tz: ZoneInfo = parse_timezone(args.timezone)
        markup = percent_to_basis_points(args.markup_percent)
        fee = usd_to_nanos(args.fixed_fee)
        budget = usd_to_nanos(args.monthly_budget) if args.monthly_budget else None
    except (ValueError, TypeError) as exc:
        raise CommandError(str(exc)) from None
    slug = args.slug or re.sub(r"[^a-z0-9]+", "-", args.name.lower()).strip("-")
    if not slug:
        raise CommandError("the organization needs a slug (--slug)")
    if await Organization.filter(slug=slug).exists():
        raise CommandError(f"an organization with slug {slug!r} already exists")
    org = await Organization.create(
        name=args.name,
        slug=slug,
        tier=Tier(args.tier),
        timezone=tz.key,
        markup_bps=markup,
        fixed_fee_nanos=fee,
        monthly_budget_nanos=budget,
    )
    return f"created organization {org.slug} (id {org.id})"


async def find_org(ref: str) -> Organization:
    """The organization by slug or numeric id, or CommandError naming the reference."""
    org = await (
        Organization.get_or_none(id=int(ref))
        if ref.isdigit()
        else Organization.get_or_none(slug=ref)
    )
    if org is None:
        raise CommandError(f"no organization {ref!r}")
    return org


async def add_member_command(args: argparse.Namespace) -> str:
    org = await find_org(args.org)
    if "@" not in args.email:
        raise CommandError(f"{args.email!r} is not an email address")
    if await ReadScope.for_organization(org.id).filter(Member).filter(email=args.email).exists():
        raise CommandError(f"{args.email} is already a member of {org.slug}")
    name = args.name or args.email.split("@", 1)[0]
    member = await Member.create(
        organization=org, email=args.email, name=name, role=Role(args.role)
    )
    return f"added {member.email} to {org.slug} as {member.role} (id {member.id})"


async def create_token_command(args: argparse.Namespace) -> str:
    org = await find_org(args.org)
    member: Member | None = None
    if args.member:
        ref = args.member
        members = ReadScope.for_organization(org.id).filter(Member)
        member = await (
            members.get_or_none(id=int(ref)) if ref.isdigit() else members.get_or_none(email=ref)
        )
        if member is None:
            raise CommandError(f"no member {ref!r} in {org.slug}")
    scopes: list[Scope] | None = None
    if args.scopes:
        try:
            scopes = [Scope(s.strip()) for s in args.scopes.split(",") if s.strip()]
        except ValueError:
            raise CommandError(
                f"unknown scope in {args.scopes!r}; use read, export, admin"
            ) from None
        if Scope.INGEST in scopes or Scope.DIRECTORY in scopes:
            raise CommandError("use --ingest or --directory for a service token")
    elif args.ingest:
        scopes = [Scope.INGEST]
    elif args.directory:
        scopes = [Scope.DIRECTORY, Scope.INGEST] if args.also_ingest else [Scope.DIRECTORY]
    if args.also_ingest and not args.directory:
        raise CommandError("--also-ingest goes with --directory")
    try:
        issued = await issue_token(org.id, member, args.name, scopes)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return issued.token


async def revoke_token_command(args: argparse.Namespace) -> str:
    try:
        record = await revoke_token(args.token)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return f"revoked token {record.prefix} (id {record.id})"


def serve(settings: Settings, args: argparse.Namespace) -> int:
    """Run uvicorn; with --demo, seed an empty database first and print tokens."""
    import uvicorn

    host = args.host or settings.host
    # --port 0 asks the OS for a free port (uvicorn logs the one it got).
    port = settings.port if args.port is None else args.port
    url = f"http://{host}:{port}/graphql"
    if args.demo:
        _fetch_graphiql_for_demo()
        print(asyncio.run(_prepare_demo(settings, args.requests, url)), flush=True)
    else:
        # Fail with one clear line before uvicorn starts, rather than a lifespan traceback.
        asyncio.run(_check_database(settings))
        # One line: with AIZE_LOG_FORMAT=json every later stdout line is a JSON log line.
        print(f"GraphQL (GraphiQL in a browser): {url}  Usage page: {_page_url(url)}", flush=True)
    config: dict[str, Any] = {"host": host, "port": port, "log_level": settings.log_level}
    if settings.log_format == "json":
        from observability.json_logs import json_log_config

        config["log_config"] = json_log_config(settings.log_level)
    if args.workers > 1:
        uvicorn.run("web.app:app_from_env", factory=True, workers=args.workers, **config)
    else:
        from web.app import create_app

        uvicorn.run(create_app(settings), **config)
    return 0


def _page_url(graphql_url: str) -> str:
    """The usage page's address beside the GraphQL one (web/usage_page/)."""
    from web.usage_page.routes import PAGE_PATH

    return graphql_url.removesuffix("/graphql") + PAGE_PATH


def _fetch_graphiql_for_demo() -> None:
    """The demo fetches GraphiQL's files (as `fetch-graphiql` does) when they are missing
    and npm can; otherwise it says so and /graphql serves the built-in console."""
    from web.graphiql.assets import FetchError, assets_dir, assets_present, fetch_assets

    directory = assets_dir()
    if assets_present(directory):
        return
    try:
        fetch_assets(directory)
    except FetchError as exc:
        print(
            f"GraphiQL's files not fetched ({exc}): /graphql serves the built-in console",
            file=sys.stderr,
            flush=True,
        )
        return
    print(f"GraphiQL's files fetched from the npm registry into {directory}", flush=True)


async def _check_database(settings: Settings) -> None:
    await init_database(settings, migrate=settings.is_sqlite)
    await close_database()


async def _prepare_demo(settings: Settings, requests: int, url: str) -> str:
    from cli.demo_data import demo_tokens, seed_demo

    await init_database(settings, migrate=settings.is_sqlite)
    try:
        tokens = await demo_tokens()
        if tokens is None:
            print(f"Seeding demo data ({requests} request logs)...", file=sys.stderr, flush=True)
            tokens = await seed_demo(requests)
        return _token_banner(tokens, url=url)
    finally:
        await close_database()
