"""The ``pommel`` command: serve, migrate, mcp, templates validate, export-schema."""

from __future__ import annotations

import argparse
import asyncio
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
        ws="websockets",
        proxy_headers=False,
    )
    return 0


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
    from pommel.domain.template import validate_paths

    return validate_paths(args.paths, out=sys.stdout)


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
