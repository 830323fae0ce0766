"""The CoGAN family (Liu & Tuzel 2016, "Coupled Generative Adversarial Networks"): two GANs, one per domain, trained
on two sets of images with no pairs between them, whose generators share their first layers and whose discriminators
share their last ones (ganengine/models/coupled.py). The shared weights must serve both domains, so the cheapest
solution is one joint one: the same z then draws *the same digit* in both domains (a digit and its negative, a
digit and its edges), although no training pair ever showed what "the same" means. Data: ganengine.data.unpaired's
digits-negatives and digits-edges (the paper's section 5 tasks): two disjoint halves of the bundled digits, the
second half transformed.

The objective (eq. 2 of the paper, one GAN game per domain with tied weights), for real batches x1 ~ domain 1 and
x2 ~ domain 2 drawn independently and z ~ N(0, I) shared by both generators:
  L_D = d(D1(x1), D1(G1(z))) + d(D2(x2), D2(G2(z)))
  L_G = g(D1(G1(z))) + g(D2(G2(z)))
with g, d the loss knob's pair (ganengine.losses; the presets use lsgan, as FAMILIES.md's settings) through
run.adversarial, so GP, R1 and smoothing apply too. A shared weight gets the sum of both games' gradients.

How many layers are shared is the model (RunConfig.model: shared3, shared2, shared1, shared0): it changes the nets'
structure, so it is a setting of the run (the next start), not a live knob. shared3 shares all but G's last layer and
D's first (the paper shares all but the last G layer for digits); shared0 is two unrelated GANs (the cogan-unshared
preset, which fails on purpose: each G draws good digits of its own domain, but not the same digit).

One iteration ("both") is Goodfellow et al.'s Algorithm 1 for both games at once (Family.train_step): d_steps D
updates, each on fresh real batches and fresh fakes, then one G update on the last D update's fakes.
Scalars: loss/D and loss/G (each the mean over the two games), D(x), D(G(z))/before, D(G(z))/after (means over
the two Ds), grad/G, grad/D, and per discriminator D(x)/D1, D(x)/D2, D(G(z))/D1, D(G(z))/D2.
"""
from __future__ import annotations

import numpy as np
import torch

from ganengine.config import COUPLED_MODELS, COUPLED_TASKS, ConfigError, _check_choice
from ganengine.families.base import Family, eval_mode, frozen_copy
from ganengine.models.coupled import g_layer_counts
from ganengine.render import image_grid
from ganengine.seeds import DATA, FIXED_NOISE, REFERENCE, stream

SIDE = 32              # ganengine.data.unpaired pads the digits 28 -> 32
N_PAIRS_SHOWN = 32     # the pairs view: 32 fixed z, 8 pairs a row
N_CHECK_SHOWN = 16     # the agreement view: 16 of them, as G1(z) | T(G1(z)) | G2(z) rows
N_QUALITY = 500        # pairs the live quality job measures (every few seconds, beside training)
# Tasks whose nets have the paper's full-resolution ends (ganengine.models.coupled: G's last layer a stride-1 conv at
# 32 px, D's first a stride-1 5x5 conv + max-pool): thin 1 px edges, which the strided ends render and judge as a
# dotted grid (bench/COGAN.md); on today's soft edges the strided ends, at twice the iterations, still scored lower
# (seed 0, 120 s: 45.3% of pairs read as one digit against 60.1%); negatives keep the cheaper strided ends.
FULL_RESOLUTION_TASKS = ("digits-edges",)


def shared_layers(model: str) -> int:
    """The number of shared layers a model name says (shared3 -> 3)."""
    return int(model.removeprefix("shared"))


