"""The visitor's run as files: continue a checkpoint they upload (read with weights_only=True and checked tensor by
tensor), save theirs (atomically, with a random token in its name), export the timeline as a GIF. A mixin of
TrainService (it uses ``self.registry``, ``self.settings``, ``self.saves`` and the service's run helpers).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

from ganengine.checkpoint import remove_stale_temp_files
from ganengine.config import ConfigError
from ganengine.data.images import DataUnavailable
from ganengine.render import gif_bytes
from playground.draw_service import checkpoint_data
from playground.form_values import os_reason, public_text
from playground.replies import done, refused
from playground.session_state import spend
from playground.visitor_files import replace_export


class RunFiles:
    def load_checkpoint(self, sid: str, upload_path: str) -> tuple[Optional[dict], str]:
        """Continue a saved run (a .pt this app or the CLI wrote) in the visitor's trainer, paused at its step, with
        its settings. Returns (the setup now, for the form; or None) and a message. The file is read with
        weights_only=True and checked tensor by tensor (ganengine.checkpoint); the run's data comes from this
        server (the file's paths are not used), so a run on data uploaded elsewhere is refused."""
        from ganengine.checkpoint import CheckpointError, read_checkpoint
        if not upload_path:
            return None, refused("Choose a .pt checkpoint first.")
        try:
            ckpt = read_checkpoint(upload_path, max_bytes=self.settings.max_upload_bytes)
        except CheckpointError as err:
            return None, refused(f"⚠ {public_text(err)}")
        except OSError as err:
            return None, refused(f"⚠ the upload could not be read ({os_reason(err)})")
        config, knobs = ckpt["_config"], ckpt["_knobs"]
        config, problem = checkpoint_data(ckpt, config, self.registry.session(sid))  # own points come with it
        if problem:
            return None, problem
        config = config.with_changes(data_root=self.settings.data_root, download=self.settings.allow_downloads,
                                     device="auto")
        ckpt = {**ckpt, "_config": config}
        s = self.registry.session(sid)
        with s.lock:
            s.setup = (config, knobs)
            s.explore.pop("live_source", None)
        trainer, problem = self._trainer(sid)
        if problem:
            return None, problem
        with s.lock:
            before = trainer.snapshot()
            try:
                trainer.load_checkpoint(ckpt)
            except (ConfigError, DataUnavailable) as err:
                return None, refused(f"⚠ {public_text(err)}")
            except OSError as err:
                return None, refused(f"⚠ could not read the data ({os_reason(err)})")
            closed = self._close_branch(s)           # a file that did not load left everything as it was
            spend(s, before)
            loaded = trainer.snapshot()
            self._apply_budget(s, trainer, paid_from=(loaded.step, loaded.train_seconds))  # the file's steps: free
            s.sent.clear()
            if closed:
                self._tell_branch_closed(s)
        snap = trainer.snapshot()
        return {**snap.config.to_dict(), **snap.knobs.to_dict()}, \
            done(f"Loaded: {snap.spec.title}, step {snap.step:,}, paused. Press **Start** to continue training it.")

    def export_gif(self, sid: str) -> tuple[Optional[str], str]:
        s = self.registry.session(sid)
        trainer = s.live_trainer
        if trainer is None or not trainer.snapshot().timeline_frames:
            return None, "No frames to export yet."
        snap = trainer.snapshot()
        name = f"gan-{snap.config.data}-{snap.config.model}-{snap.step}.gif"
        path = replace_export(s, "gif", name, gif_bytes(list(snap.timeline_frames), duration_ms=180))
        return str(path), f"GIF of {len(snap.timeline_frames)} frames (steps {snap.timeline_steps[0]}–{snap.timeline_steps[-1]})."

    def checkpoint_file(self, sid: str) -> tuple[Optional[str], str]:
        """Save the visitor's run to the save folder (atomically; kept across restarts) and offer it for download.
        The file name carries a random token, so one visitor cannot guess another's."""
        import secrets

        from ganengine.checkpoint import checkpoint_bytes, write_atomic
        s = self.registry.session(sid)
        trainer = s.live_trainer
        if trainer is None:
            return None, "Nothing to save yet."
        too_soon = self.saves.check_can_save(s, time.monotonic())
        if too_soon:
            return None, too_soon
        with trainer.with_run() as run:
            data = checkpoint_bytes(run)
            name = f"gan-{run.config.data}-{run.config.model}-step{run.step}-{secrets.token_hex(8)}.pt"
        path = write_atomic(Path(self.settings.save_dir) / name, data)
        self.saves.record(s, path, time.monotonic())
        remove_stale_temp_files(self.settings.save_dir)
        size_mb = len(data) / 2**20
        if len(data) > self.settings.max_upload_bytes:
            return str(path.resolve()), (f"Checkpoint saved ({size_mb:.1f} MiB): download it. It is over this "
                                         f"server's {self.settings.max_upload_mb} MiB upload limit, so load it with "
                                         f"the CLI (up to 200 MiB) or a server with a larger GAN_MAX_UPLOAD_MB.")
        return str(path.resolve()), (f"Checkpoint saved ({size_mb:.1f} MiB): download it, and load it in "
                                     f"the Explore tab or the CLI.")
