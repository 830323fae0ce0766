"""A live plotly chart that keeps the user's zoom while it refreshes (gr.Plot remounts and loses it: gradio #4465).

It is a gr.HTML whose template is one fixed <div>; its value is a figure as JSON text. ``js_on_load`` draws it with
``Plotly.react`` and redraws on every ``watch('value')``; ``layout.uirevision = "keep"`` makes plotly keep zoom and
hidden traces across redraws. plotly.js comes from the installed plotly package, served by Gradio from its folder
(no CDN: the page works offline).
"""
from __future__ import annotations

import json
from pathlib import Path

import gradio as gr

PLOTLY_JS = Path(__import__("plotly").__file__).resolve().parent / "package_data" / "plotly.min.js"


def plotly_head() -> str:
    """The <script> tag for launch(head=...); its folder must be in launch(allowed_paths=...)."""
    return f'<script src="/gradio_api/file={PLOTLY_JS.as_posix()}"></script>'


_JS = """
const div = element.querySelector('.gp-plot');
const config = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ['lasso2d', 'select2d']};
function draw() {
  if (!props.value || !window.Plotly) return;
  let fig;
  try { fig = JSON.parse(props.value); } catch (e) { return; }
  Plotly.react(div, fig.data, fig.layout, config);
}
watch('value', draw);
(function wait(tries) {
  if (window.Plotly) { draw(); } else if (tries > 0) { setTimeout(() => wait(tries - 1), 100); }
})(100);
"""


def live_plot(*, height: int = 260, elem_id: str | None = None, value: dict | None = None) -> gr.HTML:
    return gr.HTML(value=figure_json(value) if value else "",
                   html_template=f'<div class="gp-plot" style="width:100%;min-height:{height}px"></div>',
                   js_on_load=_JS, elem_id=elem_id, elem_classes=["gp-live-plot"], apply_default_css=False,
                   min_height=height)


def figure_json(figure: dict) -> str:
    return json.dumps(figure, separators=(",", ":"), allow_nan=False)
