"""The CycleGAN family (Zhu, Park, Isola & Efros 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks"): two generators G_AB: A -> B and G_BA: B -> A learn from two unpaired sets of images, two
PatchGAN discriminators D_A (real A vs G_BA's fakes) and D_B (real B vs G_AB's fakes) judge them, and the cycle
G_BA(G_AB(a)) ~ a, G_AB(G_BA(b)) ~ b ties each translation to its input. Data: ganengine.data.unpaired.

Names: the paper's G, F, D_Y, D_X are G_AB, G_BA, D_B, D_A here (each D is named after the domain it judges);
junyanz's cycle_gan_model.py calls them G_A, G_B, D_A (judges B!) and D_B.

The objective, for a batch a ~ A and an independent batch b ~ B (eq. 1-3, with the identity term of section 5.2):
  L_G = g(D_B(G_AB(a))) + g(D_A(G_BA(b)))                                   adversarial, eq. 1 for each direction
      + lambda_cycle * (|G_BA(G_AB(a)) - a|_1 + |G_AB(G_BA(b)) - b|_1)      cycle consistency, eq. 2; lambda 10
      + lambda_identity * lambda_cycle * (|G_AB(b) - b|_1 + |G_BA(a) - a|_1)  identity mapping (Taigman et al.
                                                                            2017): 0.5 x lambda (appendix 7.1)
  L_D = d(D_A(a), D_A(pool_A(G_BA(b)))) + d(D_B(b), D_B(pool_B(G_AB(a))))   each d already halved ("we divide the
                                                                            objective by 2 while optimizing D")
with g, d the loss knob's pair (ganengine.losses; the preset uses lsgan, as the paper: "we replace the negative log
likelihood objective by a least-squares loss", section 4) through run.adversarial, so GP, R1 and smoothing apply too.
|.|_1 is the mean absolute error per pixel (junyanz's L1Loss). junyanz's lsgan G term is MSE(D(G(x)), 1); ours is
half that (ganengine.losses.lsgan_g = E (l_f - 1)^2 / 2, Mao et al.'s form), so the same lambda_cycle weighs the
cycle twice as much against the adversarial term as junyanz's code does.
The pools (ganengine.replay_pool, 50 images each) give D half old fakes; their images and random state are this
family's extra state, restored by rewind, rollback and checkpoints.

One iteration ("both") is junyanz's optimize_parameters: a G update on L_G with D frozen, then a D update on L_D
with the same batch's fakes (through the pools); with d_steps > 1 the further D updates draw fresh batches. "g" is a
G update alone (its fakes do not enter the pools), "d" a D update alone on fresh fakes.

Scalars, each the mean over the two directions so the shared curves and diagnostics read them as one GAN's:
loss/D, loss/G (= L_G / 2), loss/G/GAN, loss/G/cycle and loss/G/identity (unweighted L1s; identity is measured
without gradient when its weight is 0, so its curve shows what turning it off does), D(x), D(G(z))/before (D's
outputs on the pooled fakes it trains on), D(G(z))/after (on the fresh fakes, in G's update), grad/G, grad/D; and
per discriminator D(x)/D_A, D(x)/D_B, D(G(z))/D_A, D(G(z))/D_B (the /before values). D(.) = sigmoid of the output,
as for every family (ganengine.losses).
Networks: ganengine/models/resnet.py (width = RunConfig.width, RunConfig.depth residual blocks) and the PatchCritic
of patchgan.py (width too, D_LAYERS strided layers); sizes measured in bench/cyclegan_probe.py.
"""
from __future__ import annotations

import numpy as np
import torch

from ganengine.config import UNPAIRED_TASKS, ConfigError, _check_choice
from ganengine.families.base import Family, eval_mode, frozen_copy
from ganengine.render import image_grid
from ganengine.replay_pool import ReplayPool
from ganengine.seeds import DATA, POOL, stream

