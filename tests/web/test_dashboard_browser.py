"""The dashboard and GraphiQL in headless Chromium, against a real server, with no internet:
every request for anything but this server is blocked and recorded, and must never happen.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import pytest

from pommel.app import STATIC_DIR
from tests.web.live_server import LiveServer, live_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route, WebSocketRoute

pytestmark = pytest.mark.browser

playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')"
)
expect = playwright_sync.expect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SCREENSHOT = Path("/tmp/pommel-dashboard.png")
RUN_SCREENSHOT = Path("/tmp/pommel-run.png")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

if not Path(CHROMIUM).is_file():
    pytest.skip("Chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
if not (STATIC_DIR / "app" / "index.html").is_file():
    pytest.skip(
        "the dashboard is not built: run `make frontend` (cd frontend && npm ci && npm run build)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("browser")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with playwright_sync.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class OfflinePage:
    """A page whose requests may only go to localhost; it records what it tried otherwise."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.context = browser.new_context(
            base_url=base_url, viewport={"width": 1440, "height": 900}
        )
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def assert_clean(self) -> None:
        assert self.blocked == [], f"the page tried to reach the internet: {self.blocked}"
        assert self.errors == [], f"uncaught errors in the page: {self.errors}"


@pytest.fixture
def offline(browser: Browser, server: LiveServer) -> Iterator[OfflinePage]:
    page = OfflinePage(browser, server.url)
    yield page
    page.context.close()


def _project_with_task(server: LiveServer, status: str) -> tuple[str, str]:
    project = server.graphql(
        "mutation($i: CreateProjectInput!) { createProject(input: $i) { id } }",
        {"i": {"name": "Transitions", "description": "status rules"}},
    )["createProject"]["id"]
    task = server.graphql(
        "mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }",
        {"i": {"projectId": project, "name": "Retired idea", "status": status}},
    )["createTask"]["id"]
    return project, task


def test_dashboard_loads(offline: OfflinePage, server: LiveServer) -> None:
    server.graphql('mutation { createProject(input: {name: "Launch plan"}) { id } }')
    page = offline.page
    page.goto("/")
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Launch plan")).to_be_visible()
    page.screenshot(path=str(SCREENSHOT))
    offline.assert_clean()


def test_create_project_and_task_through_the_ui(offline: OfflinePage, server: LiveServer) -> None:
    page = offline.page
    page.goto("/")
    page.get_by_role("button", name="New project").click()
    form = page.get_by_role("form", name="New project")
    form.get_by_label("Name").fill("Website relaunch")
    form.get_by_label("Description").fill("Marketing site on the new stack")
    form.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Website relaunch")).to_be_visible()

    page.get_by_role("button", name="New task").click()
    dialog = page.get_by_role("dialog", name="New task")
    dialog.get_by_label("Name").fill("Draft the sitemap")
    dialog.get_by_label("Priority").select_option("HIGH")
    dialog.get_by_label("Assignee").fill("agent:planner")
    dialog.get_by_role("button", name="Create task").click()
    expect(dialog).to_be_hidden()
    row = page.locator("tr.task-row", has_text="Draft the sitemap")
    expect(row).to_be_visible()
    expect(row).to_contain_text("High")
    expect(row).to_contain_text("agent:planner")
    expect(page.get_by_role("complementary", name="Task")).to_contain_text("Draft the sitemap")

    found = server.graphql(
        """query { projects(filter: {search: "Website relaunch"}) { nodes {
             name description tasks { nodes { name priority assignee status } } } } }"""
    )["projects"]["nodes"]
    assert found == [
        {
            "name": "Website relaunch",
            "description": "Marketing site on the new stack",
            "tasks": {
                "nodes": [
                    {
                        "name": "Draft the sitemap",
                        "priority": "HIGH",
                        "assignee": "agent:planner",
                        "status": "PLANNED",
                    }
                ]
            },
        }
    ]
    offline.assert_clean()


def test_refused_status_change_shows_the_server_error(
    offline: OfflinePage, server: LiveServer
) -> None:
    project, task = _project_with_task(server, "CANCELLED")
    page = offline.page
    page.goto(f"/#/projects/{project}/tasks/{task}")
    panel = page.get_by_role("complementary", name="Task")
    panel.get_by_label("Status").select_option("COMPLETED")
    alert = panel.get_by_role("alert")
    expect(alert).to_contain_text("INVALID_TRANSITION")
    expect(alert).to_contain_text("cancelled task cannot become completed")
    # Nothing changed: the control shows the task's real status again.
    expect(panel.get_by_label("Status")).to_have_value("CANCELLED")
    after = server.graphql("query($id: ID!) { task(id: $id) { status } }", {"id": task})
    assert after["task"]["status"] == "CANCELLED"
    offline.assert_clean()


def test_graphiql_works_without_internet(offline: OfflinePage) -> None:
    page = offline.page
    page.goto("/graphql?q=" + quote("query Count { projects { totalCount } }"))
    expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible()
    page.locator(".graphiql-execute-button").click()
    expect(page.locator(".result-window")).to_contain_text('"totalCount"')
    offline.assert_clean()


