"""Templates: built-in and directory templates loaded from files at start-up, custom ones
stored in the database. A template's id is its ``metadata.name``.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from pommel.domain.template import (
    Problem,
    Template,
    TemplateError,
    parse_template,
    template_files,
    validate_source,
)
from pommel.errors import Conflict, Forbidden, NotFound, TemplateInvalid, ValidationFailed
from pommel.events import log as event_log
from pommel.events.model import EventType, NewEvent
from pommel.storage.database import Database
from pommel.storage.tables import CustomTemplate

log = logging.getLogger(__name__)

# The repository's own templates/ folder (an editable install runs from the checkout).
BUILTIN_DIR = Path(__file__).resolve().parents[3] / "templates"
MAX_SOURCE = 200_000


class TemplateLoadError(RuntimeError):
    """Template files that cannot be served; stops start-up with every file's problems."""


@dataclass(frozen=True)
class TemplateEntry:
    """A template with where it came from. ``builtin`` ones cannot be changed through the API."""

    template: Template
    builtin: bool
    origin: str


def problems_as_data(problems: list[Problem]) -> list[dict[str, object]]:
    return [{"path": p.path, "line": p.line, "message": p.message} for p in problems]


def _invalid(error: TemplateError) -> TemplateInvalid:
    first = error.problems[0] if error.problems else None
    summary = f"{first}" if first else "template is invalid"
    more = f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""
    return TemplateInvalid(
        f"template is invalid: {summary}{more}", problems=problems_as_data(error.problems)
    )


class TemplateRegistry:
    """File templates held in memory; custom templates read through from the database."""

    def __init__(self, *, builtin_dir: Path | None = None, extra_dir: Path | None = None) -> None:
        self.builtin_dir = builtin_dir or BUILTIN_DIR
        self.extra_dir = extra_dir
        self._files: dict[str, TemplateEntry] = {}
        # Parsed custom templates by (name, source), so each source is parsed once.
        self._parsed: dict[tuple[str, str], Template] = {}

    def load_files(self) -> None:
        """Load built-in and ``templates_dir`` templates; raise listing every broken file."""
        sources: dict[str, tuple[Path, str, bool]] = {}
        failures: list[str] = []
        folders = [(self.builtin_dir, True)]
        if self.extra_dir is not None:
            if not self.extra_dir.is_dir():
                raise TemplateLoadError(f"templates_dir '{self.extra_dir}' is not a folder")
            if self.extra_dir.resolve() != self.builtin_dir.resolve():
                folders.append((self.extra_dir, False))
        for folder, builtin in folders:
            if not folder.is_dir():
                continue
            for path in template_files(folder):
                source = path.read_text(encoding="utf-8")
                name = _declared_name(source)
                if name in sources:
                    failures.append(
                        f"template '{name}' is defined twice: {sources[name][0]} and {path}"
                    )
                    continue
                sources[name or str(path)] = (path, source, builtin)
        entries: dict[str, TemplateEntry] = {}
        # Parse in two passes so composite templates can name templates defined after them.
        provisional = {}
        for path, source, _builtin in sources.values():
            try:
                provisional[path] = parse_template(source)
            except TemplateError as error:
                failures.extend(f"{path}: {problem}" for problem in error.problems)
        by_name = {template.name: template for template in provisional.values()}
        for path, source, builtin in sources.values():
            if path not in provisional:
                continue
            try:
                template = parse_template(source, lookup=by_name.get)
            except TemplateError as error:
                failures.extend(f"{path}: {problem}" for problem in error.problems)
                continue
            entries[template.name] = TemplateEntry(template, builtin=builtin, origin=str(path))
        if failures:
            raise TemplateLoadError("cannot load templates:\n  " + "\n  ".join(failures))
        self._files = entries
        log.info("loaded %d file templates", len(entries))

    def file_template(self, template_id: str) -> TemplateEntry | None:
        return self._files.get(template_id)

    def lookup(self, template_id: str) -> Template | None:
        """A file template by id (custom ones need ``get``, which reads the database)."""
        entry = self._files.get(template_id)
        return entry.template if entry else None

    def _parse_custom(self, name: str, source: str, others: dict[str, Template]) -> Template:
        key = (name, source)
        template = self._parsed.get(key)
        if template is None:
            # A custom composite may call file templates and other custom ones.
            template = parse_template(
                source, lookup=lambda id_: self.lookup(id_) or others.get(id_)
            )
            self._parsed[key] = template
        return template

    async def custom_entries(self) -> dict[str, TemplateEntry]:
        rows = await CustomTemplate.select(CustomTemplate.name, CustomTemplate.source)
        # First without resolving calls, so each can name the others; then checked in full.
        provisional: dict[str, Template] = {}
        for row in rows:
            with contextlib.suppress(TemplateError):
                provisional[row["name"]] = parse_template(row["source"])
        entries = {}
        for row in rows:
            try:
                template = self._parse_custom(row["name"], row["source"], provisional)
            except TemplateError as error:
                # Stored sources were valid when saved; a template they call may have changed
                # or gone since. Keep serving the others and say which one broke.
                log.warning("custom template '%s' no longer loads: %s", row["name"], error)
                continue
            entries[template.name] = TemplateEntry(template, builtin=False, origin="database")
        return entries

    async def get(self, template_id: str) -> TemplateEntry:
        entry = self._files.get(template_id)
        if entry is not None:
            return entry
        exists = await CustomTemplate.exists().where(CustomTemplate.name == template_id)
        if not exists:
            raise NotFound(f"no template '{template_id}'")
        entry = (await self.custom_entries()).get(template_id)
        if entry is None:
            row = (
                await CustomTemplate.select(CustomTemplate.source)
                .where(CustomTemplate.name == template_id)
                .first()
            )
            try:
                parse_template(row["source"] if row else "", lookup=(await self.resolver()).get)
            except TemplateError as error:
                raise _invalid(error) from None
            raise NotFound(f"no template '{template_id}'")
        return entry

    async def resolver(self) -> dict[str, Template]:
        """Every template by id (for composite steps naming custom templates)."""
        found = {name: entry.template for name, entry in self._files.items()}
        found.update({name: e.template for name, e in (await self.custom_entries()).items()})
        return found

    async def list(self, *, category: str | None = None) -> list[TemplateEntry]:
        entries = dict(self._files)
        entries.update(await self.custom_entries())
        chosen = [
            entry
            for entry in entries.values()
            if category is None or entry.template.category == category
        ]
        return sorted(chosen, key=lambda e: (e.template.category, e.template.name))


