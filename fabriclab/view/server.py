"""The view's web server (aiohttp): the static page, the graph, and frames as server-sent
events (live) or one recording (replay).

Live: one task samples the source every `interval` seconds in a worker thread (the gRPC
reads block) and sends each frame to every open page; a page that connects first gets the
last 60 s of frames, so its time series start full. When the run ends or a read fails,
the pages get a `status` event with the message, and the server keeps serving.
"""

from __future__ import annotations

import asyncio
import errno
import json
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from aiohttp import web

from fabriclab.errors import FabricError
from fabriclab.view.model import FrameMaker, Snapshot

STATIC = Path(__file__).resolve().parent / "static"
VENDOR_JS = STATIC / "vendor" / "cytoscape.min.js"


@dataclass
class LiveFeed:
    """Frames from a sampling function, fanned out to the open pages."""

    sample: Callable[[], Snapshot]
    maker: FrameMaker
    interval: float = 0.5
    status: dict[str, Any] = field(default_factory=lambda: {"level": "ok", "text": "live"})
    subscribers: set[asyncio.Queue] = field(default_factory=set)
    ended_types: tuple[type[BaseException], ...] = ()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                snap = await loop.run_in_executor(None, self.sample)
            except self.ended_types as err:
                self._publish("status", self._set_status("ended", str(err)))
                return
            except FabricError as err:
                self._publish("status", self._set_status("error", str(err)))
            else:
                if self.status["level"] != "ok":
                    self._publish("status", self._set_status("ok", "live"))
                self._publish("frame", self.maker.add(snap))
            # a fixed rate: the time a sample took counts toward the interval
            await asyncio.sleep(max(0.0, self.interval - (loop.time() - started)))

    def _set_status(self, level: str, text: str) -> dict[str, Any]:
        self.status = {"level": level, "text": text}
        return self.status

    def _publish(self, event: str, data: dict[str, Any]) -> None:
        for queue in self.subscribers:
            queue.put_nowait((event, data))


def make_app(info: dict[str, Any], feed: LiveFeed | None = None,
             recording: dict[str, Any] | None = None) -> web.Application:
    """`info` goes to the page as /api/info (mode, run, graph); `feed` for a live run,
    `recording` for a replay."""
    app = web.Application()

    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def api_info(_: web.Request) -> web.Response:
        return web.json_response(info)

    async def api_recording(_: web.Request) -> web.Response:
        if recording is None:
            raise web.HTTPNotFound(text="this view is live, not a replay")
        return web.json_response({"frames": recording["frames"]})

    async def api_events(request: web.Request) -> web.StreamResponse:
        if feed is None:
            raise web.HTTPNotFound(text="this view is a replay: no live events")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
        await resp.prepare(request)
        queue: asyncio.Queue = asyncio.Queue()
        for frame in list(feed.maker.frames):
            queue.put_nowait(("frame", frame))
        queue.put_nowait(("status", feed.status))
        feed.subscribers.add(queue)
        try:
            while True:
                event, data = await queue.get()
                await resp.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            feed.subscribers.discard(queue)
        return resp

    app.router.add_get("/", index)
    app.router.add_get("/api/info", api_info)
    app.router.add_get("/api/events", api_events)
    app.router.add_get("/api/recording", api_recording)
    app.router.add_static("/static/", STATIC)
    if feed is not None:
        async def start_feed(app_: web.Application) -> Any:
            task = asyncio.create_task(feed.run())
            yield
            task.cancel()
        app.cleanup_ctx.append(start_feed)
    return app


def check_assets() -> None:
    if not VENDOR_JS.is_file():
        raise FabricError(f"the page's graph library is missing ({VENDOR_JS}): run `make setup` "
                          "(it installs cytoscape from npm)")


def serve(app: web.Application, host: str, port: int,
          announce: Callable[[str], None] = print) -> None:
    """Serve until Ctrl-C or SIGTERM; a port in use is a FabricError, not a traceback."""

    async def main() -> None:
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as err:
            await runner.cleanup()
            if err.errno == errno.EADDRINUSE:
                raise FabricError(f"port {port} on {host} is in use: pick another with --port, "
                                  "or leave --port out for a free one") from None
            raise FabricError(f"cannot listen on {host}:{port}: {err.strerror}") from None
        bound = runner.addresses[0]
        url_host = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        announce(f"fabriclab view: http://{url_host}:{bound[1]}/  (Ctrl-C to stop)")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    asyncio.run(main())

