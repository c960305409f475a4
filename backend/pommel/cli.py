"""The ``pommel`` command: serve, migrate, mcp, templates validate, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pommel.config import Settings, SettingsError, load_settings
from pommel.logconfig import configure_logging

log = logging.getLogger("pommel")


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    given = {
        "database_url": getattr(args, "database_url", None),
        "executor": getattr(args, "executor", None),
        **overrides,
    }
    return load_settings(config_dir=Path(args.config_dir), overrides=given)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings(args, host=args.host, port=args.port)
    configure_logging(settings.log_level)
    _check_templates(settings)
    if args.reload:
        # The reloader imports the app in a child process: hand it the settings via env.
        for key, value in (
            ("DATABASE_URL", settings.database_url),
            ("EXECUTOR", settings.executor),
        ):
            os.environ[f"POMMEL_{key}"] = value
        uvicorn.run(
            "pommel.app:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            reload=True,
            reload_dirs=[str(Path(__file__).parent)],
        )
        return 0
    from pommel.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        ws="websockets-sansio",
        proxy_headers=False,
    )
    return 0


def _check_templates(settings: Settings) -> None:
    """Fail before binding the port when a template file is broken or defined twice."""
    from pommel.services.templates import TemplateLoadError, TemplateRegistry

    try:
        TemplateRegistry(
            builtin_dir=settings.builtin_templates_dir, extra_dir=settings.templates_dir
        ).load_files()
    except TemplateLoadError as exc:
        raise SettingsError(str(exc)) from None


def _migrate(args: argparse.Namespace) -> int:
    from pommel.storage.database import Database

    settings = _settings(args)
    configure_logging(settings.log_level)

    async def run() -> list[str]:
        db = Database(settings.database_url)
        try:
            await db.connect(migrate=False)
            return await db.migrate()
        finally:
            await db.close()

    for line in asyncio.run(run()):
        print(line)
    print(f"database at {settings.database_url} is up to date")
    return 0


def _validate_templates(args: argparse.Namespace) -> int:
    from pommel.domain.template import parse_template, template_files, validate_paths
    from pommel.services.templates import BUILTIN_DIR

    # Composite templates may call the built-in ones and each other.
    known = {}
    for folder in [BUILTIN_DIR, *(Path(p) for p in args.paths if Path(p).is_dir())]:
        for path in template_files(folder):
            with contextlib.suppress(Exception):
                template = parse_template(path.read_text(encoding="utf-8"))
                known[template.name] = template
    return validate_paths(args.paths, out=sys.stdout, lookup=known.get)


def _api_keys(args: argparse.Namespace) -> int:
    """``api-keys create|list|revoke``, straight on the database: how the first admin key is
    made when every request needs one (``auth_required: true``)."""
    from pommel.errors import PommelError
    from pommel.ids import Kind, parse_id
    from pommel.services import api_keys
    from pommel.storage.database import Database

    settings = _settings(args)
    configure_logging(settings.log_level)

    async def run() -> None:
        db = Database(settings.database_url)
        await db.connect()
        try:
            if args.key_command == "create":
                scopes = [s for value in args.scopes for s in value.split(",") if s.strip()]
                created = await api_keys.create_api_key(db, name=args.name, scopes=scopes)
                record = created.record
                print(created.secret)  # alone on stdout, for scripts: KEY=$(pommel api-keys …)
                print(
                    f"created {record.public_id} '{record.name}' with scopes "
                    f"{', '.join(record.scopes)}; the key is shown only now: store it",
                    file=sys.stderr,
                )
            elif args.key_command == "revoke":
                record = await api_keys.revoke_api_key(db, pk=parse_id(args.id, Kind.API_KEY))
                print(f"revoked {record.public_id} '{record.name}'")
            else:
                for record in await api_keys.list_api_keys():
                    state = "revoked" if record.revoked_at else "active"
                    prefix, granted = f"pml_{record.prefix}_…", ",".join(record.scopes)
                    print("\t".join((record.public_id, prefix, granted, state, record.name)))
        finally:
            await db.close()

    try:
        asyncio.run(run())
    except PommelError as exc:
        print(f"pommel: {exc.message}", file=sys.stderr)
        return 2
    return 0


def _mcp(args: argparse.Namespace) -> int:
    """``pommel mcp``: the MCP bridge over stdio (stdout is the protocol; logs go to stderr)."""
    from pommel.mcp import stdio
    from pommel.mcp.server import BridgeConfigError

    settings = _settings(args)
    configure_logging(settings.log_level)
    tools = None
    if args.tools is not None:
        tools = frozenset(name.strip() for name in args.tools.split(",") if name.strip())
    options = stdio.BridgeOptions(
        url=args.url,
        api_key=args.api_key or os.environ.get("POMMEL_API_KEY") or None,
        read_only=args.read_only,
        tools=tools,
    )
    try:
        return stdio.main(options, settings)
    except BridgeConfigError as exc:
        raise SettingsError(str(exc)) from None


def _export_schema(args: argparse.Namespace) -> int:
    from pommel.api.schema import schema

    text = str(schema) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pommel", description=__doc__)
    parser.add_argument("--config-dir", default="config", help="folder of default.yaml and .env")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API, dashboard, GraphiQL and /mcp")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--reload", action="store_true", help="restart when the code changes")
    serve.add_argument("--database-url")
    serve.add_argument("--executor", choices=["auto", "dagger", "local"])
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.add_argument("--database-url")
    migrate.set_defaults(handler=_migrate)

    templates = commands.add_parser("templates", help="work with workflow templates")
    template_commands = templates.add_subparsers(dest="template_command", required=True)
    validate = template_commands.add_parser("validate", help="check template files")
    validate.add_argument("paths", nargs="+", help="template files or folders of them")
    validate.set_defaults(handler=_validate_templates)

    keys = commands.add_parser("api-keys", help="create, list or revoke API keys")
    keys.add_argument("--database-url")
    keys.set_defaults(handler=_api_keys)
    key_commands = keys.add_subparsers(dest="key_command", required=True)
    create = key_commands.add_parser("create", help="create a key; prints it (once) on stdout")
    create.add_argument("name", help="what the key is for, e.g. 'ci' or 'dashboard'")
    create.add_argument(
        "--scopes",
        nargs="+",
        required=True,
        metavar="SCOPE",
        help="read, write, execute and/or admin (space- or comma-separated)",
    )
    key_commands.add_parser("list", help="list keys (never their secrets)")
    revoke = key_commands.add_parser("revoke", help="revoke a key by id (key-3)")
    revoke.add_argument("id")

    bridge = commands.add_parser("mcp", help="the MCP bridge over stdio, for agents")
    bridge.add_argument("--url", help="a Pommel server's /graphql; default: in-process")
    bridge.add_argument("--api-key", help="API key (default: $POMMEL_API_KEY)")
    bridge.add_argument("--read-only", action="store_true", help="serve no tool that changes data")
    bridge.add_argument("--tools", help="serve only these tools (comma-separated names)")
    bridge.add_argument("--database-url")
    bridge.add_argument("--executor", choices=["auto", "dagger", "local"])
    bridge.set_defaults(handler=_mcp)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")
    export.set_defaults(handler=_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as exc:
        print(f"pommel: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
