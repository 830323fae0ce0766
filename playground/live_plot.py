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
let last = null, lastWidth = 0;
// The page's text colour (light or dark theme: ?__theme=dark) for every label; transparent backgrounds come from
// the figure. A legend too wide for one row goes under the plot (growing upward it covered the title), and on a
// phone the mode bar is hidden (it sat over the title): the figure JSON stays the same for every visitor.
function fitted(fig) {
  const text = getComputedStyle(element).color || '#333';
  const layout = Object.assign({}, fig.layout);
  layout.font = Object.assign({}, layout.font, {color: text});
  layout.modebar = {bgcolor: 'rgba(0,0,0,0)', color: text, activecolor: text};
  const width = div.clientWidth || 600;
  const shown = (fig.data || []).filter(t => t.showlegend !== false && t.name && t.type !== 'heatmap');
  const room = width - ((layout.margin || {}).l || 50) - ((layout.margin || {}).r || 20);
  const need = shown.reduce((sum, t) => sum + 6.5 * String(t.name).length + 42, 0);
  if (layout.legend && shown.length && need > room) {
    const rows = Math.min(Math.ceil(need / Math.max(room, 100)), 6);
    layout.margin = Object.assign({}, layout.margin, {t: 34, b: 66 + 20 * rows});
    layout.height = (layout.height || 260) + 20 * rows;
    // its top 58 px under the plot area, below the tick labels and the x axis' title (at -0.26 of the plot's
    // height it sat on the title "step" of a short plot)
    const plot = layout.height - layout.margin.t - layout.margin.b;
    layout.legend = Object.assign({}, layout.legend, {y: -58 / Math.max(plot, 60), yanchor: 'top'});
    div.style.minHeight = layout.height + 'px';
  }
  wrapNotes(layout, width);
  return wrapTitle(layout, width);
}
// A centred message on an empty plot ("Digit data only ...") wraps too: it was cut at both edges on a phone.
function wrapNotes(layout, width) {
  layout.annotations = (layout.annotations || []).map(a => {
    if (a.xref !== 'paper' || a.x !== 0.5 || a.textangle || !a.text || a.text.includes('<br>')) return a;
    const perLine = Math.max(12, Math.floor((width - 24) / (0.6 * ((a.font || {}).size || 12))));
    return Object.assign({}, a, {text: breakLines(a.text, perLine).join('<br>')});
  });
}
function breakLines(text, perLine) {
  const lines = [];
  for (const word of text.split(' ')) {
    const line = lines.length ? lines[lines.length - 1] + ' ' + word : word;
    if (lines.length && line.length <= perLine) lines[lines.length - 1] = line; else lines.push(word);
  }
  return lines;
}
// plotly neither wraps nor shrinks a title: on a phone a long one ran past the right edge (seen in the 390 px
// screenshots). One wider than the plot breaks at spaces into lines of at most `perLine` characters (0.6 em a
// character: DejaVu Sans, the widest fallback font), and the top margin grows by a line for each extra line.
function wrapTitle(layout, width) {
  const title = layout.title || {}, text = title.text;
  if (!text || text.includes('<br>')) return layout;
  const size = (title.font || {}).size || 14;
  const perLine = Math.max(12, Math.floor((width - 16) / (0.6 * size)));
  if (text.length <= perLine) return layout;
  const lines = breakLines(text, perLine);
  const extra = Math.round(1.3 * size) * (lines.length - 1);
  layout.margin = Object.assign({}, layout.margin, {t: ((layout.margin || {}).t || 58) + extra});
  layout.height = (layout.height || 260) + extra;
  // plotly raises a title's first line by the lines added under it (a top-anchored 2-line title was cut at the
  // top in Chromium): lower the anchor by as much
  layout.title = Object.assign({}, title, {text: lines.join('<br>'), y: (title.y || 0.98) - extra / layout.height});
  div.style.minHeight = layout.height + 'px';
  return layout;
}
function draw() {
  if (!props.value || !window.Plotly) return;
  try { last = JSON.parse(props.value); } catch (e) { return; }
  redraw();
}
function redraw() {
  if (!last) return;
  lastWidth = div.clientWidth;
  const narrow = (lastWidth || 600) < 560;
  const config = {displaylogo: false, responsive: true, displayModeBar: narrow ? false : 'hover',
                  modeBarButtonsToRemove: ['lasso2d', 'select2d', 'zoomIn2d', 'zoomOut2d', 'autoScale2d']};
  Plotly.react(div, last.data, fitted(last), config);
}
watch('value', draw);
let resizing = null;
new ResizeObserver(() => {              // a legend's place depends on the width: lay out again after a resize
  clearTimeout(resizing);
  resizing = setTimeout(() => { if (Math.abs(div.clientWidth - lastWidth) > 8) redraw(); }, 150);
}).observe(div);
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
