"""The dashboard's built assets (``make dashboard`` builds dashboard/dist) at /dashboard/, from
the same server as /graphql: index.html for /dashboard/, each file with its content type,
index.html revalidated on every load (``no-cache``) and Vite's content-hashed assets cached for
good. Without a build, a page that says how to make one."""

from __future__ import annotations

import mimetypes
import os
from os import PathLike
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from streamlines.settings import Settings

REPO_DIST = Path(__file__).resolve().parents[1] / "dashboard" / "dist"
# Vite puts the hashed bundle here: a changed file gets a new name.
HASHED_DIR = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"

# Types the system's mime.types may lack or name differently (a module script needs one of
# JavaScript's).
for _ext, _type in {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".map": "application/json",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
}.items():
    mimetypes.add_type(_type, _ext)


def dashboard_dir(settings: Settings) -> Path:
    return settings.dashboard_dir or REPO_DIST


class DashboardFiles(StaticFiles):
    def file_response(
        self,
        full_path: str | PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        relative = Path(full_path).relative_to(Path(self.directory or ".")).as_posix()
        cache = IMMUTABLE if relative.startswith(HASHED_DIR) else "no-cache"
        response.headers["Cache-Control"] = cache
        return response


def not_built_page(directory: Path) -> str:
    return (
        "<!doctype html><meta charset=utf-8><title>Dashboard not built</title>"
        "<h1>The dashboard is not built</h1>"
        f"<p>There is no <code>index.html</code> in <code>{directory}</code>. Build it with "
        "<code>make dashboard</code> (npm ci and Vite) and reload, or point "
        "<code>STREAMLINES_DASHBOARD_DIR</code> at a built <code>dist</code> directory. "
        "GraphQL is at <a href=/graphql>/graphql</a> either way.</p>"
    )


class Dashboard:
    """The files of ``directory`` (looked for at each request: a build made while the server
    runs is served at once), or the page saying how to build them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = DashboardFiles(directory=directory, html=True, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (self.directory / "index.html").is_file():
            page = HTMLResponse(not_built_page(self.directory), status_code=404,
                                headers={"Cache-Control": "no-store"})  # fmt: skip
            await page(scope, receive, send)
            return
        await self.files(scope, receive, send)


def dashboard_routes(settings: Settings) -> list[BaseRoute]:
    """/dashboard (redirected to /dashboard/) and the files under /dashboard/."""

    async def to_slash(request: Request) -> RedirectResponse:
        query = request.url.query
        return RedirectResponse("/dashboard/" + (f"?{query}" if query else ""), status_code=308)

    return [
        Route("/dashboard", to_slash),
        Mount("/dashboard", app=Dashboard(dashboard_dir(settings))),
    ]
