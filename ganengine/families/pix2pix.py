"""The pix2pix family (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks"):
a U-Net G(a) translates an input image a into an output, a PatchGAN D(a, b) judges (input, image) pairs patch by
patch; the paired digit tasks of ganengine.data.paired (edges2digits, blur2digits) are the data.

One iteration ("both"), as junyanz's pix2pix_model.py optimize_parameters:
  fake = G(a)
  D step:  L_D = d(D(a, b), D(a, fake))         the loss knob (ns = pix2pix's "vanilla" BCE, halved inside d:
                                                "we divide the objective by 2 while optimizing D", section 3.3)
  G step:  L_G = g(D(a, fake)) + lambda_L1 * mean |fake - b|      (eq. 4; lambda_L1 = 100, section 4)
"d" and "g" are one D or one G update alone (a G-only step draws a fresh batch). Reported: loss/D, loss/G (the
total), loss/G/GAN (its adversarial term), loss/G/L1 (mean |fake - b|, unweighted), D(x) = mean D(a, b),
D(G(z))/before and /after = mean D(a, fake) before and after D's update (patch means), grad/G, grad/D.
Networks: ganengine/models/unet.py (width = RunConfig.width) and patchgan.py (width too; RunConfig.depth = its
strided layers); the measured preset (bench/pix2pix_probe.py): widths 16, 2 layers, batch 16, Adam 5e-4 (0.5, 0.999).
"""
from __future__ import annotations

import numpy as np
import torch

from ganengine.config import PAIRED_TASKS, ConfigError, _check_choice
from ganengine.families.base import Family, eval_mode, frozen_copy
from ganengine.render import image_grid
from ganengine.seeds import DATA, stream

SIDE = 32               # ganengine.data.paired pads the digits 28 -> 32
PER_CLASS_SHOWN = 2     # the view's fixed held-out pairs: the first 2 of each class (20 columns)


