"""The page's CSS for small screens, the dark theme and the answers that must be seen (issue 15).

Added to app.CSS by launch_kwargs. Phones (390 px wide): every plot takes the full width, one under another (two
side by side were ~130 px each), and the Explore tab's image stays on screen, above the sliders, while they move (beside them on wider
screens).
(Seen at 390x844: sticky had no effect because Gradio's .gradio-container has overflow: hidden, which makes it the
sticky element's scroll container though it never scrolls; on phones it clips instead (overflow: clip makes no
scroll container), so the image sticks to the top of the window while the sliders below it scroll.) Dark theme (?__theme=dark): the plots take the page's text colour in playground/live_plot.py; here only HTML parts.
A new answer to a command (Step, Rewind, ...) flashes once, so a single step visibly did something.
"""

PAGE_CSS = """
@keyframes gp-flash { from { background: var(--color-accent-soft); } to { background: transparent; } }
#gp-reply p { animation: gp-flash 1.2s ease-out; border-radius: 4px; }
#gp-diagnosis { border-left: 3px solid var(--color-accent); padding-left: 8px; }
#gp-diagnosis p { margin: 0.15em 0; }
.gp-labelled { width: 100%; max-width: 420px; }
.gp-labelled img.gp-pixelated { max-width: 100%; display: block; }
/* a wide, short strip fills its block's width, so Gradio's label badge (top left) covered its first tile */
#gp-class-strip, #gp-path-strip { padding-top: 30px; }
.gp-columns { display: grid; padding: 0 0.5%; font-size: 0.8em; font-weight: 600; text-align: center;
              color: var(--body-text-color); }
@media (max-width: 720px) {
  .gp-live-plot { min-width: 100% !important; flex-basis: 100% !important; }
  #gp-explore-view { order: -1; position: sticky; top: 0; z-index: 100;
                     background: var(--background-fill-primary); padding-bottom: 4px; }
  #gp-explore-view #gp-explore-image { height: 210px !important; }
  #gp-explore-view #gp-class-strip { display: none; }
}
@media (min-width: 721px) {   /* beside the sliders: the column stays in the window while a lower slider moves */
  #gp-explore-view { position: sticky; top: 8px; align-self: flex-start; z-index: 100; }
}
"""

# In <head> (launch(head=...)), not in css=: Gradio prefixes every css= selector with .gradio-container, so a rule
# for .gradio-container itself never matched (measured: its overflow stayed hidden).
# At every width (seen at 1280x720 too: the image was at y = -372 while z[3] moved): clip, not hidden.
PAGE_HEAD = """<style>.gradio-container { overflow: clip !important; }</style>"""
