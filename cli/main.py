"""`aize-analytics`: serve, migrate, demo, organization/member/token administration."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from cli import commands, prices
from cli.alerts import add_alerts_parser, alerts_command
from cli.billing import add_billing_parser, billing_contract_command
from cli.directory import add_directory_parsers, key_command, member_command
from cli.export import add_export_parser, export_command
from cli.fold import add_fold_parser, fold_command
from cli.graphiql import GraphiqlFetchError, add_graphiql_parser, fetch_graphiql_command
from cli.leader import add_leader_parser, leader_command
from cli.maintain import add_maintain_parser, maintain_command
from cli.replicas import add_replicas_parser, replicas_command
from cli.report import add_report_parser, report_command
from models.database import DatabaseConfigError
from observability.tracing import TracingNotInstalled
from settings import Settings, SettingsError


class CliError(Exception):
    """A one-line message for the user; exits non-zero."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, then exit 2, instead of argparse's usage dump.
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="aize-analytics",
        description="GraphQL usage analytics for an LLM API gateway.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = sub.add_parser("serve", help="run the HTTP service (GraphQL at /graphql)")
    serve.add_argument("--host", help="bind address (default: AIZE_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: AIZE_PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="seed the demo dataset if the database is empty, then print tokens",
    )
    serve.add_argument(
        "--requests",
        type=_positive,
        default=100_000,
        help="demo request logs to generate (with --demo)",
    )

    sub.add_parser("migrate", help="apply database migrations")

    demo = sub.add_parser("demo", help="seed a realistic demo dataset and print tokens")
    demo.add_argument(
        "--requests",
        type=_positive,
        default=100_000,
        help="request logs to generate (default 100000)",
    )
    demo.add_argument("--json", action="store_true", help="print the tokens as one JSON object")
    demo.add_argument("--seed", type=int, default=7, help="random seed")

    org = sub.add_parser("create-org", help="create an organization")
    org.add_argument("name")
    org.add_argument("--slug", help="URL-safe id (default: from the name)")
    org.add_argument("--timezone", default="UTC", help="IANA timezone, e.g. Europe/Berlin")
    org.add_argument("--markup-percent", default="0", help="markup on provider cost, e.g. 25")
    org.add_argument("--fixed-fee", default="0", help="USD per request, e.g. 0.01")
    org.add_argument("--monthly-budget", help="USD per billing period")
    org.add_argument("--tier", default="TEAM", choices=["FREE", "TEAM", "BUSINESS", "ENTERPRISE"])

    member = sub.add_parser("add-member", help="add a member to an organization")
    member.add_argument("org", help="organization slug or id")
    member.add_argument("email")
    member.add_argument("--name", help="display name (default: from the email)")
    member.add_argument("--role", default="MEMBER", choices=["MEMBER", "ADMIN", "OWNER"])

    token = sub.add_parser("create-token", help="issue a bearer token (printed once)")
    token.add_argument("org", help="organization slug or id")
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--member", help="member email or id (reading token)")
    who.add_argument("--ingest", action="store_true", help="ingest service token")
    who.add_argument(
        "--directory", action="store_true", help="directory-sync service token (key/member sync)"
    )
    token.add_argument(
        "--also-ingest",
        action="store_true",
        help="with --directory: the same token may ingest too",
    )
    token.add_argument("--name", default="cli token", help="what the token is for")
    token.add_argument(
        "--scopes", help="comma-separated: read,export,admin (default: all the role allows)"
    )

    revoke = sub.add_parser("revoke-token", help="revoke a token by its shown prefix or id")
    revoke.add_argument("token", help="token prefix (e.g. aize_3f9a2c1b) or numeric id")

    export = sub.add_parser("export-schema", help="print the GraphQL SDL (or write it to a file)")
    export.add_argument("--output", "-o", help="file to write (default: stdout)")
    prices.add_price_parsers(sub)
    add_alerts_parser(sub)
    add_export_parser(sub)
    add_maintain_parser(sub)
    add_fold_parser(sub)
    add_leader_parser(sub)
    add_replicas_parser(sub)
    add_report_parser(sub)
    add_directory_parsers(sub)
    add_billing_parser(sub)
    add_graphiql_parser(sub)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return _dispatch(args, settings)
    except (
        CliError,
        SettingsError,
        DatabaseConfigError,
        commands.CommandError,
        GraphiqlFetchError,
        TracingNotInstalled,
    ) as exc:
        print(f"aize-analytics: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "export-schema":
        from graph.schema import schema

        sdl = schema.as_str() + "\n"
        if args.output:
            Path(args.output).write_text(sdl)
        else:
            sys.stdout.write(sdl)
        return 0
    if args.command == "fetch-graphiql":
        print(fetch_graphiql_command(args))
        return 0
    if args.command == "serve":
        return commands.serve(settings, args)
    handlers: dict[str, Callable[[argparse.Namespace], Awaitable[Any]]] = {
        "migrate": commands.migrate_command,
        "demo": commands.demo_command,
        "create-org": commands.create_org_command,
        "add-member": commands.add_member_command,
        "create-token": commands.create_token_command,
        "revoke-token": commands.revoke_token_command,
        "prices": prices.prices_command,
        "reprice": prices.reprice_command,
        "alerts": alerts_command,
        "export": export_command,
        "maintain": maintain_command,
        "fold": fold_command,
        "leader": leader_command,
        "replicas": replicas_command,
        "report": report_command,
        "key": key_command,
        "member": member_command,
        "billing-contract": billing_contract_command,
    }
    result = asyncio.run(commands.with_database(settings, handlers[args.command], args))
    if isinstance(result, dict):
        print(json.dumps(result, indent=2))
    elif result is not None:
        print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
