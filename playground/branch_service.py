"""Branch and compare (issue 15): fork the visitor's run at a timeline frame into a second run with one knob changed,
train both, compare them, then keep the branch (it becomes the run) or discard it. Plain methods keyed by a session
id, no Gradio (the panel's wiring: playground/branch_compare.py); every refusal is one sentence, never a traceback.

How it counts (playground/sessions.py): a visitor may hold two runs, their run and one branch (MAX_BRANCHES). Each of
them takes one of the server's ``max_trainers`` training slots while it trains, exactly as another visitor's run
would, and none while paused; a fork is refused when every slot is in use. The page's training budget (public
hosts: GAN_RUN_STEPS / GAN_RUN_SECONDS) spans both: the branch gets what is left of it at the fork, and the training
of whichever run is dropped (discarded, or replaced by "keep branch") is counted as spent.
"""
from __future__ import annotations

from typing import Optional

from ganengine.branch import branch_knobs, build_branch, take_fork_point
from ganengine.config import ConfigError, Knobs
from ganengine.data.images import DataUnavailable
from ganengine.families import family_class
from ganengine.trainer import Trainer
from playground.branch_figures import loss_overlay_figure, quality_html, samples_html, settings_html
from playground.figures import empty_figure
from playground.form_values import NOT_WHOLE, os_reason, public_text, typed_like, whole_number
from playground.live_plot import figure_json
from playground.live_tick import fresh_axes, quality_figures
from playground.replies import Reply, done, refused
from playground.session_branches import at_fork
from playground.sessions import NoSlot, SessionGone, spend
from playground.train_service import GONE, KNOB_LABELS, LIVE_KNOBS, QUALITY_EVERY, TrainService

NO_RUN = "Start a run first: a branch forks from one of its timeline frames."
NO_BRANCH = "No branch yet: pick a frame on the timeline, choose a knob and a value, then Fork."
INT_KNOBS = {name for name in Knobs.__dataclass_fields__ if Knobs.__dataclass_fields__[name].type in ("int", int)}


def parse_value(knobs: Knobs, name: str, text) -> object:
    """A knob's new value as the visitor typed it ("0.001", "hinge", "3"), in the knob's own type (the knobs' own
    checks then judge it). ConfigError in one sentence when it is not a number where one is needed."""
    current = knobs.get(name)
    raw = str(text if text is not None else "").strip()
    if not raw:
        raise ConfigError(f"type a new value for {KNOB_LABELS.get(name, name)} (it is {current} now)")
    try:
        return typed_like(raw, current, whole=name in INT_KNOBS)
    except ValueError as err:
        what = "a whole number" if str(err) == NOT_WHOLE else f"a number, such as {current}"
        raise ConfigError(f"{KNOB_LABELS.get(name, name)} takes {what}; got {raw[:20]!r}") from None


