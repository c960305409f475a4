"""The process-wide parts a running Pommel holds, assembled by the app factory."""

from __future__ import annotations

from dataclasses import dataclass

from pommel.config import Settings
from pommel.storage.database import Database


@dataclass
class Runtime:
    """Settings and the long-lived services every request can reach."""

    settings: Settings
    db: Database
