"""A Dagger engine double: enough of the engine's GraphQL session API for the unmodified SDK.

See ``server.DaggerDouble`` for the object tests use and ``fixtures`` for the pytest fixtures.
"""

from tests.dagger_double.app import ReceivedQuery
from tests.dagger_double.pipeline import ExecSpec, Pipeline
from tests.dagger_double.runner import Execution
from tests.dagger_double.server import DaggerDouble, ThreadedServer

__all__ = ["DaggerDouble", "ExecSpec", "Execution", "Pipeline", "ReceivedQuery", "ThreadedServer"]
