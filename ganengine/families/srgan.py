"""The SRGAN family (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a Generative
Adversarial Network"): a residual generator G upscales a low-resolution digit I_LR (7x7 or 14x14) to 28x28, a
discriminator D tells real 28 px digits I_HR from G's outputs. Data: ganengine.data.lowres; nets:
ganengine.models.srresnet; metrics: ganengine.metrics.superres.

The objective (section 2.2, eq. 3-6), for a batch of training pairs (I_LR, I_HR):
  L_G = l_content + w_adv * g(D(G(I_LR)))        the perceptual loss, eq. 3, with w_adv = 1e-3 (the live knob
                                                 adv_weight); g the loss knob's G term (ns = the paper's
                                                 -log D(G(I_LR)), eq. 6)
  l_content = mean (G(I_LR) - I_HR)^2            pixel MSE, eq. 4 (the paper's SRGAN-MSE variant): NOT the paper's
                                                 VGG54 feature loss (VGG weights cannot be downloaded here), and not
                                                 the bundled digit classifier's features either: that classifier
                                                 is the judge of the outputs' accuracy, and training on its features
                                                 would teach G to the test
  L_D = d(D(I_HR), D(G(I_LR)))                   the loss knob's D term (ns = BCE, halved), through run.adversarial
Phases (section 3.2): the SRResNet, i.e. G trained on l_content alone, initialises SRGAN ("we employed the trained
MSE-based SRResNet network as initialization for the generator when training the actual GAN"). Here the first
mse_warmup_steps steps of the run are that warm-up: G on the MSE only, D untouched; from then on each iteration
is d_steps D updates then one G update on L_G (D then G, as leftthomas/SRGAN's train.py). The phase is a pure
function of the step and the knob (step < mse_warmup_steps), so rewind and resume replay it exactly; the switch
is marked on the curves (an event) and loss/D, D(x), loss/G/GAN appear there. "d" and "g" are one D or one G
update alone, in either phase (a G update in the warm-up is the MSE one).
Scalars: loss/D, loss/G (L_G), loss/G/content (the MSE), loss/G/GAN (g, unweighted), D(x), D(G(z))/before and
/after (sigmoid of D's logits, means), grad/G, grad/D.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ganengine.config import SR_TASKS, ConfigError, _check_choice
from ganengine.families.base import Family, eval_mode, frozen_copy
from ganengine.render import image_grid
from ganengine.seeds import DATA, stream

SIDE = 28               # the HR side (the bundled digits')
PER_CLASS_SHOWN = 2     # the view's fixed held-out digits: the first 2 of each class (20 columns)


def _factor(data: str) -> int:
    from ganengine.data.lowres import factor_of
    return factor_of(data)


class SRGANFamily(Family):
    name = "srgan"
    phases = ("both", "d", "g")
    scalars = ("loss/D", "loss/G", "loss/G/content", "loss/G/GAN", "D(x)", "D(G(z))/before", "D(G(z))/after",
               "grad/G", "grad/D")
    guarded = {"loss/D": "D(x)", "loss/G": "grad/G"}     # loss/G is computed by every G update, warm-up or not
    views = ("strips",)
    stage_notes = {  # slow motion's words for this family (Family.stage_notes)
        "G/sample": "G upscales low-resolution digits (no noise); in the MSE warm-up there is no D phase.",
        "G/loss": "SRGAN's loss is the content loss (MSE to the true high-res image) plus a small weight times "
                  "the adversarial term (Ledig et al. 2017, eq. 3).",
    }
    verbs = ("translate",)
    datasets = SR_TASKS
    dataset_labels = (("Low-res digits 7×7 → 28×28 (for SRGAN)", "lowres7"),
                      ("Low-res digits 14×14 → 28×28 (for SRGAN)", "lowres14"))
    latent = False          # G(I_LR) has no z
    KNOBS = {
        # adv_weight: the adversarial term's weight in G's perceptual loss; 1e-3 in Ledig et al. 2017 (eq. 3,
        # "l_X + 10^-3 l_Gen"). Higher trades PSNR for sharper strokes (the perception-distortion trade-off).
        "adv_weight": ("adversarial weight (x content)", 0, 1, 1e-3),
        # mse_warmup_steps: steps of MSE-only training (the SRResNet) before D joins; Ledig et al. 2017 (section
        # 3.2) initialise SRGAN with a trained SRResNet.
        "mse_warmup_steps": ("MSE warm-up steps (SRResNet)", 0, 5000, 300.0),
    }

    def __init__(self, run):
        super().__init__(run)
        self.factor = _factor(run.config.data)
        lr, hr, label = run.source.held_out()                                 # (500, 1, 7, 7), (500, 1, 28, 28)
        pick = torch.cat([torch.nonzero(label == c).squeeze(1)[:PER_CLASS_SHOWN] for c in range(10)])  # (20,)
        self.view_lr, self.view_hr = lr[pick].cpu(), hr[pick].cpu()
        from ganengine.metrics.superres import bicubic
        self.view_bicubic = bicubic(self.view_lr, self.factor)                # (20, 1, 28, 28)
        self._baseline = None               # bicubic's held-out metrics, computed once (by the first quality job)
        self._fake_for_g = None
        self._was_adversarial = None        # the previous step's phase (transient: only to mark the switch)

    # ---- built without a run ------------------------------------------------------------------------------------
    @staticmethod
    def check_config(config) -> None:
        _check_choice("data", config.data, SR_TASKS)
        if config.image_size not in (0, SIDE):
            raise ConfigError(f"the low-res digit tasks upscale to {SIDE} px; image size must be 0 or {SIDE}")

    @staticmethod
    def model_choices(data: str) -> list:
        return [("SRGAN: SRResNet G + conv D", "srresnet")]

    @staticmethod
    def describe(config) -> str:
        r = _factor(config.data)
        return (f"SRGAN x{r}: SRResNet G (width {config.width}, {config.depth} residual blocks, {r.bit_length() - 1} "
                f"PixelShuffle x2) + conv D (width {config.width})")

    @staticmethod
    def build_source(config, device):
        from ganengine.data.lowres import LowResDigitSource
        return LowResDigitSource(config.data, seed=stream(config.seed, DATA), device=device)

    @staticmethod
    def build_nets(config, spec) -> dict:
        from ganengine.models.srresnet import SRDiscriminator, SRResNetGenerator
        c = spec.shape[0]
        return {"G": SRResNetGenerator(channels=c, factor=_factor(config.data), width=config.width,
                                       blocks=config.depth),
                "D": SRDiscriminator(channels=c, image_size=spec.shape[-1], width=config.width)}

    @staticmethod
    def guess_spec(config):
        from ganengine.data.spec import DataSpec
        r = _factor(config.data)
        return DataSpec(name=config.data, title=config.data, kind="paired", shape=(1, SIDE, SIDE), num_classes=10,
                        extra={"input_shape": (1, SIDE // r, SIDE // r), "factor": r})

    @staticmethod
    def cost_forwards(nets: dict, config, spec, batch: int):
        r = _factor(config.data)
        lr = torch.empty(batch, spec.shape[0], SIDE // r, SIDE // r)                     # (B, 1, 7, 7)
        return (lambda: nets["G"](lr)), (lambda fake: nets["D"](fake))

    # ---- training ---------------------------------------------------------------------------------------------
    def adversarial_phase(self) -> bool:
        """Whether the step about to run is past the MSE warm-up: a pure function of the step and the knob."""
        return self.run.step >= self.run.knobs.get("mse_warmup_steps")

    def train_step(self, kind: str) -> dict:
        """"both": in the warm-up one G update on the MSE alone; after it d_steps D updates then one G update on
        L_G (Family.train_step). "d", "g": one update alone."""
        adversarial = self.adversarial_phase()
        self._mark_switch(adversarial)
        if kind == "both" and not adversarial:
            out = {}
            self._g_update(out)
            return out
        return super().train_step(kind)

    def _mark_switch(self, adversarial: bool) -> None:
        """An event on the curves where the phase changes (once per step and text, across rewinds)."""
        if self._was_adversarial is not None and adversarial != self._was_adversarial:
            text = (f"MSE warm-up over: D joins (adversarial weight {self.run.knobs.get('adv_weight'):g})"
                    if adversarial else "back to the MSE warm-up (mse_warmup_steps raised)")
            if not any(e.step == self.run.step and e.text == text for e in self.run.events):
                self.run.add_event("phase", text)
        self._was_adversarial = adversarial

    def _d_update(self, out: dict, keep_fake: bool) -> None:
        run, k = self.run, self.run.knobs
        G, D = run.nets["G"], run.nets["D"]
        lr, hr, _ = run.source.sample(k.batch_size)                # (B, 1, 7, 7), (B, 1, 28, 28)
        with torch.set_grad_enabled(keep_fake):
            fake = G(lr)                                           # G(I_LR): (B, 1, 28, 28)
        self._fake_for_g = (lr, hr, fake) if keep_fake else None
        loss, l_r, l_f = run.adversarial.d_loss(D, hr, fake.detach(), k, run.noise_gen)
        out["grad/D"] = run.update("D", loss)                      # descend L_D in D's weights
        l_r, l_f = l_r.detach(), l_f.detach()                      # logits (B,)
        run.adversarial.record(l_r, l_f)
        out["loss/D"], out["D(x)"], out["D(G(z))/before"] = loss.detach(), torch.sigmoid(l_r).mean(), \
            torch.sigmoid(l_f).mean()

    def _g_update(self, out: dict) -> None:
        run, k = self.run, self.run.knobs
        if self._fake_for_g is not None:                           # this iteration's batch and outputs
            lr, hr, fake = self._fake_for_g
            self._fake_for_g = None
        else:                                                      # warm-up, or a G-only step: a fresh batch
            lr, hr, _ = run.source.sample(k.batch_size)
            fake = run.nets["G"](lr)
        content = (fake - hr).pow(2).mean()                        # l_content: pixel MSE (eq. 4)
        if self.adversarial_phase():
            with run.frozen("D"):                                  # no gradient for D's weights
                l_f = run.nets["D"](fake)                          # D has moved since it scored these outputs
                gan = run.adversarial.g_loss(l_f, k)               # look real to D ...
            loss = content + k.get("adv_weight") * gan             # ... while staying near I_HR (eq. 3)
            out["loss/G/GAN"], out["D(G(z))/after"] = gan.detach(), torch.sigmoid(l_f.detach()).mean()
        else:
            loss = content                                         # the SRResNet warm-up: MSE alone
        out["grad/G"] = run.update("G", loss)                      # descend L_G in G's weights (then EMA)
        out["loss/G"], out["loss/G/content"] = loss.detach(), content.detach()

    def forget_transient(self) -> None:
        self._fake_for_g = None
        self._was_adversarial = None

    # ---- translating, views, metrics --------------------------------------------------------------------------
    translate_fit_box = 20 / 28     # the low-res frames are MNIST's 28 px ones shrunk (no 32 px padding)

    @classmethod
    @torch.no_grad()
    def translate_with(cls, nets: dict, spec, x, choice=None, blend_to=None, blend: float = 0.0) -> dict:
        """The Translate tab: G(x) clamped to [-1, 1] (G's output is linear), and bicubic's answer to the same
        input beside it, the baseline SRGAN must beat."""
        out = nets["G"](x).float().clamp(-1, 1)                                    # (B, 1, 28, 28)
        bicubic = F.interpolate(x.float(), size=out.shape[-2:], mode="bicubic", align_corners=False).clamp(-1, 1)
        return {"output": out, "every": torch.cat([bicubic[:1], out[:1]]),
                "every_label": "Bicubic upscaling (left) against SRGAN (right), from the same low-res input"}

    @staticmethod
    def translate_input_shape(config, spec) -> tuple:
        """(C, h, w) of the low-res images G takes: (1, 7, 7) for lowres7, (1, 14, 14) for lowres14."""
        r = _factor(config.data)
        return (spec.shape[0], SIDE // r, SIDE // r)

    @torch.no_grad()
    def translate(self, x: torch.Tensor) -> torch.Tensor:
        """G's outputs (the EMA copy when EMA is on) for low-res inputs x (B, 1, h, w) in [-1, 1] of input_shape(),
        in eval mode, clamped to [-1, 1]: (B, 1, 28, 28). ConfigError for another size (resize uploads to
        input_shape() first)."""
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape():
            raise ConfigError(f"SRGAN upscales {self.input_shape()[1]}x{self.input_shape()[2]} grey images; got "
                              f"shape {tuple(x.shape)}")
        G = self.run.sampler()
        with eval_mode(G):
            return G(x.to(self.run.device)).float().clamp_(-1, 1)

    def render(self) -> dict:
        return self._strips(self.run.sampler(), self._phase_text())

    def render_job(self):
        G, phase = frozen_copy(self.run.sampler()), self._phase_text()
        return lambda: self._strips(G, phase)

    def _phase_text(self) -> str:
        k, step = self.run.knobs, self.run.step
        warm = int(k.get("mse_warmup_steps"))
        if step < warm:
            return f"MSE warm-up (SRResNet) until step {warm:,}: D not trained yet"
        return f"adversarial phase since step {warm:,}, weight {k.get('adv_weight'):g}"

    @torch.no_grad()
    def _strips(self, G, phase: str) -> dict:
        """strips: low-res (blocky, nearest) | bicubic | G | high-res rows of 20 held-out digits, and a caption
        with the PSNR and SSIM of the bicubic and G rows against the high-res one."""
        from ganengine.metrics.image_quality import psnr, ssim
        device = next(G.parameters()).device
        with eval_mode(G):
            out = G(self.view_lr.to(device)).float().cpu().clamp_(-1, 1)              # (20, 1, 28, 28)
        blocky = self.view_lr.repeat_interleave(self.factor, -1).repeat_interleave(self.factor, -2)
        rows = torch.cat([blocky, self.view_bicubic, out, self.view_hr]).numpy()        # (80, 1, 28, 28)
        score = {name: (float(psnr(x, self.view_hr).mean()), float(ssim(x, self.view_hr).mean()))
                 for name, x in (("bicubic", self.view_bicubic), ("SRGAN", out))}
        h = SIDE // self.factor
        numbers = " · ".join(f"{name} PSNR {p:.1f} dB, SSIM {s:.2f}" for name, (p, s) in score.items())
        caption = (f"Rows: the {h}x{h} input (shown blocky) · bicubic x{self.factor} · SRGAN's G · the real 28 px "
                   f"digit, 20 held-out digits (2 per class). On these 20: {numbers}. {phase[0].upper()}{phase[1:]}. "
                   f"Raise the adversarial weight: strokes get crisper while PSNR falls (the perception-distortion "
                   f"trade-off: MSE rewards the blurry average of the plausible digits, D punishes blur)")
        return {"strips": image_grid(rows, nrow=len(out)), "captions": {"strips": caption}}

    def caption(self, view: str) -> str:
        h = SIDE // self.factor
        return (f"Rows: the {h}x{h} input (shown blocky) · bicubic x{self.factor} · SRGAN's G · the real 28 px "
                f"digit, 20 held-out digits (2 per class)")

    def quality_job(self, n: int):
        """PSNR, SSIM, accuracy and sharpness of G and of bicubic on the 500 held-out digits."""
        from ganengine.metrics.superres import bicubic_report, sr_report
        G = frozen_copy(self.run.sampler()).cpu()
        lr, hr, label = (t.cpu() for t in self.run.source.held_out())
        if self._baseline is None:
            self._baseline = bicubic_report(lr, hr, label, self.factor)
        baseline = self._baseline
        return lambda: sr_report(G, lr, hr, label, self.factor, baseline)

    # ---- the CLI's verbs ----------------------------------------------------------------------------------------
    @staticmethod
    def evaluate(ckpt: dict, *, n: int, seed: int) -> dict:
        """`eval`: G's (EMA when saved) and bicubic's metrics on the 500 held-out digits."""
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.lowres import LowResDigitSource
        from ganengine.metrics.superres import sr_report
        G, config, _ = generator_from_checkpoint(ckpt)
        lr, hr, label = LowResDigitSource(config.data, seed=0).held_out()
        return {"task": config.data, **sr_report(G, lr, hr, label, _factor(config.data))}

    @staticmethod
    def translate_split(ckpt: dict, *, split: str, n: int, seed: int, direction=None, style=None) -> dict:
        """`translate --split`: n digits of a split (test: the 500 held out; train), drawn without replacement with
        the seed: float32 input (N, 1, h, w) low-res, output and target (N, 1, 28, 28), all in [-1, 1], and int64
        label (N,)."""
        _one_way(direction, style)
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.images import to_unit_range
        from ganengine.data.lowres import load_lowres_digits
        from ganengine.families.pix2pix import pick_split
        from ganengine.metrics.superres import upscale
        G, config, _ = generator_from_checkpoint(ckpt)
        data = load_lowres_digits(config.data)
        idx = pick_split(data, split, n, seed)
        lr, hr = to_unit_range(data["input"][idx]), to_unit_range(data["target"][idx])
        return {"input": lr.numpy().astype(np.float32), "output": upscale(G, lr).numpy().astype(np.float32),
                "target": hr.numpy().astype(np.float32), "label": data["label"][idx].numpy().astype(np.int64)}

    @staticmethod
    def translate_image(ckpt: dict, path, direction=None, style=None) -> np.ndarray:
        """`translate --input`: one image file -> G's 28x28 output as a uint8 (28, 28, 3) image. The file is
        resized to the input size (7x7 for lowres7; PIL's bicubic filter, antialiased when it shrinks) and read
        as light strokes on dark (dark strokes on a light page are inverted first)."""
        _one_way(direction, style)
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.images import read_image
        G, config, _ = generator_from_checkpoint(ckpt)
        h = SIDE // _factor(config.data)
        x = torch.from_numpy(np.array(read_image(path, h, 1))).float().div(255)[None]   # (1, 1, h, h) in [0, 1]
        if x.mean() > 0.5:                                                        # dark strokes on white paper
            x = 1 - x
        with torch.no_grad():
            out = G(x * 2 - 1).clamp_(-1, 1)                                      # (1, 1, 28, 28) in [-1, 1]
        return image_grid(out.numpy(), nrow=1, pad=0)


def _one_way(direction, style=None) -> None:
    if style is not None:
        raise ConfigError("an srgan checkpoint has no styles; drop --style")
    if direction is not None:
        raise ConfigError("an srgan checkpoint translates one way (low-res -> high-res); drop --direction")
