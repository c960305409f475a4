"""GraphiQL works with no internet: every file Strawberry's page loads from unpkg is served from
our own copy (built by ``frontend/scripts/copy-graphiql-vendor.mjs``), byte-identical, so the
page's ``integrity=`` hashes hold. A Strawberry upgrade that names other versions fails here
until the frontend pins and copies them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from strawberry.http.ides import get_graphql_ide_html

from pommel.api.http import UNPKG
from pommel.app import STATIC_DIR

VENDOR = STATIC_DIR / "vendor"
BUILD_HINT = "the GraphiQL assets are not built: run `make frontend` (cd frontend && npm run build)"


@dataclass(frozen=True)
class Asset:
    url: str
    integrity: str

    @property
    def path(self) -> str:
        """Where the asset lives under /static/vendor/ (the unpkg path: pkg@version/file)."""
        return self.url.removeprefix(UNPKG)


class _AssetCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.assets: list[Asset] = []
        self.unpinned: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        url = attributes.get("src") if tag == "script" else attributes.get("href")
        if not url or not url.startswith(UNPKG):
            return
        integrity = attributes.get("integrity")
        if integrity:
            self.assets.append(Asset(url, integrity))
        else:
            self.unpinned.append(url)


def page_assets(html: str) -> _AssetCollector:
    collector = _AssetCollector()
    collector.feed(html)
    return collector


STRAWBERRY_PAGE = get_graphql_ide_html()
ASSETS = page_assets(STRAWBERRY_PAGE).assets


def sri(data: bytes, integrity: str) -> str:
    algorithm = integrity.split("-", 1)[0]
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


@pytest.fixture(scope="module")
def vendor_dir() -> Path:
    if not VENDOR.is_dir():
        pytest.skip(BUILD_HINT)
    return VENDOR


def test_the_page_names_its_assets_with_hashes() -> None:
    collected = page_assets(STRAWBERRY_PAGE)
    # React, react-dom, js-cookie, GraphiQL's JS and CSS, the explorer's JS and CSS.
    assert len(collected.assets) >= 7, collected.assets
    assert collected.unpinned == [], "an unpkg asset without integrity= cannot be checked"
    assert all(a.integrity.startswith("sha384-") for a in collected.assets)


@pytest.mark.parametrize("asset", ASSETS, ids=lambda a: a.path)
def test_local_copy_matches_the_page_integrity(asset: Asset, vendor_dir: Path) -> None:
    local = vendor_dir / asset.path
    assert local.is_file(), (
        f"{asset.url} has no local copy at {local}: pin that package version in "
        "frontend/package.json and add the file to frontend/scripts/copy-graphiql-vendor.mjs"
    )
    assert sri(local.read_bytes(), asset.integrity) == asset.integrity, (
        f"{local} differs from {asset.url}"
    )


# Anything a stylesheet would fetch on its own: @import of another sheet, or url(...) that is
# not an inline data: URI (GraphiQL's fonts are inlined as data:font/woff2).
_REMOTE_CSS = re.compile(r"@import|url\(\s*['\"]?(?!data:)(?!#)[^)'\"]+", re.IGNORECASE)


@pytest.mark.parametrize(
    "asset", [a for a in ASSETS if a.path.endswith(".css")], ids=lambda a: a.path
)
def test_stylesheets_fetch_nothing_else(asset: Asset, vendor_dir: Path) -> None:
    css = (vendor_dir / asset.path).read_text(encoding="utf-8")
    found = [m.group(0)[:80] for m in _REMOTE_CSS.finditer(css)]
    assert found == [], f"{asset.path} would fetch more files: {found}"


async def test_served_page_loads_everything_from_this_server(
    client: httpx.AsyncClient, vendor_dir: Path
) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    html = response.text
    assert "unpkg.com" not in html
    served = page_assets(html.replace("/static/vendor/", UNPKG))
    assert [a.path for a in served.assets] == [a.path for a in ASSETS]
    for asset in ASSETS:
        file = await client.get(f"/static/vendor/{asset.path}")
        assert file.status_code == 200, asset.path
        assert sri(file.content, asset.integrity) == asset.integrity, asset.path
    # No other absolute URL for the browser to load (links in comments or text are fine).
    loaded = re.findall(r"""(?:src|href)\s*=\s*["'](https?:)?//""", html)
    assert loaded == []
