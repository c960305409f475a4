"""The process-wide parts a running Pommel holds, assembled by the app factory."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from pommel.config import Settings
from pommel.engine.project_scheduler import ProjectScheduler
from pommel.engine.worker import Worker
from pommel.events.broker import EventBroker
from pommel.events.retention import RetentionPolicy
from pommel.events.webhook_delivery import DeliveryPolicy, WebhookWorker
from pommel.services.auth import Authenticator
from pommel.services.templates import TemplateRegistry
from pommel.storage.database import Database

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Settings and the long-lived services every request can reach."""

    settings: Settings
    db: Database
    # Built from ``db``; replace it before start-up to tune it (tests use a small queue).
    broker: EventBroker = field(init=False)
    templates: TemplateRegistry = field(init=False)
    # Executes queued runs; started by the app's lifespan after the database and the broker.
    worker: Worker = field(init=False)
    projects: ProjectScheduler = field(init=False)
    auth: Authenticator = field(init=False)
    webhooks: WebhookWorker = field(init=False)

    def __post_init__(self) -> None:
        self.broker = EventBroker(self.db, retention=RetentionPolicy.from_settings(self.settings))
        self.templates = TemplateRegistry(
            builtin_dir=self.settings.builtin_templates_dir, extra_dir=self.settings.templates_dir
        )
        self.worker = Worker(
            db=self.db, settings=self.settings, templates=self.templates, broker=self.broker
        )
        self.projects = ProjectScheduler(db=self.db, templates=self.templates, worker=self.worker)
        self.auth = Authenticator(self.db, self.settings)
        self.webhooks = WebhookWorker(self.db, DeliveryPolicy.from_settings(self.settings))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Runtime]:
        """Start the background services and stop them on exit.

        The one place start-up lives: the app's lifespan (``pommel serve``) and the in-process
        MCP bridge (``pommel mcp``) both enter it, so they run the same services.
        """
        self.templates.load_files()
        await self.db.connect()
        log.info("database ready: %s", self.db.url)
        await self.broker.start()
        await self.webhooks.start()
        await self.worker.start()
        await self.projects.start()
        try:
            yield self
        finally:
            await self.projects.stop()
            await self.worker.stop()
            await self.webhooks.stop()
            await self.auth.close()
            await self.broker.stop()
            await self.db.close()
