"""Build the Gradio Blocks of the playground: the tabs, the named API endpoints, and per-visitor cleanup.

Named API (for gradio_client; each Client is one visitor with its own trainer):
  start(preset="")        -> status JSON       build the visitor's trainer (with a preset if given) and train
  pause()                 -> status JSON
  status()                -> status JSON       step, status, latest metrics, knobs, latest quality, recent events
  set_knobs(changes)      -> JSON              changes: a JSON object, e.g. {"lr_g": 0.001, "loss": "hinge"}
  step(kind="both", n=1)  -> status JSON       kind: both, d or g
  generate(seed, source, offsets, label) -> image   (defined in explore_tab)
  translate(image, source="live") -> image         (defined in translate_tab) G's output for an image file, 8x
  server_stats()          -> JSON              counts only: sessions, trainers, running, the cap, threads
  branch(action, frame=-1, knob="", value="") -> JSON  fork, compare, start, pause, keep, discard (branch_api.py)
"""
from __future__ import annotations

import json

import gradio as gr

from playground import chunked, texts
from playground.api_docs import describe_api
from playground.branch_api import add_branch_api
from playground.warm_start import warm_in_background
from playground.explore_service import ExploreService
from playground.explore_tab import build_explore_tab
from playground.live_plot import PLOTLY_JS, plotly_head
from playground.sessions import SessionRegistry
from playground.settings import Settings, load_settings
from playground.train_service import TrainService
from playground.train_tab import build_train_tab
from playground.translate_service import TranslateService
from playground.translate_tab import build_translate_tab
from playground.ui_common import session_id

CSS = """
.gp-pixelated { image-rendering: pixelated; width: 100%; max-width: 420px; border-radius: 6px; }
.gp-figure { margin: 0; } .gp-figure figcaption { font-size: 0.85em; color: var(--body-text-color-subdued); }
.gp-empty { min-height: 120px; display: flex; align-items: center; justify-content: center;
            color: var(--body-text-color-subdued); border: 1px dashed var(--border-color-primary); border-radius: 6px; }
#gp-counter p { font-size: 1.15em; margin: 0.2em 0; }
.gp-live-plot { width: 100%; }
#gp-explore-image img, #gp-class-strip img { image-rendering: pixelated; }
#gp-tx-seen img, #gp-tx-output img, #gp-tx-target img, #gp-tx-back img, #gp-tx-every img {
  image-rendering: pixelated; }
.gp-hidden { display: none !important; }
#gp-lr-g input[type=number], #gp-lr-d input[type=number] { display: none; }  /* log10: the box beside it takes the lr */
"""


