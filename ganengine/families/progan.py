"""The progressive GAN family (Karras, Aila, Laine & Lehtinen 2018, "Progressive Growing of GANs for Improved
Quality, Stability, and Variation"; tkarras/progressive_growing_of_gans train.py, config.py). G and D start at
4 x 4 px and grow 4 -> 8 -> 16 -> 32 px, each new level faded in; nets: ganengine.models.progan (pixel norm,
minibatch standard deviation, equalised learning rate); data: ganengine.data.faces (mnist32, faces).

The schedule (growth below) is a pure function of the step, so rewind, rollback and resume land on the same stage:
with P = RunConfig.phase_steps, steps [0, P) train 4 px; then each level k = 1, 2, 3 fades in for P steps (alpha
rises linearly 0 -> 1: the paper's "lod_transition_kimg") and trains stable for P steps ("lod_training_kimg"); 32 px
is reached, fully, at step 6P and trains on. Every step sets the stage on G, D and G's EMA copy before it trains.

The objective is the paper's (section A.1): WGAN-GP (the loss knob's wgan-gp, gp_weight 10) with n_critic = 1,
plus the drift term that keeps D's scores near 0:
  L_D = E D(G(z)) - E D(x) + lambda E (||grad D(x_hat)|| - 1)^2 + epsilon_drift E D(x)^2     (epsilon_drift 0.001)
  L_G = -E D(G(z))
where x is the real batch at the current side, blended as G's output is while a level fades in: x = lerp(up(pool(x)),
x, alpha) (the reference code's process_reals), so D never sees sharper reals than G can draw. Any other loss knob
works through run.adversarial as in every family; the drift term is added for every loss.
One iteration ("both") is d_steps D updates then one G update on the last D update's fakes (as the gan family);
"d" and "g" are one update alone. Scalars: loss/D, loss/G, D(x), D(G(z))/before, D(G(z))/after (sigmoid of the
scores, as for every family: not probabilities for WGAN), grad/G, grad/D, and grow/resolution (the side being
trained, px) and grow/alpha (the newest level's weight, 1 when stable).
Views: "grid" (64 fixed-z samples at the current level, labelled with it: the timeline frame) and "levels" (the
same 8 z at every level side by side). The levels view keeps, for each finished level, the fixed z's images drawn by
the sampling G when the next fade began: this family's extra state, restored by rewind and checkpoints.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ganengine.config import PROGRESSIVE_DATA, ConfigError, _check_choice
from ganengine.families.base import Family, eval_mode, frozen_copy
from ganengine.models.progan import FINAL, LEVELS, level_widths, side
from ganengine.seeds import FIXED_NOISE, REFERENCE, stream

N_GRID = 64         # fixed-z samples in the grid view
N_LEVELS_VIEW = 8   # fixed z's (the grid's first) in the levels view


def growth(step: int, phase_steps: int) -> tuple[int, float]:
    """(level, alpha) at a step: level 0 (4 px) for the first phase, then a fade-in and a stable phase per level;
    alpha = (step - fade start) / phase_steps while fading, 1 otherwise (module docstring)."""
    t = step // phase_steps
    if t >= 2 * (LEVELS - 1):
        return LEVELS - 1, 1.0
    if t % 2 == 0:
        return t // 2, 1.0
    return (t + 1) // 2, (step - t * phase_steps) / phase_steps


def fade_start(level: int, phase_steps: int) -> int:
    """The step at which a level (1..3) begins to fade in; it is stable from fade_start + phase_steps."""
    return (2 * level - 1) * phase_steps


def stage_text(level: int, alpha: float) -> str:
    return f"{side(level)} px" + (f", fading in (alpha {alpha:.2f})" if alpha < 1 else "")


class ProGANFamily(Family):
    name = "progan"
    phases = ("both", "d", "g")
    scalars = ("loss/D", "loss/G", "D(x)", "D(G(z))/before", "D(G(z))/after", "grad/G", "grad/D", "grow/resolution",
               "grow/alpha")
    guarded = {"loss/D": "D(x)", "loss/G": "D(G(z))/after"}
    views = ("grid", "levels")
    stage_notes = {  # slow motion's words for this family (Family.stage_notes)
        "D/sample": "ProGAN trains at the current size; while a new level fades in, it is mixed in with weight "
                    "alpha (Karras et al. 2018).",
        "D/loss": "ProGAN adds a tiny drift term, epsilon * E D(x)^2, that keeps D's scores near 0.",
    }
    verbs = ("sample",)
    datasets = PROGRESSIVE_DATA
    dataset_labels = (("MNIST digits padded to 32 px (progressive GAN: grows 4 → 32 px)", "mnist32"),
                      ("Faces, 32 px: CelebA when on disk, else drawn in code (progressive GAN)", "faces"))
    KNOBS = {
        # drift: epsilon_drift of the extra critic term epsilon * E D(x)^2, which keeps D's scores from drifting
        # far from 0 (Karras et al. 2018, appendix A.1: "epsilon_drift = 0.001"; train.py's D_wgangp_acgan).
        "drift": ("drift penalty epsilon", 0, 1, 0.001),
    }

    def __init__(self, run):
        super().__init__(run)
        g = torch.Generator().manual_seed(stream(run.config.seed, FIXED_NOISE))
        self.fixed_z = torch.randn(N_GRID, run.config.latent_dim, generator=g).to(run.device)   # (64, latent)
        self.level_images: dict = {}      # finished level -> (8, C, r, r) images of the first 8 fixed z
        self._fake_for_g = None
        self._reference = None            # (real images, SWD floor) for the quality job, made on first use
        self._set_growth(*growth(run.step, run.config.phase_steps))

    # ---- built without a run ------------------------------------------------------------------------------------
    @staticmethod
    def check_config(config) -> None:
        _check_choice("data", config.data, PROGRESSIVE_DATA)
        if config.image_size not in (0, FINAL):
            raise ConfigError(f"the progressive GAN grows to {FINAL} px; image size must be 0 or {FINAL}")

    @staticmethod
    def model_choices(data: str) -> list:
        return [("Progressive GAN: grows 4 → 8 → 16 → 32 px", "progan")]

    @staticmethod
    def describe(config) -> str:
        w = level_widths(config.width)
        return (f"progressive G and D growing 4 -> 32 px (channels {'/'.join(map(str, w))}), "
                f"{config.phase_steps} steps per fade-in and per stable phase")

    @staticmethod
    def build_source(config, device):
        from ganengine.data.faces import build_progressive_source
        return build_progressive_source(config, device)

    @staticmethod
    def build_nets(config, spec) -> dict:
        from ganengine.models.progan import ProCritic, ProGenerator
        c = spec.shape[0]
        return {"G": ProGenerator(latent_dim=config.latent_dim, channels=c, width=config.width),
                "D": ProCritic(channels=c, width=config.width)}

    @staticmethod
    def guess_spec(config):
        from ganengine.data.spec import DataSpec
        c = 1 if config.data == "mnist32" else 3
        return DataSpec(name=config.data, title=config.data, kind="image", shape=(c, FINAL, FINAL), num_classes=0)

    @staticmethod
    def cost_forwards(nets: dict, config, spec, batch: int):
        """G and D at the final level (32 px), the stage that costs most and where a run spends most of its time."""
        G, D = nets["G"], nets["D"]
        z = torch.empty(batch, config.latent_dim)                                          # (B, latent)
        return (lambda: G.at_level(z, LEVELS - 1, 1.0)), (lambda fake: D.score(fake, LEVELS - 1, 1.0))

    @staticmethod
    def check_extra_state(extra: dict, config, spec) -> None:
        """ValueError unless the extra state is the levels view's images: finished levels 0..2, each a finite
        float32 (8, C, r, r) at its side."""
        if set(extra) - {"level_images"}:
            raise ValueError(f"unexpected entries {sorted(map(str, extra))[:3]}")
        images = extra.get("level_images", {})
        if not isinstance(images, dict) or set(images) - {str(k) for k in range(LEVELS - 1)}:
            raise ValueError("the levels view's images are not of levels 0 to 2")
        for k, t in images.items():
            r = side(int(k))
            if not isinstance(t, torch.Tensor) or t.dtype != torch.float32 or \
                    tuple(t.shape) != (N_LEVELS_VIEW, spec.shape[0], r, r) or not torch.isfinite(t).all():
                raise ValueError(f"the level {k} images must be finite float32 ({N_LEVELS_VIEW}, {spec.shape[0]}, "
                                 f"{r}, {r})")

    @staticmethod
    def sample_note(ckpt: dict) -> str:
        """What `sample` says on stderr when the checkpoint's G has not reached 32 px yet."""
        state = ckpt["state"]
        weights = (state.get("ema") or {}).get("G") or state["nets"]["G"]
        level, alpha = int(weights["level"]), float(weights["alpha"])
        if level == LEVELS - 1 and alpha >= 1:
            return ""
        return (f"note: this checkpoint has not reached {FINAL} px yet (it is at {stage_text(level, alpha)}, step "
                f"{int(ckpt['step'])}); the samples are its {side(level)} px images scaled up to {FINAL} px")

    # ---- the stage ----------------------------------------------------------------------------------------------
    def _set_growth(self, level: int, alpha: float) -> None:
        self.level, self.alpha = level, alpha
        for net in (self.run.nets["G"], self.run.nets["D"], self.run.ema.get("G")):
            if net is not None:
                net.set_growth(level, alpha)

    def _enter_step(self) -> None:
        """Set the stage of this step; at a phase boundary mark the curves and keep the finished level's view."""
        run, P = self.run, self.run.config.phase_steps
        level, alpha = growth(run.step, P)
        self._set_growth(level, alpha)
        for k in range(level):                                     # levels below the current one are finished
            if str(k) not in self.level_images:
                self.level_images[str(k)] = self._draw_level(run.sampler(), k)
        if 0 < run.step <= fade_start(LEVELS - 1, P) + P and run.step % P == 0:
            text = f"{side(level)} px fades in over {P} steps" if alpha < 1 else f"{side(level)} px stable"
            if not any(e.step == run.step and e.kind == "grow" for e in run.events):   # not twice after a rewind
                run.add_event("grow", text)

    @torch.no_grad()
    def _draw_level(self, G, level: int) -> torch.Tensor:
        with eval_mode(G):
            return G.at_level(self.fixed_z[:N_LEVELS_VIEW], level, 1.0).float().cpu()   # (8, C, r, r)

    def _real_at(self, x: torch.Tensor) -> torch.Tensor:
        """Real images (B, C, 32, 32) at the current side, blended as G's output while a level fades in."""
        r = side(self.level)
        if r < FINAL:
            x = F.avg_pool2d(x, FINAL // r)                        # (B, C, r, r): box-filtered down
        if self.alpha < 1:
            low = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")   # the previous level's view
            x = torch.lerp(low, x, self.alpha)
        return x

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.run.config.latent_dim, device=self.run.device, generator=self.run.noise_gen)

    # ---- training ---------------------------------------------------------------------------------------------
    def train_step(self, kind: str) -> dict:
        self._enter_step()
        out = super().train_step(kind)
        out["grow/resolution"] = torch.full((), float(side(self.level)), device=self.run.device)  # a fill, no copy
        out["grow/alpha"] = torch.full((), float(self.alpha), device=self.run.device)
        return out

    def _d_update(self, out: dict, keep_fake: bool) -> None:
        run, k = self.run, self.run.knobs
        G, D = run.nets["G"], run.nets["D"]
        real = self._real_at(run.source.sample(k.batch_size)[0])   # x ~ p_data at the current side: (B, C, r, r)
        with torch.set_grad_enabled(keep_fake):
            fake = G.at_level(self.noise(len(real)))               # G(z) at the current side (faded in)
        self._fake_for_g = fake if keep_fake else None
        loss, l_r, l_f = run.adversarial.d_loss(D, real, fake.detach(), k, run.noise_gen)  # D's update not G's
        loss = loss + k.get("drift") * l_r.pow(2).mean()           # + epsilon_drift E D(x)^2 (appendix A.1)
        out["grad/D"] = run.update("D", loss)                      # descend L_D in D's weights
        l_r, l_f = l_r.detach(), l_f.detach()
        run.adversarial.record(l_r, l_f)
        out["loss/D"], out["D(x)"], out["D(G(z))/before"] = loss.detach(), torch.sigmoid(l_r).mean(), \
            torch.sigmoid(l_f).mean()

    def _g_update(self, out: dict) -> None:
        run, k = self.run, self.run.knobs
        fake = self._fake_for_g                                    # this iteration's last D update's fakes
        self._fake_for_g = None
        if fake is None:                                           # a G-only step: fresh noise
            fake = run.nets["G"].at_level(self.noise(k.batch_size))
        with run.frozen("D"):                                      # G's loss needs no gradient for D's weights
            l_f = run.nets["D"](fake)                              # D has moved since it scored these fakes
            loss = run.adversarial.g_loss(l_f, k)                  # -E D(G(z)) for wgan-gp
        out["grad/G"] = run.update("G", loss)                      # descend L_G in G's weights (then EMA)
        out["loss/G"], out["D(G(z))/after"] = loss.detach(), torch.sigmoid(l_f.detach()).mean()

    def forget_transient(self) -> None:
        """After a restore (its step is set by now): drop the kept fakes, and set the stage of the step."""
        self._fake_for_g = None
        self._set_growth(*growth(self.run.step, self.run.config.phase_steps))

    def extra_state(self) -> dict:
        return {"level_images": dict(self.level_images)}

    def load_extra_state(self, state: dict) -> None:
        self.level_images = {k: t.float().cpu().clone() for k, t in (state.get("level_images") or {}).items()}

    # ---- views ------------------------------------------------------------------------------------------------
    def render(self) -> dict:
        return self._draw(self.run.sampler(), dict(self.level_images), self.level, self.alpha)

    def render_job(self):
        G, images, level, alpha = frozen_copy(self.run.sampler()), dict(self.level_images), self.level, self.alpha
        return lambda: self._draw(G, images, level, alpha)

    @torch.no_grad()
    def _draw(self, G, images: dict, level: int, alpha: float) -> dict:
        from ganengine.families.progan_views import grid_view, levels_view
        with eval_mode(G):
            now = G.at_level(self.fixed_z, level, alpha).float().cpu()                   # (64, C, r, r)
        return {"grid": grid_view(now, level, alpha), "levels": levels_view(images, now[:N_LEVELS_VIEW], level, alpha)}

    def caption(self, view: str) -> str:
        P = self.run.config.phase_steps
        if view == "levels":
            return (f"The same 8 z at every level, side by side (4, 8, 16, 32 px). A finished level shows what G drew "
                    f"when it was the top level (kept when the next fade began); the current one is live; grey: not "
                    f"grown yet. A new level fades in over {P} steps: its image is mixed in with weight alpha rising "
                    f"from 0 to 1 while the old level's image, scaled up, fades out, and D sees the real images "
                    f"blended the same way; then it trains alone for {P} steps. Runs often break at a fade: the new "
                    f"layers start from random weights and D suddenly sees finer detail than G can draw, so D can win "
                    f"fast and G's samples smear or collapse; a longer fade, a lower learning rate or G's EMA help")
        return (f"G's samples from one fixed noise batch, at the level being trained ({stage_text(self.level, self.alpha)}), "
                f"shown at 32 px: the label on top says the level; scrub the timeline to watch the resolution grow")

    # ---- metrics -----------------------------------------------------------------------------------------------
    @staticmethod
    def _real_reference(source, seed: int):
        """(2 x N_SWD real images in [-1, 1] on the CPU, their SWD floor), drawn with the REFERENCE stream."""
        from ganengine.metrics.progan import N_SWD, swd_floor
        real = source.real_sample(2 * N_SWD, seed=stream(seed, REFERENCE))[0].float().cpu()
        return real, swd_floor(real)

    def quality_job(self, n: int):
        """ganengine.metrics.progan's report (FD at 32 px for digits, SWD) of a frozen copy of the sampler."""
        G, config, source = frozen_copy(self.run.sampler()).cpu(), self.run.config, self.run.source

        def job():
            from ganengine.metrics.progan import progan_report
            if self._reference is None:
                self._reference = ProGANFamily._real_reference(source, 0)
            real, floor = self._reference
            return progan_report(G, data=config.data, latent_dim=config.latent_dim, real=real, floor=floor, n=n)
        return job

    @staticmethod
    def evaluate(ckpt: dict, *, n: int, seed: int) -> dict:
        """`eval`: the quality job's report of a checkpoint's G (EMA when saved)."""
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.metrics.progan import progan_report
        if not 100 <= n <= 100_000:
            raise ConfigError("--n must be between 100 and 100000")
        G, config, spec = generator_from_checkpoint(ckpt)
        real, floor = ProGANFamily._real_reference(ProGANFamily.build_source(config, torch.device("cpu")), 0)
        return progan_report(G, data=config.data, latent_dim=config.latent_dim, real=real, floor=floor, n=n,
                             seed=seed)
