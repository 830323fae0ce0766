"""Family: what one GAN family declares and does; ganengine.run.GANRun does the rest (see its docstring).

Modelled on junyanz's BaseModel (loss_names / model_names / visual_names + optimize_parameters) and imaginaire's
BaseTrainer (gen_update / dis_update around a shared loop). A family declares, as class attributes:
  phases    the Step buttons; phases[0] is one full iteration (what continuous training repeats)
  scalars   the per-step scalars it reports, by name, in history order (loss/D, loss/G/L1, D(x), ...)
  guarded   loss scalar -> the scalar whose NaN means "not computed this step" (a D-only step has no G loss);
            the divergence guard checks each loss where it was computed
  nets      the networks' names; groups: optimiser group ("G" uses lr_g, "D" lr_d) -> the nets it updates
  sampling  the nets that get an EMA copy (and that sample / translate)
  views     named panels of render(); views[0] is the timeline frame; caption(view) says what one shows
  KNOBS     its own live knobs: name -> (label, low, high, default), each with its source in a comment
  verbs     CLI verbs it answers ("sample", "translate")
  datasets  the data names it trains on (one family per name: the app picks the family from the dataset)
  stage_notes  a sentence per slow-motion stage where the family differs from the generic story (its other losses)
and implements train_step(kind) -> {scalar name: 0-d tensor}, render() -> {view name: uint8 image, ...},
quality_job(n) -> a function measured off the training thread, and (when it has any) extra_state / load_extra_state
for what rewind must restore beyond weights, optimisers and the run's RNG (with check_extra_state for checkpoints).
A family that answers "translate" implements translate_split(ckpt, split=, n=, seed=, direction=, style=) -> arrays and
translate_image(ckpt, path, direction=, style=) -> uint8 image; direction and style are the CLI's --direction and
--style (None when not given), which the family validates (a family without directions or styles refuses them).
The app's Translate tab asks such a family, with nets it gets from a live run or a checkpoint: translate_choices
(directions or styles to pick from), translate_blend (whether two choices can be mixed), translate_input_shape (G's
input size), translate_fit_box (how large a drawing's digit is in it), translate_with (the output, and the cycle back where there is one) and translate_example (a held-out example).
A family that answers "sample" with more than one array (CoGAN's pairs) lists ".npz" in sample_suffixes and
implements sample_arrays(ckpt, n=, seed=, ema=) -> {name: array}; the others sample through the CLI's one-G path.
"""
from __future__ import annotations

import torch