SIDE = 32               # ganengine.data.unpaired pads the digits 28 -> 32
D_LAYERS = 2            # PatchGAN strided layers: 6x6 logits, each seeing 34 px (the digit and its border)
PER_CLASS_SHOWN = 2     # the views' fixed held-out digits: the first 2 of each class (20 columns)
DIRECTIONS = ("ab", "ba")


class CycleGANFamily(Family):
    name = "cyclegan"
    phases = ("both", "g", "d")
    scalars = ("loss/D", "loss/G", "loss/G/GAN", "loss/G/cycle", "loss/G/identity", "D(x)", "D(G(z))/before",
               "D(G(z))/after", "grad/G", "grad/D", "D(x)/D_A", "D(x)/D_B", "D(G(z))/D_A", "D(G(z))/D_B")
    guarded = {"loss/D": "D(x)", "loss/G": "D(G(z))/after"}
    nets = ("G_AB", "G_BA", "D_A", "D_B")
    groups = {"G": ("G_AB", "G_BA"), "D": ("D_A", "D_B")}
    sampling = ("G_AB", "G_BA")
    views = ("cycles", "identity")
    stage_notes = {  # slow motion's words for this family (Family.stage_notes)
        "G/sample": "CycleGAN's G phase comes first: G_AB and G_BA translate both batches, and back again.",
        "G/loss": "Besides fooling both Ds, each image must come back to itself after the round trip (the "
                  "cycle loss, Zhu et al. 2017, eq. 2), and an image already in the target domain stays put.",
        "D/sample": "Half the fakes each D sees come from a pool of older fakes (Shrivastava et al. 2017).",
    }
    verbs = ("translate",)
    datasets = UNPAIRED_TASKS
    dataset_labels = (("Thin ↔ thick strokes (two unpaired halves, for CycleGAN)", "thin2thick"),)
    latent = False          # G_AB(a), G_BA(b) have no z
    KNOBS = {
        # lambda_cycle: weight of the cycle-consistency L1 (eq. 2) in each direction; lambda = 10 in Zhu et al.
        # 2017 (section 4, "Training details"), junyanz's --lambda_A / --lambda_B.
        "lambda_cycle": ("cycle weight lambda_cycle", 0, 1000, 10.0),
        # lambda_identity: the identity-mapping L1 weight as a multiple of lambda_cycle; 0.5 (appendix 7.1: "the
        # weight for the identity mapping loss was 0.5 lambda"), junyanz's --lambda_identity convention.
        "lambda_identity": ("identity weight (x lambda_cycle)", 0, 10, 0.5),
    }

    def __init__(self, run):
        super().__init__(run)
        a, b, label = run.source.held_out()                                  # (500, 1, 32, 32) x2, (500,)
        pick = torch.cat([torch.nonzero(label == c).squeeze(1)[:PER_CLASS_SHOWN] for c in range(10)])  # (20,)
        self.view_a, self.view_b = a[pick], b[pick]
        g = torch.Generator().manual_seed(stream(run.config.seed, POOL))    # one seed per pool from the run's
        seed_a, seed_b = (int(s) for s in torch.randint(2**62, (2,), generator=g))
        self.pools = {"A": ReplayPool(seed_a), "B": ReplayPool(seed_b)}     # past G_BA(b) for D_A, G_AB(a) for D_B

    # ---- built without a run ------------------------------------------------------------------------------------
    @staticmethod
    def check_config(config) -> None:
        _check_choice("data", config.data, UNPAIRED_TASKS)
        if config.image_size not in (0, SIDE):
            raise ConfigError(f"the unpaired digit tasks are {SIDE} px; image size must be 0 or {SIDE}")

    @staticmethod
    def model_choices(data: str) -> list:
        return [("CycleGAN: 2 ResNet G + 2 PatchGAN D", "resnet")]

    @staticmethod
    def describe(config) -> str:
        return (f"2 ResNet G (width {config.width}, {config.depth} residual blocks) + 2 PatchGAN D (width "
                f"{config.width} x {D_LAYERS} layers)")

    @staticmethod
    def build_source(config, device):
        from ganengine.data.unpaired import UnpairedDigitSource
        return UnpairedDigitSource(config.data, seed=stream(config.seed, DATA), device=device)

    @staticmethod
    def build_nets(config, spec) -> dict:
        from ganengine.models.patchgan import PatchCritic
        from ganengine.models.resnet import ResnetGenerator
        c = spec.shape[0]
        G = dict(in_channels=c, out_channels=c, width=config.width, blocks=config.depth)
        D = dict(channels=c, width=config.width, n_layers=D_LAYERS)
        return {"G_AB": ResnetGenerator(**G), "G_BA": ResnetGenerator(**G), "D_A": PatchCritic(**D),
                "D_B": PatchCritic(**D)}

    @staticmethod
    def guess_spec(config):
        from ganengine.data.spec import DataSpec
        return DataSpec(name=config.data, title=config.data, kind="unpaired", shape=(1, SIDE, SIDE), num_classes=10)

    @staticmethod
    def cost_forwards(nets: dict, config, spec, batch: int):
        """G = the 6 generator passes of a G update (2 translations, 2 cycles, 2 identities), D = both Ds on one
        batch: ganengine.cost's d_steps (G + 6 D) + 3 D + 2 G is then 18 generator and 18 discriminator passes
        for d_steps 1, as one iteration here has (G update: 6 G + 2 D forwards, x3 with backward; D update: 4 D
        forwards, x3). Further D steps are overcounted (they run 2 G passes, not 6)."""
        G_AB, G_BA, D_A, D_B = (nets[n] for n in ("G_AB", "G_BA", "D_A", "D_B"))
        a = torch.empty(batch, *spec.shape)                                              # (B, 1, 32, 32)

        def g_forward():
            fake_b, fake_a = G_AB(a), G_BA(a)
            G_BA(fake_b), G_AB(fake_a), G_AB(a), G_BA(a)                                 # cycles, identities
            return fake_b
        return g_forward, (lambda fake: (D_A(fake), D_B(fake)))

    @staticmethod
    def check_extra_state(extra: dict, config, spec) -> None:
        """ValueError unless a checkpoint's extra state is two replay pools of this data's images."""
        if set(extra) - {"pool_A", "pool_B"}:
            raise ValueError(f"unexpected entries {sorted(map(str, extra))[:3]}")
        for name, state in extra.items():
            ReplayPool(0).set_state(state, tuple(spec.shape), "meta")

    # ---- training ---------------------------------------------------------------------------------------------
    def train_step(self, kind: str) -> dict:
        """"both": a G update then d_steps D updates (junyanz's order); "g" or "d": one update alone."""
        out = {}
        fakes = None
        if kind != "d":
            fakes = self._g_update(out)
        if kind != "g":
            for i in range(self.run.knobs.d_steps if kind == "both" else 1):
                self._d_update(out, fakes if i == 0 else None)
        return out

    def _g_update(self, out: dict):
        """One step on L_G (module docstring); returns (a, b, fake_b, fake_a), detached, for the D update."""
        run, k = self.run, self.run.knobs
        G_AB, G_BA, D_A, D_B = (run.nets[n] for n in self.nets)
        lam_cyc, lam_idt = k.get("lambda_cycle"), k.get("lambda_identity") * k.get("lambda_cycle")
        a, b = run.source.sample(k.batch_size)                    # unpaired batches: (B, 1, 32, 32) each
        fake_b, fake_a = G_AB(a), G_BA(b)                         # translations A -> B, B -> A
        rec_a, rec_b = G_BA(fake_b), G_AB(fake_a)                 # and back: the cycles
        with torch.set_grad_enabled(lam_idt > 0):                 # identity: a B image through G_AB stays itself
            idt = (G_AB(b) - b).abs().mean() + (G_BA(a) - a).abs().mean()  # (its curve is shown even at weight 0)
        with run.frozen("D"):                                     # no gradient for D's weights
            l_fb, l_fa = D_B(fake_b), D_A(fake_a)                 # patch logits (B, 1, 6, 6)
            gan = run.adversarial.g_loss(l_fb, k) + run.adversarial.g_loss(l_fa, k)   # fool both Ds ...
            cyc = (rec_a - a).abs().mean() + (rec_b - b).abs().mean()                 # ... come back to the input
            loss = gan + lam_cyc * cyc + (lam_idt * idt if lam_idt > 0 else 0.0)     # ... leave target images be
        out["grad/G"] = run.update("G", loss)                     # descend L_G in both Gs' weights (then EMA)
        out["loss/G"], out["loss/G/GAN"] = loss.detach() / 2, gan.detach() / 2        # means over the 2 directions
        out["loss/G/cycle"], out["loss/G/identity"] = cyc.detach() / 2, idt.detach() / 2
        out["D(G(z))/after"] = (torch.sigmoid(l_fb.detach()).mean() + torch.sigmoid(l_fa.detach()).mean()) / 2
        return a, b, fake_b.detach(), fake_a.detach()

    def _d_update(self, out: dict, fakes) -> None:
        """One step on L_D; fakes: the G update's (a, b, fake_b, fake_a), or None to draw a fresh batch."""
        run, k = self.run, self.run.knobs
        G_AB, G_BA, D_A, D_B = (run.nets[n] for n in self.nets)
        if fakes is None:                                         # a D-only step: fresh batches and fakes
            a, b = run.source.sample(k.batch_size)
            with torch.no_grad():
                fakes = (a, b, G_AB(a), G_BA(b))
        a, b, fake_b, fake_a = fakes
        fake_a, fake_b = self.pools["A"].query(fake_a), self.pools["B"].query(fake_b)  # half of them old fakes
        loss_a, lr_a, lf_a = run.adversarial.d_loss(D_A, a, fake_a, k, run.noise_gen)  # D_A: real A vs G_BA(b)
        loss_b, lr_b, lf_b = run.adversarial.d_loss(D_B, b, fake_b, k, run.noise_gen)  # D_B: real B vs G_AB(a)
        out["grad/D"] = run.update("D", loss_a + loss_b)          # descend L_D in both Ds' weights
        lr_a, lf_a, lr_b, lf_b = (t.detach() for t in (lr_a, lf_a, lr_b, lf_b))
        run.adversarial.record(torch.cat([lr_a.flatten(), lr_b.flatten()]), torch.cat([lf_a.flatten(), lf_b.flatten()]))
        p = {name: torch.sigmoid(t).mean() for name, t in (("xa", lr_a), ("xb", lr_b), ("fa", lf_a), ("fb", lf_b))}
        out["loss/D"] = (loss_a.detach() + loss_b.detach()) / 2
        out["D(x)/D_A"], out["D(x)/D_B"], out["D(G(z))/D_A"], out["D(G(z))/D_B"] = p["xa"], p["xb"], p["fa"], p["fb"]
        out["D(x)"], out["D(G(z))/before"] = (p["xa"] + p["xb"]) / 2, (p["fa"] + p["fb"]) / 2

    def extra_state(self) -> dict:
        return {f"pool_{d}": pool.get_state() for d, pool in self.pools.items()}

    def load_extra_state(self, state: dict) -> None:
        for d, pool in self.pools.items():
            if f"pool_{d}" in state:
                pool.set_state(state[f"pool_{d}"], tuple(self.run.spec.shape), self.run.device)

    # ---- translating, views, metrics --------------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, x: torch.Tensor, direction: str = "ab") -> torch.Tensor:
        """G_AB(x) ("ab") or G_BA(x) ("ba"), the EMA copies when EMA is on, for x (B, 1, 32, 32) in [-1, 1]."""
        G = self.run.sampler("G_AB" if direction == "ab" else "G_BA")
        with eval_mode(G):
            return G(x.to(self.run.device)).float()

    def render(self) -> dict:
        return self._views(self.run.sampler("G_AB"), self.run.sampler("G_BA"))

    def render_job(self):
        G_AB, G_BA = frozen_copy(self.run.sampler("G_AB")), frozen_copy(self.run.sampler("G_BA"))
        return lambda: self._views(G_AB, G_BA)

    @torch.no_grad()
    def _views(self, G_AB, G_BA) -> dict:
        """cycles: rows A | G_AB(A) | G_BA(G_AB(A)) | B | G_BA(B) | G_AB(G_BA(B)); identity: B | G_AB(B) | A |
        G_BA(A); 20 fixed held-out digits (2 per class) a column, B = the same digits' exact transform."""
        device = next(G_AB.parameters()).device
        a, b = self.view_a.to(device), self.view_b.to(device)                         # (20, 1, 32, 32) each
        with eval_mode(G_AB), eval_mode(G_BA):
            fake_b, fake_a = G_AB(a), G_BA(b)
            rec_a, rec_b = G_BA(fake_b), G_AB(fake_a)
            idt_b, idt_a = G_AB(b), G_BA(a)
        n = len(a)
        cycles = torch.cat([a, fake_b, rec_a, b, fake_a, rec_b]).float().cpu().numpy()  # (120, 1, 32, 32)
        identity = torch.cat([b, idt_b, a, idt_a]).float().cpu().numpy()               # (80, 1, 32, 32)
        return {"cycles": image_grid(cycles, nrow=n), "identity": image_grid(identity, nrow=n)}

    def caption(self, view: str) -> str:
        da, db = self.run.spec.extra.get("domains", ("A", "B"))
        if view == "identity":
            return (f"Identity check, 20 held-out digits: a {db} digit · G_AB of it · a {da} digit · G_BA of it. "
                    f"A generator handed an image already in its target domain should leave it alone; the identity "
                    f"loss asks for that. Without it (weight 0) G_AB also thickens digits that are already thick, "
                    f"and some runs swap digits while the cycle still closes")
        return (f"Cycles on 20 held-out digits (2 per class), never trained on: {da} A · G_AB(A) ({db}) · back "
                f"G_BA(G_AB(A)) · {db} B · G_BA(B) ({da}) · back G_AB(G_BA(B)). The translation should change the "
                f"style and keep the digit; the way back should match the first row of its half")

    def quality_job(self, n: int):
        """ganengine.metrics.cycle's report on the 500 held-out digits, from frozen copies of both Gs."""
        G_AB, G_BA = (frozen_copy(self.run.sampler(name)).cpu() for name in ("G_AB", "G_BA"))
        a, b, label = (t.cpu() for t in self.run.source.held_out())

        def job():
            from ganengine.metrics.cycle import cycle_report
            return cycle_report(G_AB, G_BA, a, b, label)
        return job

    # ---- the app's Translate tab ------------------------------------------------------------------------------
    translate_choice_label = "Direction"

    @staticmethod
    def translate_choices(spec) -> list:
        da, db = spec.extra.get("domains", ("A", "B"))
        return [(f"A → B: {da} → {db}, by G_AB", "ab"), (f"B → A: {db} → {da}, by G_BA", "ba")]

    @classmethod
    @torch.no_grad()
    def translate_with(cls, nets: dict, spec, x, choice=None, blend_to=None, blend: float = 0.0) -> dict:
        """x through G_AB ("ab", default) or G_BA ("ba"), and back through the other G: the cycle of Zhu et al.
        2017 (eq. 2), F(G(x)) ~ x, on an input of the visitor's."""
        da, db = spec.extra.get("domains", ("A", "B"))
        forward, backward, home = ((nets["G_AB"], nets["G_BA"], da) if (choice or "ab") == "ab"
                                   else (nets["G_BA"], nets["G_AB"], db))
        out = forward(x)                                                          # (B, 1, 32, 32)
        return {"output": out, "back": backward(out), "back_label": f"Back to {home} (the cycle)"}

    @staticmethod
    def translate_example(held_out: tuple, i: int, choice=None) -> tuple:
        """Held-out digit i: (a, T(a)) for "ab", (T(a), a) for "ba"; T is known, so the target is exact."""
        a, b, label = held_out
        x, target = (a, b) if (choice or "ab") == "ab" else (b, a)
        return x[i:i + 1], target[i:i + 1], int(label[i])

    # ---- the CLI's verbs ----------------------------------------------------------------------------------------
    @staticmethod
    def _generators(ckpt: dict):
        from ganengine.checkpoint import generator_from_checkpoint
        G_AB, config, _ = generator_from_checkpoint(ckpt, net="G_AB")
        G_BA, _, _ = generator_from_checkpoint(ckpt, net="G_BA")
        return G_AB, G_BA, config

    @staticmethod
    def _direction(direction, style=None) -> str:
        if style is not None:
            raise ConfigError("a cyclegan checkpoint translates between two domains; drop --style (use --direction)")
        direction = direction or "ab"
        if direction not in DIRECTIONS:
            raise ConfigError(f"--direction must be ab (A -> B) or ba (B -> A) for a cyclegan checkpoint; got "
                              f"{direction!r}")
        return direction

    @staticmethod
    def evaluate(ckpt: dict, *, n: int, seed: int) -> dict:
        """`eval`: the quality job's metrics of a checkpoint's Gs (EMA when saved) on the 500 held-out digits."""
        from ganengine.data.unpaired import UnpairedDigitSource
        from ganengine.metrics.cycle import cycle_report
        G_AB, G_BA, config = CycleGANFamily._generators(ckpt)
        a, b, label = UnpairedDigitSource(config.data, seed=0).held_out()
        return {"task": config.data, **cycle_report(G_AB, G_BA, a, b, label)}

    @staticmethod
    def translate_split(ckpt: dict, *, split: str, n: int, seed: int, direction=None, style=None) -> dict:
        """`translate --split`: n digits of a split, drawn without replacement with the seed, through G_AB
        (direction "ab", default) or G_BA ("ba"): float32 input, output, target (N, 1, 32, 32) in [-1, 1] and
        int64 label (N,). test: the 500 held out (a and T(a)); train: domain A's half for ab (target: its exact
        transform), domain B's half for ba (target: the digits before the transform). Targets were never
        training pairs: the halves hold different digits."""
        from ganengine.data.images import to_unit_range
        from ganengine.data.unpaired import load_unpaired_digits
        from ganengine.metrics.cycle import apply
        direction = CycleGANFamily._direction(direction, style)
        G_AB, G_BA, config = CycleGANFamily._generators(ckpt)
        data = load_unpaired_digits(config.data)
        pool = data["test"] if split == "test" else data["a_train" if direction == "ab" else "b_train"]
        if not 1 <= n <= len(pool):
            raise ConfigError(f"--n must be 1 to {len(pool)} for the {split} split")
        idx = pool[torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:n]]
        a, b = to_unit_range(data["a"][idx]), to_unit_range(data["b"][idx])          # (n, 1, 32, 32) each
        x, target, G = (a, b, G_AB) if direction == "ab" else (b, a, G_BA)
        return {"input": x.numpy().astype(np.float32), "output": apply(G, x).numpy().astype(np.float32),
                "target": target.numpy().astype(np.float32), "label": data["label"][idx].numpy().astype(np.int64)}

    @staticmethod
    def translate_image(ckpt: dict, path, direction=None, style=None) -> np.ndarray:
        """`translate --input`: one image file (light strokes on dark, or dark on light, inverted then) -> G_AB's
        (or G_BA's) output as a uint8 (32, 32, 3) image."""
        from ganengine.data.images import read_image
        direction = CycleGANFamily._direction(direction, style)
        G_AB, G_BA, _ = CycleGANFamily._generators(ckpt)
        x = torch.from_numpy(np.array(read_image(path, SIDE, 1))).float().div(255)[None]  # (1, 1, 32, 32) in [0, 1]
        if x.mean() > 0.5:                                                        # dark strokes on white paper
            x = 1 - x
        with torch.no_grad():
            out = (G_AB if direction == "ab" else G_BA)(x * 2 - 1)                # (1, 1, 32, 32) in [-1, 1]
        return image_grid(out.numpy(), nrow=1, pad=0)