class Playground:
    """The app's shared objects: settings, the session registry and the two services."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or load_settings()
        self.registry = SessionRegistry(max_trainers=self.settings.max_trainers, max_kept=self.settings.max_kept or None,
                                        lease_seconds=self.settings.lease_seconds,
                                        idle_seconds=self.settings.idle_seconds)
        self.train = TrainService(registry=self.registry, settings=self.settings)
        warm_in_background()   # the first Adam imports torch._dynamo: do it now, not on a visitor's first click
        if self.settings.max_step_gflops:  # the first cost estimate imports torch's meta kernels (1-8 s): do it now
            import threading

            from ganengine.cost import warm_up
            threading.Thread(target=warm_up, name="cost-warm-up", daemon=True).start()
        self.explore = ExploreService(registry=self.registry, settings=self.settings)
        self.translate = TranslateService(registry=self.registry, settings=self.settings)


def build_demo(playground: Playground) -> gr.Blocks:
    service = playground.train
    with gr.Blocks(title="GAN Playground", delete_cache=(600, 900)) as demo:
        gr.Markdown(texts.INTRO, elem_id="gp-intro")
        with gr.Tabs() as tabs:
            train = build_train_tab(service)
            if chunked.enabled():  # a ZeroGPU Space: training in GPU calls of a few hundred steps (playground.chunked)
                chunked.build_chunked_tab()
            explore = build_explore_tab(playground.explore)
            translate = build_translate_tab(playground.translate)
            with gr.Tab("About", id="about"):
                gr.Markdown(texts.ABOUT)
                limits = playground.settings
                gr.Markdown(f"**This server's limits:** {limits.max_trainers} trainings at once; "
                            f"{'no time limit' if not limits.run_seconds else f'{limits.run_seconds:g} s of training per run'}; "
                            f"uploads up to {limits.max_upload_mb} MiB; a hidden tab pauses its run after "
                            f"{limits.lease_seconds:g} s and a closed one is freed within {limits.idle_seconds:g} s.")

        # ---- named API endpoints --------------------------------------------------------------------------
        def api_start(preset: str = "", request: gr.Request = None) -> str:
            """Build this client's trainer (with a preset, if given) and start training. Returns the status JSON.

            Args:
                preset: a preset's name, such as "ring8", "dcgan-mnist" or "cgan-mnist" (README: Presets); "" keeps
                    this client's current setup (the default preset on its first call).
            """
            sid = session_id(request)
            if preset:
                try:
                    setup = service.preset_setup(preset)
                except Exception as err:
                    return json.dumps({"ok": False, "error": str(err)})
                message = service.apply_setup(sid, setup)
                if not message.ok:
                    return json.dumps({"ok": False, "error": message})
            message = service.start(sid)
            return json.dumps({**service.status(sid), "ok": message.ok, "message": message})

        def api_pause(request: gr.Request = None) -> str:
            """Pause this client's training. Returns the status JSON."""
            sid = session_id(request)
            service.pause(sid)
            service.wait_idle(sid, 5.0)   # the status then says paused, not the running it was a moment ago
            return json.dumps(service.status(sid))

        def api_status(request: gr.Request = None) -> str:
            """This client's step, status, latest metrics, knobs and quality, as JSON. Also renews its lease."""
            return json.dumps(service.status(session_id(request)))

        def api_set_knobs(changes: str = "{}", request: gr.Request = None) -> str:
            """Change live settings while the run trains or is paused; returns the settings now, or the reason none
            changed.

            Args:
                changes: a flat JSON object as text, such as {"lr_g": 0.001, "loss": "hinge", "batch_size": 128};
                    names: lr_g, lr_d, d_steps, loss, batch_size, label_smoothing, r1_weight, ema_decay,
                    lr_decay_steps, and a family's own knobs (pix2pix: lambda_l1).
            """
            parsed = parse_json_object(changes)
            if isinstance(parsed, str):
                return json.dumps({"ok": False, "error": parsed})
            return json.dumps(service.set_knobs(session_id(request), parsed))

        def api_step(kind: str = "both", n: int = 1, request: gr.Request = None) -> str:
            """Take n steps of a kind while paused. Returns the status JSON once they are done: the step after them
            (or after a few seconds for long requests).

            Args:
                kind: "both" (D's update(s) then G's), "d" (one D update, G unchanged) or "g" (one G update, D
                    unchanged).
                n: how many steps, a whole number from 1 to 100,000.
            """
            sid = session_id(request)
            message = service.step(sid, kind, n)
            if message.ok:
                service.wait_idle(sid, 5.0)
            return json.dumps({**service.status(sid), "ok": message.ok, "message": message})

        def api_leave(request: gr.Request = None) -> str:
            """End this client's visit now: its trainer is stopped and freed, its files deleted (otherwise that
            happens GAN_IDLE_SECONDS after its last call; its run pauses after GAN_LEASE_SECONDS)."""
            return json.dumps({"ok": playground.registry.drop(session_id(request))})

        def api_server_stats() -> str:
            """Counts only (no visitor's data): sessions, trainers, running trainers, the cap, threads."""
            import threading
            return json.dumps({**playground.registry.stats(), "threads": threading.active_count()})

        for fn, name in ((api_start, "start"), (api_pause, "pause"), (api_status, "status"),
                         (api_set_knobs, "set_knobs"), (api_step, "step"), (api_leave, "leave"),
                         (api_server_stats, "server_stats")):
            gr.api(fn, api_name=name, concurrency_limit=8, concurrency_id="api")
        add_branch_api(service)   # /branch: fork, compare, keep, discard (playground/branch_api.py)

        # A closed tab is freed by the page's pagehide beacon (playground/leave.py, installed by launch_kwargs), not by
        # demo.unload: an unload event holds one connection open per tab, and the seventh tab of a browser hung.
        demo.load(*explore["render"]).then(*explore["interp"])
        demo.load(*train["open"], show_progress="hidden")   # a page opened from a link (playground/experiment_url.py)

        def pause_follow(selected: gr.SelectData):
            """Leaving the Translate tab stops its output following training (it resumes with the next drawing)."""
            return gr.skip() if selected.value == "Translate" else gr.Timer(active=False)
        tabs.select(pause_follow, None, translate["timer"], queue=False, show_progress="hidden")
    hide_ui_events(demo)
    describe_api(demo, PUBLIC_API)
    demo.config = demo.get_config_file()   # the labels and descriptions in the config the API page reads now
    return demo