class Family:
    name = ""
    phases: tuple = ("both",)
    scalars: tuple = ()
    guarded: dict = {}
    nets: tuple = ("G", "D")
    groups: dict = {"G": ("G",), "D": ("D",)}
    sampling: tuple = ("G",)
    views: tuple = ("grid",)
    KNOBS: dict = {}
    verbs: tuple = ()
    datasets: tuple = ()          # the data names it trains on (RunConfig.data); each belongs to one family
    dataset_labels: tuple = ()    # (label, data name) for the app's dataset menu, where the app does not list them
    latent: bool = True           # whether G draws from a latent z (RunConfig.latent_dim matters)
    translate_blend: bool = False  # the Translate tab can mix two of translate_choices (a style code interpolation)
    translate_choice_label: str = ""   # what translate_choices are, for the Translate tab's menu ("Direction")
    translate_fit_box: float = 20 / 32  # a drawn digit's box in G's input frame: MNIST's 20 px in the 32 px pad
    sample_suffixes: tuple = (".npy", ".png")  # what `sample --out` may write for this family
    # `sample` of a family whose samples are clips: a staticmethod (ckpt, *, n, seed) -> {"clips": float32
    # (N, T, C, H, W) in [-1, 1], "condition", ...}; None for a family that samples images from G(z)
    sample_clips = None
    # Slow motion (ganengine.slow_motion_stages) tells any family's iteration as GAN Lab's stages; a family adds a
    # sentence to a stage here: {"G/loss": "pix2pix adds lambda * L1 ..."}; keys "D/" or "G/" + sample, classify,
    # loss, gradients or update
    stage_notes: dict = {}

    def __init__(self, run):
        self.run = run

    # ---- built without a run (checkpoint validation builds nets on the meta device) -----------------------------
    @staticmethod
    def check_config(config) -> None:
        """ConfigError if a RunConfig does not fit this family."""

    @staticmethod
    def build_source(config, device):
        raise NotImplementedError

    @staticmethod
    def build_nets(config, spec) -> dict:
        """{net name: module} on the CPU (or the meta device), in a fixed order (the init draws from one seed)."""
        raise NotImplementedError

    @staticmethod
    def model_choices(data: str) -> list:
        """(label, RunConfig.model) pairs of the models it trains on ``data``, for the app's model menu."""
        return []

    @staticmethod
    def describe(config) -> str:
        """The nets in a few words, for the CLI's first line."""
        return config.model

    @staticmethod
    def guess_spec(config):
        """The DataSpec the config's data will have, without reading it (ganengine.cost's estimates)."""
        raise NotImplementedError

    @staticmethod
    def check_extra_state(extra: dict, config, spec) -> None:
        """ValueError (or TypeError, KeyError) if a checkpoint's extra state cannot be this family's: called by
        ganengine.checkpoint before anything is built, so a bad file is refused with one sentence."""

    @staticmethod
    def sample_note(ckpt: dict) -> str:
        """A line `sample` prints on stderr about a validated checkpoint's samples ("" for none)."""
        return ""

    @staticmethod
    def cost_forwards(nets: dict, config, spec, batch: int):
        """(g_forward() -> fakes, d_forward(fakes) -> logits) on meta tensors of a batch: the calls whose FLOPs
        ganengine.cost counts (an iteration ~ d_steps (G + 6 D) + 3 D + 2 G)."""
        raise NotImplementedError

    # ---- training ---------------------------------------------------------------------------------------------
    def train_step(self, kind: str) -> dict:
        """One iteration of the phases ("both", "d", "g"), Goodfellow et al. 2014, Algorithm 1 with k = d_steps:
        "both" = d_steps D updates then one G update; "d" = one D update; "g" = one G update. Each update writes
        its named scalars into the returned dict. Families with another order (G then D) override this."""
        out = {}
        if kind != "g":
            n = self.run.knobs.d_steps if kind == "both" else 1
            for i in range(n):  # the last D update of "both" keeps G's fakes (and graph) for the G update
                self._d_update(out, keep_fake=kind == "both" and i == n - 1)
        if kind != "d":
            self._g_update(out)
        return out

    def _d_update(self, out: dict, keep_fake: bool) -> None:
        raise NotImplementedError

    def _g_update(self, out: dict) -> None:
        raise NotImplementedError

    def forget_transient(self) -> None:
        """Drop anything kept between updates of one iteration (a restore or rewind happened)."""

    def extra_state(self) -> dict:
        return {}

    def load_extra_state(self, state: dict) -> None:
        pass

    # ---- views and metrics ------------------------------------------------------------------------------------
    def input_shape(self) -> tuple:
        """(C, H, W) of the images translate(x) takes (see translate_input_shape)."""
        return type(self).translate_input_shape(self.run.config, self.run.spec)

    @staticmethod
    def translate_input_shape(config, spec) -> tuple:
        """(C, H, W) of the images the family's G takes, known without a run (a checkpoint's config and spec): the
        data's own shape, unless the family's input differs (srgan: its low-res size)."""
        return tuple(spec.shape)

    def render(self) -> dict:
        raise NotImplementedError

    def render_job(self):
        """A function of no arguments that draws render()'s views from frozen copies (taken now, between two
        training steps; the function runs on another thread, so the training thread does not wait for the
        drawing), or None to have render() called on the training thread."""
        return None

    def caption(self, view: str) -> str:
        """One line under a view on the page: what the panel shows (its rows, its inputs)."""
        return ""

    def quality_job(self, n: int):
        """A function of no arguments returning a JSON-able dict of metrics, built from frozen copies (called
        between two training steps; the function itself runs on another thread)."""
        return lambda: {"kind": "none", "note": "no metric for this family"}

    @staticmethod
    def draw_latents(G, z: torch.Tensor, y=None) -> torch.Tensor:
        """What the sampling net G draws for latents z (B, latent) (and labels y), as one image (or point) per z:
        what the Explore tab shows. A family whose G returns several images for one z puts them in one picture."""
        return G(z, y)

    @staticmethod
    def sample_arrays(ckpt: dict, *, n: int, seed: int, ema: bool = True) -> dict:
        """`sample --out F.npz`: named float32 arrays of n samples (for families whose sample_suffixes has .npz)."""
        raise NotImplementedError

    @staticmethod
    def evaluate(ckpt: dict, *, n: int, seed: int) -> dict:
        """`eval`: the family's metrics of a validated checkpoint, JSON-able."""
        return {"kind": "none", "note": "no metric for this family"}

    # ---- the app's Translate tab (families with "translate" in verbs) ------------------------------------------
    @staticmethod
    def translate_choices(spec) -> list:
        """(label, value) pairs of what the Translate tab asks besides the image (a direction, a style), the first
        the default; [] when the family translates one way only."""
        return []

    @classmethod
    @torch.no_grad()
    def translate_with(cls, nets: dict, spec, x: torch.Tensor, choice=None, blend_to=None, blend: float = 0.0) -> dict:
        """The Translate tab's answer for inputs x (B, C, H, W) in [-1, 1] on the nets' device: {"output": G(x)}, and
        where the family has them "back" (the cycle back) with "back_label", "every" (one input in every choice)
        with "every_label". nets: {sampling net name: module in eval mode}; choice / blend_to are values of
        translate_choices (checked by the caller), blend in [0, 1] the share of blend_to."""
        return {"output": nets[cls.sampling[0]](x)}

    @staticmethod
    def translate_example(held_out: tuple, i: int, choice=None) -> tuple:
        """(input (1, C, H, W), target (1, C, H, W) or None, label) of held-out example i (the data source's
        held_out() tuple) for the choice; the default reads (inputs, targets, labels)."""
        a, b, label = held_out
        return a[i:i + 1], b[i:i + 1], int(label[i])


class eval_mode:
    """Context: module.eval() inside, its previous mode restored after (so sampling never updates BN statistics)."""

    def __init__(self, module):
        self.module, self.was_training = module, module.training

    def __enter__(self):
        self.module.eval()
        return self.module

    def __exit__(self, *exc):
        self.module.train(self.was_training)


def frozen_copy(module: torch.nn.Module) -> torch.nn.Module:
    """An eval-mode copy with no gradients: exploring or measuring it never disturbs training."""
    import copy
    m = copy.deepcopy(module).eval()
    m.requires_grad_(False)
    return m