class CoGANFamily(Family):
    name = "cogan"
    phases = ("both", "d", "g")
    scalars = ("loss/D", "loss/G", "D(x)", "D(G(z))/before", "D(G(z))/after", "grad/G", "grad/D",
               "D(x)/D1", "D(x)/D2", "D(G(z))/D1", "D(G(z))/D2")
    guarded = {"loss/D": "D(x)", "loss/G": "D(G(z))/after"}
    nets = ("G", "D")              # G = G1 and G2 in one module, D = D1 and D2 (ganengine.models.coupled)
    groups = {"G": ("G",), "D": ("D",)}
    sampling = ("G",)
    views = ("pairs", "agreement")
    stage_notes = {  # slow motion's words for this family (Family.stage_notes)
        "D/sample": "CoGAN's G is two generators sharing their first layers: one z makes a pair of images, one "
                    "per domain (Liu & Tuzel 2016).",
        "D/classify": "Two Ds, sharing their last layers, each score their own domain.",
    }
    verbs = ("sample",)
    datasets = COUPLED_TASKS
    dataset_labels = (("Digits + negatives, unpaired (for CoGAN)", "digits-negatives"),
                      ("Digits + edges, unpaired (for CoGAN)", "digits-edges"))

    def __init__(self, run):
        super().__init__(run)
        g = torch.Generator().manual_seed(stream(run.config.seed, FIXED_NOISE))
        self.fixed_z = torch.randn(N_PAIRS_SHOWN, run.config.latent_dim, generator=g).to(run.device)  # (32, latent)
        self._fake_for_g = None

    # ---- built without a run ------------------------------------------------------------------------------------
    @staticmethod
    def check_config(config) -> None:
        _check_choice("data", config.data, COUPLED_TASKS)
        _check_choice("model", config.model, COUPLED_MODELS)
        if config.image_size not in (0, SIDE):
            raise ConfigError(f"the coupled digit tasks are {SIDE} px; image size must be 0 or {SIDE}")

    @staticmethod
    def model_choices(data: str) -> list:
        return [("CoGAN: 3 layers shared (the paper's way)", "shared3"), ("CoGAN: 2 layers shared", "shared2"),
                ("CoGAN: 1 layer shared", "shared1"), ("No sharing: two separate GANs (pairs fall apart)", "shared0")]

    @staticmethod
    def describe(config) -> str:
        k = shared_layers(config.model)
        if config.data in FULL_RESOLUTION_TASKS:
            g_shared, n = g_layer_counts(k, True)
            return (f"2 DCGAN G sharing their first {g_shared} of {n} layers (own stride-1 heads at 32 px) + 2 D "
                    f"sharing their last {k} of 4 (own stride-1 conv + max-pool first) (width {config.width})")
        return (f"2 DCGAN G sharing their first {k} of 4 layers + 2 D sharing their last {k} of 4 (width "
                f"{config.width})")

    @staticmethod
    def build_source(config, device):
        from ganengine.data.unpaired import UnpairedDigitSource
        return UnpairedDigitSource(config.data, seed=stream(config.seed, DATA), device=device)

    @staticmethod
    def build_nets(config, spec) -> dict:
        from ganengine.models.coupled import CoupledDiscriminator, CoupledGenerator
        k, c = shared_layers(config.model), spec.shape[0]
        full = config.data in FULL_RESOLUTION_TASKS     # the paper's stride-1 layers at 32 px (module docstring)
        return {"G": CoupledGenerator(latent_dim=config.latent_dim, channels=c, width=config.width, shared=k,
                                      head="full" if full else "convt"),
                "D": CoupledDiscriminator(channels=c, width=config.width, shared=k, pool=full)}

    @staticmethod
    def guess_spec(config):
        from ganengine.data.spec import DataSpec
        return DataSpec(name=config.data, title=config.data, kind="unpaired", shape=(1, SIDE, SIDE), num_classes=10)

    @staticmethod
    def cost_forwards(nets: dict, config, spec, batch: int):
        """G = one coupled forward (both images), D = both Ds on one batch each: ganengine.cost's d_steps (G + 6 D)
        + 3 D + 2 G then counts what an iteration runs, as for the gan family."""
        G, D = nets["G"], nets["D"]
        z = torch.empty(batch, config.latent_dim)                                          # (B, latent)
        return (lambda: G(z)[0]), (lambda fake: D(fake, fake))

    # ---- training ---------------------------------------------------------------------------------------------
    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.run.config.latent_dim, device=self.run.device, generator=self.run.noise_gen)

    def _d_update(self, out: dict, keep_fake: bool) -> None:
        """One step on L_D; keep_fake: keep G's fakes (and graph) for the G update that follows."""
        run, k = self.run, self.run.knobs
        G, D = run.nets["G"], run.nets["D"]
        x1, x2 = run.source.sample(k.batch_size)                  # unpaired real batches: (B, 1, 32, 32) each
        with torch.set_grad_enabled(keep_fake):
            f1, f2 = G(self._noise(len(x1)))                      # one z -> a domain-1 and a domain-2 fake
        self._fake_for_g = (f1, f2) if keep_fake else None
        loss1, lr1, lf1 = run.adversarial.d_loss(D.critic(0), x1, f1.detach(), k, run.noise_gen)  # D1's game
        loss2, lr2, lf2 = run.adversarial.d_loss(D.critic(1), x2, f2.detach(), k, run.noise_gen)  # D2's game
        out["grad/D"] = run.update("D", loss1 + loss2)            # descend L_D (shared layers: both gradients)
        lr1, lf1, lr2, lf2 = (t.detach() for t in (lr1, lf1, lr2, lf2))
        run.adversarial.record(torch.cat([lr1, lr2]), torch.cat([lf1, lf2]))
        p = {name: torch.sigmoid(t).mean() for name, t in (("x1", lr1), ("x2", lr2), ("f1", lf1), ("f2", lf2))}
        out["loss/D"] = (loss1.detach() + loss2.detach()) / 2
        out["D(x)/D1"], out["D(x)/D2"], out["D(G(z))/D1"], out["D(G(z))/D2"] = p["x1"], p["x2"], p["f1"], p["f2"]
        out["D(x)"], out["D(G(z))/before"] = (p["x1"] + p["x2"]) / 2, (p["f1"] + p["f2"]) / 2

    def _g_update(self, out: dict) -> None:
        run, k = self.run, self.run.knobs
        if self._fake_for_g is not None:                          # the fakes of this iteration's last D update
            f1, f2 = self._fake_for_g
            self._fake_for_g = None
        else:                                                     # a G-only step: fresh noise
            f1, f2 = run.nets["G"](self._noise(k.batch_size))
        D = run.nets["D"]
        with run.frozen("D"):                                     # no gradient for D's weights
            l1, l2 = D.critic(0)(f1), D.critic(1)(f2)             # both Ds have moved since they scored these
            loss = run.adversarial.g_loss(l1, k) + run.adversarial.g_loss(l2, k)   # fool both, one z
        out["grad/G"] = run.update("G", loss)                     # descend L_G (shared layers: both gradients)
        out["loss/G"] = loss.detach() / 2
        out["D(G(z))/after"] = (torch.sigmoid(l1.detach()).mean() + torch.sigmoid(l2.detach()).mean()) / 2

    def forget_transient(self) -> None:
        self._fake_for_g = None

    # ---- sampling, views, metrics -----------------------------------------------------------------------------
    @torch.no_grad()
    def pair(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(G1(z), G2(z)) for latents z (B, latent), each (B, 1, 32, 32) in [-1, 1] on the CPU, from the sampling
        copy (EMA when on): the engine-side call for exploring a CoGAN's latent space."""
        G = self.run.sampler("G")
        with eval_mode(G):
            a, b = G(z.to(self.run.device))
        return a.float().cpu(), b.float().cpu()

    @staticmethod
    def draw_latents(G, z: torch.Tensor, y=None) -> torch.Tensor:
        """The pair of each z side by side, G1(z) | G2(z): (B, 1, 32, 65) (ganengine.models.coupled)."""
        return G.side_by_side(z)

    def render(self) -> dict:
        return self._views(self.run.sampler("G"))

    def render_job(self):
        G = frozen_copy(self.run.sampler("G"))
        return lambda: self._views(G)

    @torch.no_grad()
    def _views(self, G) -> dict:
        """pairs: the 32 fixed z as 8 pairs a row, each G1(z) | G2(z) (a grey line between); agreement: rows
        G1(z), T(G1(z)) (the known transform), G2(z) for the first 16."""
        from ganengine.metrics.coupled import transform
        with eval_mode(G):
            a, b = (t.float().cpu() for t in G(self.fixed_z.to(next(G.parameters()).device)))  # (32, 1, 32, 32)
        pairs = torch.cat([a, torch.zeros_like(a[..., :1]), b], dim=-1).numpy()  # (32, 1, 32, 65), grey between
        n = N_CHECK_SHOWN
        check = torch.cat([a[:n], transform(self.run.config.data, a[:n]), b[:n]]).numpy()       # (48, 1, 32, 32)
        return {"pairs": image_grid(pairs, nrow=8), "agreement": image_grid(check, nrow=n)}

    def caption(self, view: str) -> str:
        d1, d2 = self.run.spec.extra.get("domains", ("digit", "other"))
        k = shared_layers(self.run.config.model)
        g_shared, n = g_layer_counts(k, self.run.config.data in FULL_RESOLUTION_TASKS)
        sharing = (f"G1 and G2 share their first {g_shared} of {n} layers, D1 and D2 their last {k}"
                   if k else "nothing is shared: two separate GANs, so nothing ties a pair together")
        if view == "agreement":
            return (f"The pixel-agreement check on 16 of the fixed z: G1(z) ({d1}) · T(G1(z)), the known "
                    f"{d1} -> {d2} transform applied to it · G2(z) ({d2}). Where the joint distribution is learnt, "
                    f"rows 2 and 3 match, though no training image was ever shown with its partner")
        return (f"One z -> a linked pair: 32 fixed z, each drawn by G1 ({d1}, left) and G2 ({d2}, right). {sharing}"
                f" (the model setting; it changes the nets' structure, so it takes effect at the next start)")

    def quality_job(self, n: int):
        """ganengine.metrics.coupled's report on N_QUALITY pairs of fixed latents, from a frozen copy of G."""
        G = frozen_copy(self.run.sampler("G")).cpu()
        task, z = self.run.config.data, self._quality_latents(self.run.config)
        real = tuple(t.cpu() for t in self.run.source.held_out())

        def job():
            from ganengine.metrics.coupled import coupled_report
            return coupled_report(G, task, z, real)
        return job

    @staticmethod
    def _quality_latents(config) -> torch.Tensor:
        g = torch.Generator().manual_seed(stream(config.seed, REFERENCE))
        return torch.randn(N_QUALITY, config.latent_dim, generator=g)                         # (500, latent)

    # ---- the CLI's verbs ----------------------------------------------------------------------------------------
    sample_suffixes = (".npz",)

    @staticmethod
    def sample_arrays(ckpt: dict, *, n: int, seed: int, ema: bool = True) -> dict:
        """`sample --out pairs.npz`: float32 a = G1(z) and b = G2(z), (n, 1, 32, 32) in [-1, 1], from the same n
        latents z (ganengine.latents.sample_latents(n, latent, seed)), and z itself."""
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.latents import sample_latents
        G, config, _ = generator_from_checkpoint(ckpt, ema=ema)
        z = sample_latents(n, config.latent_dim, seed)
        with torch.no_grad():
            pairs = [G(c) for c in z.split(1000)]
        a = torch.cat([p[0] for p in pairs]).numpy().astype(np.float32)
        b = torch.cat([p[1] for p in pairs]).numpy().astype(np.float32)
        return {"a": a, "b": b, "z": z.numpy().astype(np.float32)}

    @staticmethod
    def evaluate(ckpt: dict, *, n: int, seed: int) -> dict:
        """`eval`: the quality job's metrics of a checkpoint's G (EMA when saved) on n pairs of latents of a seed."""
        from ganengine.checkpoint import generator_from_checkpoint
        from ganengine.data.unpaired import UnpairedDigitSource
        from ganengine.latents import sample_latents
        from ganengine.metrics.coupled import coupled_report
        G, config, _ = generator_from_checkpoint(ckpt)
        real = UnpairedDigitSource(config.data, seed=0).held_out()
        return coupled_report(G, config.data, sample_latents(n, config.latent_dim, seed), real)