def _declared_name(source: str) -> str | None:
    """``metadata.name`` if it can be read cheaply (duplicates are found before parsing)."""
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError:
        return None
    metadata = data.get("metadata") if isinstance(data, dict) else None
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else None


def _check_size(source: str) -> None:
    if len(source) > MAX_SOURCE:
        raise ValidationFailed({"source": f"must be at most {MAX_SOURCE} characters"})


async def validate(registry: TemplateRegistry, *, source: str) -> list[Problem]:
    """Every problem in ``source``; never raises for bad input."""
    if len(source) > MAX_SOURCE:
        return [Problem("", None, f"source must be at most {MAX_SOURCE} characters")]
    resolver = await registry.resolver()
    return validate_source(source, lookup=resolver.get)


async def create_template(
    db: Database, registry: TemplateRegistry, *, source: str
) -> TemplateEntry:
    _check_size(source)
    resolver = await registry.resolver()
    try:
        template = parse_template(source, lookup=resolver.get)
    except TemplateError as error:
        raise _invalid(error) from None
    async with db.write():
        if registry.file_template(template.name) is not None:
            raise Conflict(f"template '{template.name}' already exists as a file template")
        exists = await CustomTemplate.exists().where(CustomTemplate.name == template.name)
        if exists:
            raise Conflict(
                f"template '{template.name}' already exists; use updateTemplate to change it"
            )
        await CustomTemplate.insert(CustomTemplate(name=template.name, source=source))
        await event_log.append(
            db,
            [
                NewEvent(
                    EventType.TEMPLATE_CREATED,
                    message=f"template '{template.name}' created",
                    data={"template": template.name},
                )
            ],
        )
    return TemplateEntry(template, builtin=False, origin="database")


async def _custom_or_refuse(registry: TemplateRegistry, template_id: str, verb: str) -> None:
    entry = registry.file_template(template_id)
    if entry is not None:
        raise Forbidden(
            f"template '{template_id}' is a {'built-in' if entry.builtin else 'file'} "
            f"template and cannot be {verb} through the API"
        )
    exists = await CustomTemplate.exists().where(CustomTemplate.name == template_id)
    if not exists:
        raise NotFound(f"no template '{template_id}'")


async def update_template(
    db: Database, registry: TemplateRegistry, *, template_id: str, source: str
) -> TemplateEntry:
    _check_size(source)
    resolver = await registry.resolver()
    try:
        template = parse_template(source, lookup=resolver.get)
    except TemplateError as error:
        raise _invalid(error) from None
    if template.name != template_id:
        raise ValidationFailed(
            {
                "source": f"metadata.name is '{template.name}' but the template being updated is "
                f"'{template_id}'; a template's name is its id and cannot change"
            }
        )
    async with db.write():
        await _custom_or_refuse(registry, template_id, "changed")
        await CustomTemplate.update(
            {CustomTemplate.source: source, CustomTemplate.updated_at: datetime.now(UTC)}
        ).where(CustomTemplate.name == template_id)
        await event_log.append(
            db,
            [
                NewEvent(
                    EventType.TEMPLATE_UPDATED,
                    message=f"template '{template_id}' updated",
                    data={"template": template_id, "version": template.version},
                )
            ],
        )
    return TemplateEntry(template, builtin=False, origin="database")


async def delete_template(db: Database, registry: TemplateRegistry, *, template_id: str) -> None:
    """Delete a custom template; workflows made from it keep their rendered definitions."""
    async with db.write():
        await _custom_or_refuse(registry, template_id, "deleted")
        await CustomTemplate.delete().where(CustomTemplate.name == template_id)
        await event_log.append(
            db,
            [
                NewEvent(
                    EventType.TEMPLATE_DELETED,
                    message=f"template '{template_id}' deleted",
                    data={"template": template_id},
                )
            ],
        )