MAX_JSON_DEPTH = 20


def parse_json_object(text) -> dict | str:
    """The API's JSON-object argument parsed, or one sentence saying why it is unusable (not text, not JSON, not an
    object, nested too deep: the knobs are flat)."""
    if text is None or text == "":
        return {}
    if not isinstance(text, str):
        return "changes must be a JSON object written as text, such as '{\"lr_g\": 0.001}'"
    if text.count("[") + text.count("{") > 10 * MAX_JSON_DEPTH:   # cheap guard before the recursive parser
        return "changes must be a flat JSON object of settings"
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError) as err:
        return f"bad JSON: {str(err)[:120]}"
    if not isinstance(parsed, dict):
        return "changes must be a JSON object, such as '{\"lr_g\": 0.001}'"
    if any(isinstance(v, (dict, list)) for v in parsed.values()):
        return "changes must be a flat JSON object of settings"
    return parsed


PUBLIC_API = {"start", "pause", "status", "set_knobs", "step", "leave", "generate", "translate", "server_stats", "branch"}


def hide_ui_events(demo: gr.Blocks) -> None:
    """Only the documented API is callable by clients; the page's own events stay usable by the page.
    (Gradio exposes every event as an endpoint by default; "private" keeps it out of the API and the client.)"""
    for fn in demo.fns.values():
        if fn.api_name not in PUBLIC_API:
            fn.api_visibility = "private"


def launch_kwargs(playground: Playground) -> dict:
    """Arguments for demo.launch() that the app needs wherever it runs (`python app.py`, tests, a Space).

    Also installs the server-side guards, since every launch goes through here: atomic writes of Gradio's output cache
    (playground/cache_writes.py), and, on the FastAPI app Gradio builds at launch (`app_kwargs` reaches its
    constructor, so this works with prevent_thread_lock too), a request body cap (http_limits.py), per-visitor caps
    on queued and running events (queue_fairness.py) and the tab-close beacon route (leave.py)."""
    from pathlib import Path

    from starlette.middleware import Middleware

    from playground import cache_writes
    from playground.http_limits import BodyLimit
    from playground.leave import HEAD_JS, leave_route
    from playground.page_style import PAGE_CSS, PAGE_HEAD
    from playground.queue_fairness import QueueFairness

    cache_writes.install()
    save_dir = Path(playground.settings.save_dir).resolve()
    save_dir.mkdir(parents=True, exist_ok=True)
    app_kwargs = {"middleware": [Middleware(BodyLimit), Middleware(QueueFairness)],
                  "routes": [leave_route(playground.registry.drop)]}
    return {"head": plotly_head() + HEAD_JS + PAGE_HEAD, "css": CSS + PAGE_CSS, "allowed_paths": [str(PLOTLY_JS.parent), str(save_dir)],
            "max_file_size": f"{playground.settings.max_upload_mb}mb", "show_error": False, "ssr_mode": False,
            "state_session_capacity": 2000, "run_history": False, "theme": gr.themes.Soft(primary_hue="purple"),
            "app_kwargs": app_kwargs}
