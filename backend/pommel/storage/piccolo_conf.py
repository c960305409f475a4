"""Piccolo configuration module (``PICCOLO_CONF=pommel.storage.piccolo_conf``).

Piccolo's migration machinery finds the engine here. ``DB`` starts from
``POMMEL_DATABASE_URL`` (for the ``piccolo`` command line) and is replaced by
``Database.bind`` with the engine the running server configured.
"""

from __future__ import annotations

import os
from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from pommel.storage.engines import DEFAULT_DATABASE_URL, engine_from_url

DB: Engine[Any] = engine_from_url(os.environ.get("POMMEL_DATABASE_URL", DEFAULT_DATABASE_URL))

APP_REGISTRY = AppRegistry(apps=["pommel.storage.piccolo_app"])