class Pix2PixFamily(Family):
    name = "pix2pix"
    phases = ("both", "d", "g")
    scalars = ("loss/D", "loss/G", "loss/G/GAN", "loss/G/L1", "D(x)", "D(G(z))/before", "D(G(z))/after",
               "grad/G", "grad/D")
    guarded = {"loss/D": "D(x)", "loss/G": "D(G(z))/after"}
    views = ("strips",)
    stage_notes = {  # slow motion's words for this family (Family.stage_notes)
        "G/sample": "pix2pix's G draws no noise vector: it translates the input image (its only noise is dropout).",
        "D/classify": "D sees (input, image) pairs, and a PatchGAN scores every patch of them.",
        "G/loss": "pix2pix adds lambda * L1, the mean |G(a) - b| to the true image (Isola et al. 2017, eq. 4).",
    }
    verbs = ("translate",)
    datasets = PAIRED_TASKS
    dataset_labels = (("Edges → digits (pairs, for pix2pix)", "edges2digits"),
                      ("Blurred → sharp digits (pairs, for pix2pix)", "blur2digits"))
    latent = False          # G(a) has no z: Isola et al. found G learned to ignore one (section 2.1)
    # lambda_L1: weight of the L1 term in G's loss; 100 in Isola et al. 2017 (section 4, eq. 4), junyanz's default.
    KNOBS = {"lambda_l1": ("L1 weight lambda_L1", 0, 1000, 100.0)}

    def __init__(self, run):
        super().__init__(run)
        a, b, label = run.source.held_out()                                   # (500, 1, 32, 32) x2, (500,)
        pick = torch.cat([torch.nonzero(label == c).squeeze(1)[:PER_CLASS_SHOWN] for c in range(10)])  # (20,)
        self.view_a, self.view_b = a[pick], b[pick]
        self._fake_for_g = None

    # ---- built without a run ------------------------------------------------------------------------------------
    @staticmethod
    def check_config(config) -> None:
        _check_choice("data", config.data, PAIRED_TASKS)
        if config.image_size not in (0, SIDE):
            raise ConfigError(f"the paired digit tasks are {SIDE} px; image size must be 0 or {SIDE}")
        if config.depth > 3:
            raise ConfigError("depth (the PatchGAN's strided layers) must be 1 to 3 at 32 px")

    @staticmethod
    def model_choices(data: str) -> list:
        return [("pix2pix: U-Net G + PatchGAN D", "unet")]

    @staticmethod
    def describe(config) -> str:
        return f"pix2pix: U-Net G (width {config.width}) + PatchGAN D ({config.depth} layers)"

    @staticmethod
    def build_source(config, device):
        from ganengine.data.paired import PairedDigitSource
        return PairedDigitSource(config.data, seed=stream(config.seed, DATA), device=device)

    @staticmethod
    def build_nets(config, spec) -> dict:
        from ganengine.models.patchgan import PatchDiscriminator
        from ganengine.models.unet import UNetGenerator
        c = spec.shape[0]
        return {"G": UNetGenerator(in_channels=c, out_channels=c, image_size=spec.shape[-1], width=config.width),
                "D": PatchDiscriminator(in_channels=c, out_channels=c, width=config.width, n_layers=config.depth)}

    @staticmethod
    def guess_spec(config):
        from ganengine.data.spec import DataSpec
        return DataSpec(name=config.data, title=config.data, kind="paired", shape=(1, SIDE, SIDE), num_classes=10)

    @staticmethod
    def cost_forwards(nets: dict, config, spec, batch: int):
        G, D = nets["G"], nets["D"]
        a = torch.empty(batch, *spec.shape)                                                # (B, 1, 32, 32)
        return (lambda: G(a)), (lambda fake: D(a, torch.empty_like(fake)))

    # ---- training ---------------------------------------------------------------------------------------------
    def _d_update(self, out: dict, keep_fake: bool) -> None:
        run, k = self.run, self.run.knobs
        G, D = run.nets["G"], run.nets["D"]
        a, b, _ = run.source.sample(k.batch_size)                  # input, target: (B, 1, 32, 32) each
        with torch.set_grad_enabled(keep_fake):
            fake = G(a)                                            # G(a): (B, 1, 32, 32)
        self._fake_for_g = (a, b, fake) if keep_fake else None
        loss, l_r, l_f = run.adversarial.d_loss(lambda x: D(a, x), b, fake.detach(), k, run.noise_gen)
        out["grad/D"] = run.update("D", loss)                      # descend L_D in D's weights
        l_r, l_f = l_r.detach(), l_f.detach()                      # patch logits (B, 1, h, w)
        run.adversarial.record(l_r, l_f)
        out["loss/D"], out["D(x)"], out["D(G(z))/before"] = loss.detach(), torch.sigmoid(l_r).mean(), \
            torch.sigmoid(l_f).mean()

    def _g_update(self, out: dict) -> None:
        run, k = self.run, self.run.knobs
        if self._fake_for_g is not None:                           # this iteration's batch and fakes
            a, b, fake = self._fake_for_g
            self._fake_for_g = None
        else:                                                      # a G-only step: a fresh batch
            a, b, _ = run.source.sample(k.batch_size)
            fake = run.nets["G"](a)
        with run.frozen("D"):                                      # no gradient for D's weights
            l_f = run.nets["D"](a, fake)                           # D has moved since it scored these fakes
            loss_gan = run.adversarial.g_loss(l_f, k)              # fool D ...
            loss_l1 = (fake - b).abs().mean()                      # ... and stay near the target (L1: less blur)
            loss = loss_gan + k.get("lambda_l1") * loss_l1
        out["grad/G"] = run.update("G", loss)                      # descend L_G in G's weights (then EMA)
        out["loss/G"], out["loss/G/GAN"], out["loss/G/L1"] = loss.detach(), loss_gan.detach(), loss_l1.detach()
        out["D(G(z))/after"] = torch.sigmoid(l_f.detach()).mean()

    def forget_transient(self) -> None:
        self._fake_for_g = None

    # ---- translating, views, metrics --------------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, a: torch.Tensor) -> torch.Tensor:
        """G's outputs (the EMA copy when EMA is on) for inputs a (B, 1, 32, 32) in [-1, 1], in eval mode."""
        G = self.run.sampler()
        with eval_mode(G):
            return G(a.to(self.run.device))

    def render(self) -> dict:
        """strips: input | output | target rows of 20 fixed held-out pairs (2 per class), one column a pair."""
        return self._strips(self.run.sampler())

    def render_job(self):
        G = frozen_copy(self.run.sampler())
        return lambda: self._strips(G)

    @torch.no_grad()
    def _strips(self, G) -> dict:
        with eval_mode(G):
            out = G(self.view_a.to(self.run.device)).float().cpu()                  # (20, 1, 32, 32)
        rows = torch.cat([self.view_a.cpu(), out, self.view_b.cpu()]).numpy()       # (60, 1, 32, 32)
        return {"strips": image_grid(rows, nrow=len(out))}

    def caption(self, view: str) -> str:
        what = {"edges2digits": "edge map", "blur2digits": "blurred digit"}.get(self.run.config.data, "input")
        return (f"Rows: the {what} · G's output · the real digit, for 20 held-out pairs (2 of each class) "
                f"never trained on")

    def quality_job(self, n: int):
        """L1, PSNR, SSIM on the 500 held-out pairs and the digit classifier's accuracy on the outputs."""
        G = frozen_copy(self.run.sampler()).cpu()
        a, b, label = (t.cpu() for t in self.run.source.held_out())
        return lambda: translation_report(G, a, b, label)

    # ---- the CLI's verbs ----------------------------------------------------------------------------------------
    @staticmethod
    def evaluate(ckpt: dict, *, n: int, seed: int) -> dict:
        """`eval`: the quality job's metrics of a checkpoint's G (EMA when saved) on the 500 held-out pairs."""
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.paired import PairedDigitSource
        G, config, _ = generator_from_checkpoint(ckpt)
        a, b, label = PairedDigitSource(config.data, seed=0).held_out()
        return {"task": config.data, **translation_report(G, a, b, label)}

    @staticmethod
    def translate_split(ckpt: dict, *, split: str, n: int, seed: int, direction=None, style=None) -> dict:
        """`translate --split`: n pairs of a split (test: the 500 held out; train), drawn without replacement with
        the seed, and G's outputs: float32 input, output, target (N, C, H, W) in [-1, 1], int64 label (N,)."""
        _one_way(direction, style)
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.images import to_unit_range
        from ganengine.data.paired import load_paired_digits
        G, config, _ = generator_from_checkpoint(ckpt)
        data = load_paired_digits(config.data)
        idx = pick_split(data, split, n, seed)
        a, b = to_unit_range(data["input"][idx]), to_unit_range(data["target"][idx])
        with torch.no_grad():
            out = torch.cat([G(chunk) for chunk in a.split(250)])
        return {"input": a.numpy().astype(np.float32), "output": out.numpy().astype(np.float32),
                "target": b.numpy().astype(np.float32), "label": data["label"][idx].numpy().astype(np.int64)}

    @staticmethod
    def translate_image(ckpt: dict, path, direction=None, style=None) -> np.ndarray:
        """`translate --input`: one image file (a sketch: light strokes on dark, or dark on light, inverted then)
        -> G's output as a uint8 (32, 32, 3) image."""
        _one_way(direction, style)
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.images import read_image
        G, _, _ = generator_from_checkpoint(ckpt)
        x = torch.from_numpy(np.array(read_image(path, SIDE, 1))).float().div(255)[None]  # (1, 1, 32, 32) in [0, 1]
        if x.mean() > 0.5:                                                        # dark strokes on white paper
            x = 1 - x
        with torch.no_grad():
            out = G(x * 2 - 1)                                                    # (1, 1, 32, 32) in [-1, 1]
        return image_grid(out.numpy(), nrow=1, pad=0)


def pick_split(data: dict, split: str, n: int, seed: int) -> torch.Tensor:
    """n indices of a split (test: the held-out pairs; train), drawn without replacement with the seed, from a
    load_paired_digits-like dict; ConfigError if n does not fit the split."""
    pool = data["test" if split == "test" else "train"]
    if not 1 <= n <= len(pool):
        raise ConfigError(f"--n must be 1 to {len(pool)} for the {split} split")
    return pool[torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:n]]


def _one_way(direction, style=None) -> None:
    if style is not None:
        raise ConfigError("a pix2pix checkpoint has no styles; drop --style")
    if direction is not None:
        raise ConfigError("a pix2pix checkpoint translates one way (input -> image); drop --direction")


@torch.no_grad()
def translation_report(G, a, b, label) -> dict:
    from ganengine.metrics.image_quality import translation_metrics
    out = torch.cat([G(chunk) for chunk in a.split(250)])    # (N, 1, 32, 32)
    return {"kind": "translation", **translation_metrics(out, b, label)}