class FakeRunBackend:
    """Answers the run page's snapshot query and speaks graphql-transport-ws for its event
    subscription, dropping the first connection mid-run like a restarting server would."""

    def __init__(self) -> None:
        self.subscribes: list[dict[str, Any]] = []
        self.finished = False
        now = datetime.now(UTC).isoformat()
        self.events = [
            self._event(101, "run.started", status="running"),
            self._event(102, "step.started", step="build", status="running"),
            self._event(103, "step.log", step="build", message="compiling 3 modules"),
            self._event(104, "step.log", step="build", message="linked app.bin", stream="stderr"),
            self._event(105, "step.finished", step="build", status="succeeded", exitCode=0),
            self._event(106, "run.finished", status="succeeded"),
        ]
        self.started_at = now

    @staticmethod
    def _event(sequence: int, kind: str, **fields: Any) -> dict[str, Any]:
        data = {k: fields.pop(k) for k in ("stream", "exitCode") if k in fields}
        return {
            "sequence": sequence,
            "type": kind,
            "at": datetime.now(UTC).isoformat(),
            "runId": "run-7",
            "taskId": "task-1",
            "projectId": "proj-1",
            "step": fields.get("step"),
            "status": fields.get("status"),
            "message": fields.get("message", ""),
            "data": data,
        }

    def snapshot(self) -> dict[str, Any]:
        def step(name: str) -> dict[str, Any]:
            done = self.finished and name == "build"
            return {
                "name": name,
                "status": "SUCCEEDED" if done else "PENDING",
                "exitCode": 0 if done else None,
                "cached": False,
                "attempts": 1 if done else 0,
                "startedAt": self.started_at if done else None,
                "finishedAt": self.started_at if done else None,
                "output": "",
                "stderr": "",
                "outputs": {},
            }

        return {
            "data": {
                "workflowRun": {
                    "id": "run-7",
                    "status": "SUCCEEDED" if self.finished else "RUNNING",
                    "startedAt": self.started_at,
                    "finishedAt": None,
                    "durationMs": None,
                    "error": None,
                    "outputs": {},
                    "steps": [step("build"), step("package")],
                    "logs": {"nodes": []},
                }
            }
        }

    def http(self, route: Route) -> None:
        body = route.request.post_data_json if route.request.method == "POST" else None
        if isinstance(body, dict) and body.get("operationName") == "WorkflowRun":
            route.fulfill(json=self.snapshot())
        else:
            route.fallback()

    def websocket(self, ws: WebSocketRoute) -> None:
        def send(message: dict[str, Any]) -> None:
            ws.send(json.dumps(message))

        def on_message(raw: str | bytes) -> None:
            message = json.loads(raw)
            if message["type"] == "connection_init":
                send({"type": "connection_ack"})
            elif message["type"] == "ping":
                send({"type": "pong"})
            elif message["type"] == "subscribe":
                self.subscribes.append(message["payload"])
                after = message["payload"]["variables"].get("after") or 0
                first_connection = len(self.subscribes) == 1
                # The first connection drops after 104; the second starts one event early,
                # as an at-least-once server might, and then finishes the run.
                for event in self.events:
                    if event["sequence"] <= after - (0 if first_connection else 1):
                        continue
                    if first_connection and event["sequence"] > 104:
                        ws.close(code=1012, reason="Service Restart")
                        return
                    if event["type"] == "run.finished":
                        self.finished = True
                    payload = {"data": {"workflowRunEvents": event}}
                    send({"id": message["id"], "type": "next", "payload": payload})
                send({"id": message["id"], "type": "complete"})

        ws.on_message(on_message)


def test_run_view_streams_and_resumes_after_a_dropped_connection(offline: OfflinePage) -> None:
    backend = FakeRunBackend()
    page = offline.page
    page.route(re.compile(r".*/graphql$"), backend.http)
    page.route_web_socket(re.compile(r".*/graphql$"), backend.websocket)
    page.goto("/#/runs/run-7")

    log = page.get_by_role("log")
    expect(log).to_contain_text("compiling 3 modules")
    expect(log).to_contain_text("linked app.bin")
    expect(page.get_by_role("heading", name=re.compile("Run run-7"))).to_contain_text(
        "Succeeded", timeout=20_000
    )
    build = page.locator("button.step[data-step=build]")
    expect(build).to_contain_text("Succeeded")
    expect(build).to_contain_text("exit 0")
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    # Every line once, though the server repeated event 104 after the reconnection.
    expect(log.locator(".log-line")).to_have_count(2)
    expect(log.locator(".log-line.stderr")).to_contain_text("linked app.bin")

    assert [s["variables"]["after"] for s in backend.subscribes] == [0, 104]
    assert all(s["variables"]["runId"] == "run-7" for s in backend.subscribes)
    page.screenshot(path=str(RUN_SCREENSHOT))
    offline.assert_clean()