class BranchService:
    def __init__(self, train: TrainService):
        self.train, self.registry = train, train.registry

    # ---- what the page offers ----------------------------------------------------------------------------------
    def knob_choices(self, sid: str) -> list[tuple[str, str]]:
        """(label, name) of the knobs a branch may change: the live ones, and the visitor's family's own."""
        config, _ = self.train._current(sid)
        own = [(label, name) for name, (label, *_rest) in family_class(config.family).KNOBS.items()]
        return [(KNOB_LABELS[k], k) for k in LIVE_KNOBS] + own

    def slots_text(self, sid: str) -> str:
        """How the slots count, with this page's and the server's numbers now."""
        c = self.registry.slot_counts(sid)
        mine = "a run and a branch" if c["mine"] >= 2 else "one run" if c["mine"] == 1 else "no run yet"
        return (f"A branch uses one of your {c['per_visitor']} training slots (your run and one branch); this page "
                f"has {mine}, {c['mine_working']} training now. Server: {c['working']} of {c['max_trainers']} "
                f"training slots in use (every run or branch that trains takes one; a paused one takes none).")

    # ---- commands ----------------------------------------------------------------------------------------------
    def fork(self, sid: str, index, knob: str, value) -> Reply:
        """Fork the visitor's run at the timeline frame ``index`` (the latest restore point at or before it), with
        ``knob`` set to ``value`` in the branch; the branch starts training at once if a slot is free."""
        s = self.registry.session(sid)
        with s.lock:                                   # the run is not replaced while it is forked
            return self._fork(s, sid, index, knob, value)

    def _fork(self, s, sid: str, index, knob: str, value) -> Reply:
        s.sent.pop("branch_note", None)
        main = s.live_trainer
        if main is None or not main.snapshot().timeline_steps:
            return refused(NO_RUN)
        steps = main.snapshot().timeline_steps
        i = whole_number(index, -2**62, 2**62)
        if i is None:
            return refused("⚠ pick a frame on the timeline first")
        asked = steps[min(max(int(i), 0), len(steps) - 1)]
        choices = {name for _, name in self.knob_choices(sid)}
        if knob not in choices:
            return refused(f"⚠ choose the knob to change in the branch ({str(knob)[:40]!r} is not a live setting)")
        if s.branch is not None:
            return refused("⚠ This page has a branch already (your 2 runs: the run and one branch). Keep it or "
                           "discard it first.")
        budget = self.train._budget_message(s)
        if budget:
            return budget
        left = self.train.budget_left_now(s, main)       # the branch shares what the page has left now
        if left is None:
            return self.train._budget_message(s, used_up=True)
        try:
            fork = take_fork_point(main, asked)
            changes = {knob: parse_value(fork.knobs, knob, value)}
            knobs = branch_knobs(fork, changes)
        except ValueError as err:
            if isinstance(err, ConfigError):
                return refused(f"⚠ {public_text(err)}")
            return refused("⚠ that frame is older than the oldest restore point kept for this run; pick a later one")
        except TypeError as err:
            return refused(f"⚠ {public_text(err)}")

        def make() -> Trainer:
            trainer = Trainer(config=fork.config, knobs=knobs, quality_every=QUALITY_EVERY,
                              **self.train._trainer_limits())     # the cost cap judges the branch's knobs here
            trainer.adopt_run(build_branch(fork, changes), fork.quality)
            return trainer
        info = {"step": fork.step, "asked": asked, "changes": changes, "seconds": fork.train_seconds,
                "parent": (id(main), main.snapshot().run_number)}
        try:
            branch = self.registry.build_branch(sid, make, info)
        except NoSlot as err:
            return refused(f"◷ {err} {self.slots_text(sid)}")
        except SessionGone:
            return refused(GONE)
        except (ConfigError, DataUnavailable) as err:
            return refused(f"⚠ {public_text(err)}")
        except OSError as err:
            return refused(f"⚠ could not read the data ({os_reason(err)})")
        branch.set_limits(max_steps=fork.step + left[0] if left[0] else 0,
                          max_seconds=fork.train_seconds + left[1] if left[1] else 0.0)
        if s.pace:
            branch.set_pace(s.pace)                    # the page's Speed: both runs at the same watchable pace
        where = f"step {fork.step:,}" if fork.step == asked else \
            f"step {fork.step:,} (the nearest restore point at or before the frame at step {asked:,})"
        label = KNOB_LABELS.get(knob, knob)
        change = f"{label} {fork.knobs.get(knob)} → {knobs.get(knob)}" if knobs != fork.knobs else \
            "no setting changed: it replays the main run exactly"
        try:
            self.registry.claim_branch(sid, lambda t: t.start())
        except NoSlot:
            return done(f"Branch forked at {where} ({change}), paused: every training slot is in use. Press "
                        f"**Start branch** when one is free.")
        except SessionGone:
            return refused(GONE)
        return done(f"Branch forked at {where} ({change}) and training. Compare both below.")

    def start(self, sid: str) -> Reply:
        """Train the branch continuously (a slot of its own)."""
        if self._branch(sid) is None:
            return refused(NO_BRANCH)
        budget = self.train._budget_message(self.registry.session(sid))
        if budget:
            return budget
        try:
            self.registry.claim_branch(sid, lambda t: t.start())
        except NoSlot as err:
            return refused(f"◷ {err}")
        except SessionGone:
            return refused(NO_BRANCH)
        return done("Branch training.")

    def start_both(self, sid: str) -> Reply:
        """Train the run and the branch (two slots)."""
        if self._branch(sid) is None:
            return refused(NO_BRANCH)
        main = self.train.start(sid)
        if not main.ok:
            return main
        branch = self.start(sid)
        return branch if not branch.ok else done("Both training: the run and its branch.")

    def pause(self, sid: str) -> Reply:
        branch = self._branch(sid)
        if branch is None:
            return refused(NO_BRANCH)
        branch.pause()
        return done("Branch paused.")

    def pause_both(self, sid: str) -> Reply:
        self.train.pause(sid)
        branch = self._branch(sid)
        if branch is not None:
            branch.pause()
        return done("Both paused." if branch is not None else "Paused (no branch).")

    def discard(self, sid: str) -> Reply:
        """Close the branch; the training it did after the fork counts as spent."""
        with self.registry.session(sid).lock:
            snap = self.registry.close_branch(sid)
        if snap is None:
            return refused(NO_BRANCH)
        return done(f"Branch discarded (it had reached step {snap.step:,}). Your run goes on as it was.")

    def keep(self, sid: str) -> Reply:
        """The branch becomes the visitor's run; the old run is closed (its training after the fork: spent)."""
        s = self.registry.session(sid)
        with s.lock:                                   # not between another command's reads of the run and its use
            return self._keep(s, sid)

    def _keep(self, s, sid: str) -> Reply:
        gone, info = self.registry.take_branch(sid, promote=True)
        if gone is None:
            return refused(NO_BRANCH)
        old = gone.snapshot()
        gone.close()
        spend(s, old, at_fork(info))
        new = s.live_trainer
        if new is not None:
            snap = new.snapshot()
            s.setup = (snap.config, snap.knobs)
            if s.pace:
                new.set_pace(s.pace)                   # the page's Speed applies to the run it keeps
            # its counters carry the old run's training up to the fork (paid from the same point) and its own after
            self.train._apply_budget(s, new, paid_from=(min(s.paid_from_step, int(info.get("step", 0))),
                                                        min(s.paid_from_seconds, float(info.get("seconds", 0.0)))))
        s.explore.pop("live_source", None)
        s.sent.clear()                               # the Train tab redraws everything from the kept branch
        return done(f"Kept the branch: it is now your run (the old run, at step {old.step:,}, was closed). The "
                    f"knobs above show its settings.")

    # ---- reading -----------------------------------------------------------------------------------------------
    def compare(self, sid: str) -> dict:
        """The Compare panel now: "slots" text, and, when they changed since this page's last look, the "losses"
        figure JSON, "samples" HTML, "quality_main" / "quality_branch" figure JSON, "quality" and "settings" HTML
        (absent when unchanged)."""
        s = self.registry.session(sid)
        main, branch = s.live_trainer, self._branch(sid)
        if branch is not None and (main is None or s.branch_info.get("parent") not in
                                   (None, (id(main), main.snapshot().run_number))):
            self.discard(sid)                          # its parent was replaced (new setup, reset, checkpoint)
            main, branch = s.live_trainer, None
            s.sent["branch_note"] = (" **Your branch was closed: the run it forked from was replaced** (a new "
                                     "setup, reset or checkpoint).")     # stays until the page's next action
        out = {"slots": self.slots_text(sid) + s.sent.get("branch_note", "")}
        ms = main.snapshot() if main is not None else None
        bs = branch.snapshot() if branch is not None else None
        info = dict(s.branch_info)
        runs = (None if ms is None else ms.run_number, id(branch))
        seen = (runs, None if bs is None else (ms.visuals_version, bs.visuals_version))
        if s.sent.get("branch_visuals") != seen:       # images only when a run drew new ones
            s.sent["branch_visuals"] = seen
            out["samples"] = samples_html(ms, bs)
        key = (runs, None if bs is None else (ms.version, bs.version))
        if s.sent.get("branch") == key:
            return out
        s.sent["branch"] = key
        fork_step = int(info.get("step", 0))
        tag = f"{id(branch)}-{fork_step}"
        out["losses"] = figure_json(fresh_axes(loss_overlay_figure(ms, bs, fork_step), tag))
        out["settings"] = settings_html(ms, bs, info, KNOB_LABELS)
        out["quality"] = quality_html(ms, bs) if bs is not None else ""
        if ms is not None and bs is not None:
            out["quality_main"] = figure_json(fresh_axes(_titled(quality_figures(ms)[0], "main run"), tag + "m"))
            out["quality_branch"] = figure_json(fresh_axes(_titled(quality_figures(bs)[0], "branch"), tag + "b"))
        else:
            out["quality_main"] = out["quality_branch"] = figure_json(empty_figure("Quality", "No branch."))
        return out

    def _branch(self, sid: str) -> Optional[Trainer]:
        b = self.registry.session(sid).branch
        return b if isinstance(b, Trainer) else None


def _titled(figure_json_text: str, who: str) -> dict:
    import json
    fig = json.loads(figure_json_text)
    title = fig.get("layout", {}).get("title", {})
    if isinstance(title, dict) and "text" in title:
        title["text"] = f"{who}: {title['text']}"
    return fig
