"""The style-transfer family: ONE generator re-renders a digit in any of K styles, picked by a style code, trained
on unpaired style sets (StarGAN, Choi et al. 2018, "StarGAN: Unified Generative Adversarial Networks for Multi-
Domain Image-to-Image Translation"; yunjey/stargan solver.py). Data: ganengine.data.styles (digit-styles: the bundled
digits in 5 procedural styles, no digit in two styles); nets: ganengine.models.stargan.

For a batch x of training images in styles s (one-hot c_s) and target styles t drawn uniformly from the K styles
(the run's noise stream), StarGAN's objective (eq. 5-6, with its eq. 1-4 terms) is:
  L_D = d(D_adv(x), D_adv(G(x, c_t))) + lambda_cls * CE(D_cls(x), s)           D: real vs fake, and name x's style
  L_G = g(D_adv(G(x, c_t)))                                                     fool D ...
      + lambda_cls * CE(D_cls(G(x, c_t)), t)                                    ... so that it sees style t ...
      + lambda_rec * mean |G(G(x, c_t), c_s) - x|                               ... and come back (the cycle)
      + lambda_id * mean |G(x, c_s) - x|                                        x in its own style: unchanged
with d, g the loss knob's pair through run.adversarial (StarGAN used WGAN-GP with 5 critic steps; the preset's loss
is the one measured best here: ganengine/presets.py), CE the cross-entropy of D's style logits, and lambda_cls = 1,
lambda_rec = 10 (section 4.1: "We use lambda_cls = 1 and lambda_rec = 10 in all of our experiments"). The
reconstruction term is CycleGAN's cycle loss with one G: it forbids G to change what is not style (the digit).
The identity term is not StarGAN's (lambda_id = 0 gives its objective): it is CycleGAN's identity loss (Zhu et al.
2017, section 5.2, "regularize the generator to be near an identity mapping when real samples of the target domain
are provided as the input"; junyanz/pytorch-CycleGAN-and-pix2pix --lambda_identity), one extra G pass per G step.
Measured here (bench/STYLES.md): without it the plain code drifts to near-blank strokes and content kept falls
from ~62% to ~50% while training; with it content kept stays above 90%.

One iteration ("both"): d_steps D updates on L_D (the last one keeps its fakes and their graph), then one G update
on L_G; "d" and "g" are one D or one G update alone (a G-only step draws a fresh batch and targets).
Scalars: loss/D (L_D), loss/D/style (CE on real images), loss/G (L_G), loss/G/GAN, loss/G/style (CE on fakes),
loss/G/rec (the unweighted L1), loss/G/id (the unweighted identity L1; 0 when lambda_id is 0), D(x), D(G(z))/before
and /after (sigmoid of the patch logits, means), grad/G, grad/D.
Views: "styles" (held-out digits x every style) and "interpolate" (mixed codes between two styles).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ganengine.config import STYLE_TASKS, ConfigError, _check_choice
from ganengine.families.base import Family, eval_mode, frozen_copy
from ganengine.render import image_grid
from ganengine.seeds import DATA, stream

SIDE = 32           # ganengine.data.styles pads the digits 28 -> 32
D_LAYERS = 3        # the critic's strided layers: 32 -> 4, 4x4 patch logits and one style logit vector
STEPS = 8           # columns of the interpolation view


def _styles() -> tuple:
    from ganengine.data.styles import STYLES
    return STYLES


class StylesFamily(Family):
    name = "styles"
    phases = ("both", "d", "g")
    scalars = ("loss/D", "loss/G", "loss/G/GAN", "loss/G/style", "loss/G/rec", "loss/G/id", "loss/D/style", "D(x)",
               "D(G(z))/before", "D(G(z))/after", "grad/G", "grad/D")
    guarded = {"loss/D": "D(x)", "loss/G": "D(G(z))/after"}
    views = ("styles", "interpolate")
    stage_notes = {  # slow motion's words for this family (Family.stage_notes)
        "G/sample": "G repaints real digits in a randomly picked target style (no noise vector).",
        "D/loss": "D also learns to name each real image's style (its classification term, Choi et al. 2018).",
        "G/loss": "G must also make D name the target style, come back to the source style (reconstruction) "
                  "and leave an image in its own style unchanged (identity).",
    }
    verbs = ("translate",)
    translate_blend = True          # the Translate tab mixes two style codes (as the interpolate view)
    translate_choice_label = "Style"
    datasets = STYLE_TASKS
    dataset_labels = (("Digits in 5 styles (unpaired, for style transfer)", "digit-styles"),)
    latent = False          # G(x, c) has no z: the style code picks the output
    KNOBS = {
        # lambda_cls: weight of the style-classification terms (D on real, G on fake); 1 in Choi et al. 2018
        # (section 4.1), yunjey/stargan --lambda_cls.
        "lambda_cls": ("style-classification weight lambda_cls", 0, 100, 1.0),
        # lambda_rec: weight of the reconstruction L1 |G(G(x, c_t), c_s) - x|; 10 in Choi et al. 2018 (section
        # 4.1), yunjey/stargan --lambda_rec.
        "lambda_rec": ("reconstruction weight lambda_rec", 0, 1000, 10.0),
        # lambda_id: weight of the identity L1 |G(x, c_s) - x| (x re-rendered in its own style should not change);
        # CycleGAN's identity loss (Zhu et al. 2017, section 5.2; junyanz/pytorch-CycleGAN-and-pix2pix
        # --lambda_identity), not in StarGAN: 0 there. It anchors the plain code to the input digit.
        "lambda_id": ("identity weight lambda_id", 0, 1000, 0.0),
    }

    def __init__(self, run):
        super().__init__(run)
        renderings, label = run.source.held_out()                             # (500, K, 1, 32, 32), (500,)
        first = torch.stack([torch.nonzero(label == c)[0, 0] for c in range(10)])   # one digit per class
        self.view_x = renderings[first, 0]                                    # (10, 1, 32, 32) plain digits
        self._kept = None

    # ---- built without a run ------------------------------------------------------------------------------------
    @staticmethod
    def check_config(config) -> None:
        _check_choice("data", config.data, STYLE_TASKS)
        if config.image_size not in (0, SIDE):
            raise ConfigError(f"the digit styles are {SIDE} px; image size must be 0 or {SIDE}")

    @staticmethod
    def model_choices(data: str) -> list:
        return [("StarGAN: one G with a style code + D with a style head", "stargan")]

    @staticmethod
    def describe(config) -> str:
        return (f"StarGAN-style: one ResNet G with conditional instance norm (width {config.width}, {config.depth} "
                f"residual blocks) + PatchGAN D with a style head (width {config.width} x {D_LAYERS} layers)")

    @staticmethod
    def build_source(config, device):
        from ganengine.data.styles import StyleDigitSource
        return StyleDigitSource(config.data, seed=stream(config.seed, DATA), device=device)

    @staticmethod
    def build_nets(config, spec) -> dict:
        from ganengine.models.stargan import StyleCritic, StyleGenerator
        c, K = spec.shape[0], len(_styles())
        return {"G": StyleGenerator(channels=c, n_styles=K, width=config.width, blocks=config.depth),
                "D": StyleCritic(channels=c, n_styles=K, width=config.width, n_layers=D_LAYERS,
                                 image_size=spec.shape[-1])}

    @staticmethod
    def guess_spec(config):
        from ganengine.data.spec import DataSpec
        return DataSpec(name=config.data, title=config.data, kind="unpaired", shape=(1, SIDE, SIDE), num_classes=10)

    @staticmethod
    def cost_forwards(nets: dict, config, spec, batch: int):
        """G = the 3 generator passes of an iteration (the translation, the way back and the identity pass; the
        last is skipped when lambda_id is 0, counted anyway), D = one D pass: ganengine.cost's d_steps (G + 6 D)
        + 3 D + 2 G ~ the 3 G forwards (x3 with backward) and ~9 D passes."""
        G, D = nets["G"], nets["D"]
        x, c = torch.empty(batch, *spec.shape), torch.empty(batch, len(_styles()))

        def g_forward():
            fake = G(x, c)
            G(fake, c)                                                                   # the way back
            G(x, c)                                                                      # the identity pass
            return fake
        return g_forward, (lambda fake: D(fake)[0])

    # ---- training ---------------------------------------------------------------------------------------------
    def _batch(self):
        """A training batch x (B, 1, 32, 32) in its styles s (B,), and target styles t (B,) from the noise stream."""
        run = self.run
        x, s = run.source.sample(run.knobs.batch_size)
        t = torch.randint(len(_styles()), (len(x),), generator=run.noise_gen, device=run.device)
        return x, s, t

    def _code(self, styles: torch.Tensor) -> torch.Tensor:
        return F.one_hot(styles, len(_styles())).float()                       # (B, K)

    def _d_update(self, out: dict, keep_fake: bool) -> None:
        run, k = self.run, self.run.knobs
        G, D = run.nets["G"], run.nets["D"]
        x, s, t = self._batch()
        with torch.set_grad_enabled(keep_fake):                 # G's graph is kept only for this iteration's G step
            fake = G(x, self._code(t))                          # x re-rendered in style t: (B, 1, 32, 32)
        self._kept = (x, s, t, fake) if keep_fake else None
        style_logits = []

        def critic(img):                                        # D's adversarial head for run.adversarial; the
            adv, cls = D(img)                                   # style head's logits are kept: the first call
            style_logits.append(cls)                            # is on the real batch
            return adv
        loss_adv, l_r, l_f = run.adversarial.d_loss(critic, x, fake.detach(), k, run.noise_gen)  # real vs fake
        loss_cls = F.cross_entropy(style_logits[0], s)          # ... and name each real image's style
        loss = loss_adv + k.get("lambda_cls") * loss_cls
        out["grad/D"] = run.update("D", loss)                   # descend L_D in D's weights
        l_r, l_f = l_r.detach(), l_f.detach()                   # patch logits (B, 1, 4, 4)
        run.adversarial.record(l_r, l_f)
        out["loss/D"], out["loss/D/style"] = loss.detach(), loss_cls.detach()
        out["D(x)"], out["D(G(z))/before"] = torch.sigmoid(l_r).mean(), torch.sigmoid(l_f).mean()

    def _g_update(self, out: dict) -> None:
        run, k = self.run, self.run.knobs
        G, D = run.nets["G"], run.nets["D"]
        if self._kept is not None:                              # this iteration's batch, targets and fakes
            x, s, t, fake = self._kept
            self._kept = None
        else:                                                   # a G-only step: a fresh batch
            x, s, t = self._batch()
            fake = G(x, self._code(t))
        with run.frozen("D"):                                   # no gradient for D's weights
            adv, cls = D(fake)                                  # D has moved since it scored these fakes
            loss_gan = run.adversarial.g_loss(adv, k)           # fool D ...
            loss_cls = F.cross_entropy(cls, t)                  # ... make it see the target style ...
        rec = G(fake, self._code(s))                            # ... and come back to the source style
        loss_rec = (rec - x).abs().mean()                       # the cycle: keep the digit
        loss = loss_gan + k.get("lambda_cls") * loss_cls + k.get("lambda_rec") * loss_rec
        loss_id = torch.zeros((), device=x.device)
        if k.get("lambda_id") > 0:                              # identity: x in its own style stays x
            loss_id = (G(x, self._code(s)) - x).abs().mean()
            loss = loss + k.get("lambda_id") * loss_id
        out["grad/G"] = run.update("G", loss)                   # descend L_G in G's weights (then EMA)
        out["loss/G"], out["loss/G/GAN"] = loss.detach(), loss_gan.detach()
        out["loss/G/style"], out["loss/G/rec"] = loss_cls.detach(), loss_rec.detach()
        out["loss/G/id"] = loss_id.detach()
        out["D(G(z))/after"] = torch.sigmoid(adv.detach()).mean()

    def forget_transient(self) -> None:
        self._kept = None

    # ---- translating, views, metrics --------------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """G(x, code), the EMA copy when EMA is on: x (B, 1, 32, 32) in [-1, 1], code (B, K) (one-hot or mixed)."""
        G = self.run.sampler()
        with eval_mode(G):
            return G(x.to(self.run.device), code.to(self.run.device)).float().cpu()

    def render(self) -> dict:
        """styles: 10 held-out digits (one per class) a row: the plain input, then G's output in each style.
        interpolate: row r turns digit r from style r to style r + 1 (mod K) in STEPS mixed codes."""
        K, x = len(_styles()), self.view_x                                       # (10, 1, 32, 32)
        eye = torch.eye(K)
        outs = [self.translate(x, eye[k].expand(len(x), K)) for k in range(K)]    # K x (10, 1, 32, 32)
        grid = torch.stack([x.cpu(), *outs], 1).flatten(0, 1)                     # (10 (K + 1), 1, 32, 32)
        a = torch.linspace(0, 1, STEPS)[:, None]                                  # (STEPS, 1) mix weights
        rows = [self.translate(x[r:r + 1].expand(STEPS, -1, -1, -1), (1 - a) * eye[r] + a * eye[(r + 1) % K])
                for r in range(K)]                                                # K x (STEPS, 1, 32, 32)
        return {"styles": image_grid(grid.numpy(), nrow=K + 1),
                "interpolate": image_grid(torch.cat(rows).numpy(), nrow=STEPS)}

    def caption(self, view: str) -> str:
        names = _styles()
        if view == "interpolate":
            pairs = ", ".join(f"{names[r]} → {names[(r + 1) % len(names)]}" for r in range(len(names)))
            return (f"Style interpolation: each row is one held-out digit rendered with a code mixed from two styles, "
                    f"(1 - a) · style i + a · style j for a = 0 ... 1 in {STEPS} steps ({pairs}); the mix "
                    f"interpolates G's per-style normalisation (Dumoulin et al. 2017)")
        return (f"One held-out digit per row (never trained on): the plain input, then G's output for each style "
                f"code: {', '.join(names)}. Each column should show one style, each row one digit")

    def quality_job(self, n: int):
        """ganengine.metrics.styles' report on the 500 held-out digits, from a frozen copy of G."""
        G = frozen_copy(self.run.sampler()).cpu()
        renderings, label = (t.cpu() for t in self.run.source.held_out())

        def job():
            from ganengine.metrics.styles import style_report
            return style_report(G, renderings, label, _styles())
        return job

    # ---- the app's Translate tab ------------------------------------------------------------------------------
    @staticmethod
    def translate_choices(spec) -> list:
        return [(name, name) for name in _styles()[1:]] + [(_styles()[0], _styles()[0])]

    @classmethod
    @torch.no_grad()
    def translate_with(cls, nets: dict, spec, x, choice=None, blend_to=None, blend: float = 0.0) -> dict:
        """G(x, c) with c = (1 - blend) one-hot(choice) + blend one-hot(blend_to) (a mixed code interpolates G's
        per-style normalisation, Dumoulin et al. 2017); back: G(G(x, c), plain), StarGAN's reconstruction (Choi et
        al. 2018, eq. 4) with the input taken as plain; every: x in each of the K styles."""
        names, G = _styles(), nets["G"]
        eye = torch.eye(len(names), device=x.device)
        code = eye[names.index(choice or names[1])]
        if blend_to and blend > 0:
            code = (1 - blend) * code + blend * eye[names.index(blend_to)]
        n = len(x)
        out = G(x, code.expand(n, -1))                                            # (B, 1, 32, 32)
        back = G(out, eye[0].expand(n, -1))
        every = torch.cat([G(x[:1], eye[k][None]) for k in range(len(names))])    # (K, 1, 32, 32)
        return {"output": out, "back": back, "back_label": "Back to plain (the reconstruction)",
                "every": every, "every_label": "Your digit in every style: " + " · ".join(names)}

    @staticmethod
    def translate_example(held_out: tuple, i: int, choice=None) -> tuple:
        """Held-out digit i: its plain rendering, and its exact rendering in the chosen style as the target."""
        renderings, label = held_out                                              # (N, K, 1, 32, 32), (N,)
        k = _styles().index(choice or _styles()[1])
        return renderings[i:i + 1, 0], renderings[i:i + 1, k], int(label[i])

    # ---- the CLI's verbs ----------------------------------------------------------------------------------------
    @staticmethod
    def _style(style, direction) -> int:
        names = _styles()
        if direction is not None:
            raise ConfigError("a styles checkpoint translates into a style; use --style, not --direction")
        if style not in names:
            raise ConfigError(f"--style must be one of {', '.join(names)} for a styles checkpoint; got {style!r}")
        return names.index(style)

    @staticmethod
    def evaluate(ckpt: dict, *, n: int, seed: int) -> dict:
        """`eval`: the quality job's metrics of a checkpoint's G (EMA when saved) on the 500 held-out digits."""
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.styles import StyleDigitSource
        from ganengine.metrics.styles import style_report
        G, config, _ = generator_from_checkpoint(ckpt)
        renderings, label = StyleDigitSource(config.data, seed=0).held_out()
        return {"task": config.data, **style_report(G, renderings, label, _styles())}

    @staticmethod
    def translate_split(ckpt: dict, *, split: str, n: int, seed: int, direction=None, style=None) -> dict:
        """`translate --split --style NAME`: n digits of a split (test: the 500 held out; train: the 4,500 training
        digits), drawn without replacement with the seed, from their plain rendering into the style: float32 input
        (plain), output, target (the exact rendering in the style) (N, 1, 32, 32) in [-1, 1], int64 label (N,)."""
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.images import load_bundled_mnist, to_unit_range
        from ganengine.data.paired import held_out_indices, pad_digits
        from ganengine.data.styles import render
        from ganengine.metrics.styles import translate_all
        k = StylesFamily._style(style, direction)
        G, _, _ = generator_from_checkpoint(ckpt)
        images, labels = load_bundled_mnist()
        test = torch.from_numpy(held_out_indices(labels.numpy()))
        keep = torch.ones(len(labels), dtype=torch.bool)
        keep[test] = False
        pool = test if split == "test" else torch.nonzero(keep).squeeze(1)
        if not 1 <= n <= len(pool):
            raise ConfigError(f"--n must be 1 to {len(pool)} for the {split} split")
        idx = pool[torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:n]]
        digits = pad_digits(images[idx])                                           # (n, 1, 32, 32) uint8
        x, target = to_unit_range(render("plain", digits, idx)), to_unit_range(render(_styles()[k], digits, idx))
        out = translate_all(G, x, torch.eye(len(_styles()))[k])
        return {"input": x.numpy().astype(np.float32), "output": out.numpy().astype(np.float32),
                "target": target.numpy().astype(np.float32), "label": labels[idx].numpy().astype(np.int64)}

    @staticmethod
    def translate_image(ckpt: dict, path, direction=None, style=None) -> np.ndarray:
        """`translate --input --style NAME`: one image file (light strokes on dark, or dark on light, inverted then)
        -> G's output in the style as a uint8 (32, 32, 3) image."""
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.images import read_image
        k = StylesFamily._style(style, direction)
        G, _, _ = generator_from_checkpoint(ckpt)
        x = torch.from_numpy(np.array(read_image(path, SIDE, 1))).float().div(255)[None]  # (1, 1, 32, 32) in [0, 1]
        if x.mean() > 0.5:                                                        # dark strokes on white paper
            x = 1 - x
        with torch.no_grad():
            out = G(x * 2 - 1, torch.eye(len(_styles()))[k][None])                # (1, 1, 32, 32) in [-1, 1]
        return image_grid(out.numpy(), nrow=1, pad=0)
