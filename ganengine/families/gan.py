"""The gan family: G(z, y) against D(x, y) on points or images; models mlp, dcgan and cgan (ganengine.models).

One iteration ("both") is ``d_steps`` D updates, then one G update (Goodfellow et al. 2014, Algorithm 1, with
k = d_steps). Each D update draws a fresh real batch x and noise z and minimises the loss knob's d(D(x), D(G(z)))
(+ penalties; ganengine.adversarial); the G update then minimises g(D(G(z))) with D frozen, on the fakes of the last
D update (as the PyTorch DCGAN example does: one G forward per iteration; a G-only step, "g", draws fresh noise).
The reported numbers follow that example too: D(x) and D(G(z))/before are D's mean output on the real and fake
batches of the D update, D(G(z))/after is D's mean output on the same fakes after D has moved.
"""
from __future__ import annotations

import torch

from ganengine.config import DATASETS, MODELS, POINT_DATASETS, ConfigError, _check_choice
from ganengine.families.base import Family, eval_mode, frozen_copy
from ganengine.fast_mlp_step import fast_step_for
from ganengine.losses import LOSSES
from ganengine.manifold import manifold
from ganengine.sample_scores import grid_scores
from ganengine.render import field_axes, image_grid, scatter_image
from ganengine.seeds import FIXED_NOISE, REAL_VIEW, REFERENCE, stream

FIELD_RESOLUTION = 64      # rows of D's decision heatmap (render.field_axes: twice the columns, widened over x)
N_FIELD_POINTS = 512       # fixed-noise fakes (and real points) drawn in the 2-D view


class GANFamily(Family):
    name = "gan"
    phases = ("both", "d", "g")
    scalars = ("loss/D", "loss/G", "D(x)", "D(G(z))/before", "D(G(z))/after", "grad/G", "grad/D")
    guarded = {"loss/D": "D(x)", "loss/G": "D(G(z))/after"}
    views = ("grid",)
    verbs = ("sample",)
    datasets = DATASETS

    def __init__(self, run):
        super().__init__(run)
        from ganengine.models import is_conditional
        self.conditional = is_conditional(run.nets["G"])
        self.fixed_z, self.fixed_y = self._fixed_noise()
        self.real_view = None if not run.spec.is_points else \
            run.source.real_sample(N_FIELD_POINTS, seed=stream(run.config.seed, REAL_VIEW))[0].cpu().numpy()
        self._fake_for_g = None
        self.fast_step = fast_step_for(self)   # the point MLPs' hand-written step (ganengine.fast_mlp_step)

    # ---- built without a run ------------------------------------------------------------------------------------
    @staticmethod
    def check_config(config) -> None:
        _check_choice("data", config.data, DATASETS)
        _check_choice("model", config.model, MODELS)
        if config.data in POINT_DATASETS and config.model != "mlp":
            raise ConfigError(f"2-D data ({config.data}) trains with the mlp model; {config.model} is for images")
        if config.data == "points" and not config.points_path:
            raise ConfigError("data 'points' needs a file of N x 2 points (points_path)")
        if config.data == "folder" and not config.folder_path:
            raise ConfigError("data 'folder' needs an image folder (folder_path)")

    @staticmethod
    def model_choices(data: str) -> list:
        if data in POINT_DATASETS:
            return [("MLP", "mlp")]
        return [("DCGAN (conv)", "dcgan"), ("Conditional GAN (pick the digit)", "cgan"),
                ("MLP (the original 2014 GAN)", "mlp")]

    @staticmethod
    def build_source(config, device):
        from ganengine.data import build_source
        return build_source(config, device)

    @staticmethod
    def build_nets(config, spec) -> dict:
        from ganengine.models import build_models
        G, D = build_models(config, spec)
        return {"G": G, "D": D}

    @staticmethod
    def guess_spec(config):
        from ganengine.cost import guess_image_spec
        return guess_image_spec(config)

    @staticmethod
    def cost_forwards(nets: dict, config, spec, batch: int):
        from ganengine.models import is_conditional
        G, D = nets["G"], nets["D"]
        z = torch.empty(batch, config.latent_dim)                                          # (B, latent)
        y = torch.zeros(batch, dtype=torch.int64) if is_conditional(G) else None           # (B,)
        return (lambda: G(z, y)), (lambda fake: D(torch.empty_like(fake), y))

    # ---- noise ------------------------------------------------------------------------------------------------
    def _fixed_noise(self):
        """The same noise all run long (drawn on the CPU, so every device shows the same samples for a seed)."""
        run = self.run
        g = torch.Generator().manual_seed(stream(run.config.seed, FIXED_NOISE))
        if run.spec.is_points:
            n = N_FIELD_POINTS
        elif self.conditional:
            n = 8 * run.spec.num_classes  # 8 rows, one column per class: a row is one z across all classes
        else:
            n = 64
        z = torch.randn(n, run.config.latent_dim, generator=g).to(run.device)                # (n, latent)
        y = (torch.arange(n) % run.spec.num_classes).to(run.device) if self.conditional else None  # (n,)
        return z, y

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.run.config.latent_dim, device=self.run.device, generator=self.run.noise_gen)

    def _fake_labels(self, n: int):
        if not self.conditional:
            return None
        return torch.randint(self.run.spec.num_classes, (n,), device=self.run.device, generator=self.run.noise_gen)

    # ---- training ---------------------------------------------------------------------------------------------
    def train_step(self, kind: str) -> dict:
        """Family.train_step, through the hand-written step where it applies (the point MLPs; GAN_FAST_STEP)."""
        if self.fast_step is not None and self.fast_step.applies():
            return self.fast_step.train_step(kind)
        return super().train_step(kind)

    def _d_update(self, out: dict, keep_fake: bool) -> None:
        """keep_fake: G's forward keeps its graph and the fakes are kept for the G update that follows."""
        run, k = self.run, self.run.knobs
        G, D = run.nets["G"], run.nets["D"]
        real, y = run.source.sample(k.batch_size)                 # x ~ p_data: (B, 2) or (B, C, H, W)
        y = y if self.conditional else None
        with torch.set_grad_enabled(keep_fake):
            fake = G(self.noise(len(real)), y)                     # G(z): fakes carry the real batch's labels (cGAN)
        self._fake_for_g = (fake, y) if keep_fake else None
        fake = fake.detach()                                       # D's update must not reach G
        loss, l_r, l_f = run.adversarial.d_loss(lambda x: D(x, y), real, fake, k, run.noise_gen)
        out["grad/D"] = run.update("D", loss)                      # descend L_D in D's weights
        l_r, l_f = l_r.detach(), l_f.detach()
        run.adversarial.record(l_r, l_f)
        out["loss/D"], out["D(x)"], out["D(G(z))/before"] = loss.detach(), torch.sigmoid(l_r).mean(), \
            torch.sigmoid(l_f).mean()

    def _g_update(self, out: dict) -> None:
        run, k = self.run, self.run.knobs
        if self._fake_for_g is not None:                           # the fakes of this iteration's last D update
            fake, y = self._fake_for_g
            self._fake_for_g = None
        else:                                                      # a G-only step: fresh noise (and labels)
            y = self._fake_labels(k.batch_size)
            fake = self.run.nets["G"](self.noise(k.batch_size), y)
        with run.frozen("D"):                                      # G's loss needs no gradient for D's weights
            l_f = run.nets["D"](fake, y)                           # D has moved since it scored these fakes
            loss = run.adversarial.g_loss(l_f, k)
        out["grad/G"] = run.update("G", loss)                      # descend L_G in G's weights (then EMA)
        out["loss/G"], out["D(G(z))/after"] = loss.detach(), torch.sigmoid(l_f.detach()).mean()

    def forget_transient(self) -> None:
        self._fake_for_g = None

    # ---- sampling, views, metrics -----------------------------------------------------------------------------
    def generate(self, z: torch.Tensor, y=None) -> torch.Tensor:
        """Samples in data space for latents z (B, latent) (and labels y for cGAN), in eval mode."""
        return self._generate_with(self.run.sampler(), z, y)

    @torch.no_grad()
    def _generate_with(self, G, z: torch.Tensor, y=None) -> torch.Tensor:
        if self.conditional and y is None:
            y = torch.zeros(len(z), dtype=torch.int64, device=self.run.device)
        with eval_mode(G):
            return G(z.to(self.run.device), y if self.conditional else None)

    def render(self) -> dict:
        """The fixed-noise view: an image grid, or for 2-D data the scatter (grid) and D's field (field)."""
        return self._draw(self.run.sampler(), self.run.nets["D"], self.run.knobs.loss)

    def render_job(self):
        G = frozen_copy(self.run.sampler())
        D = frozen_copy(self.run.nets["D"])   # the field asks D; on images D scores each sample of the grid
        loss = self.run.knobs.loss
        return lambda: self._draw(G, D, loss)

    def _draw(self, G, D, loss: str) -> dict:
        run, out = self.run, {}
        if run.spec.is_points:
            out["field"] = self._field(G, D, loss)
            out["grid"] = scatter_image(self.real_view, out["field"]["fake"], run.spec.bounds)
        else:
            fake = self._generate_with(G, self.fixed_z, self.fixed_y)                     # (n, C, H, W)
            ncol = run.spec.num_classes if self.conditional else 8
            out["grid"] = image_grid(fake.float().cpu().numpy(), nrow=ncol)
            if self.conditional:   # the page writes each column's class over the grid (views.image_html)
                names = run.spec.class_names or tuple(str(c) for c in range(run.spec.num_classes))
                out["column_labels"] = {"grid": [str(n) for n in names]}
            if D is not None:
                out["grid_scores"] = grid_scores(D, fake, self.fixed_y if self.conditional else None, ncol)
        return out

    def caption(self, view: str) -> str:
        if self.run.spec.is_points:
            return "G's samples (purple) from one fixed noise batch, over the real data (green)"
        if self.conditional:
            return "G's samples from one fixed noise batch: column c asks for class c"
        return "G's samples from one fixed noise batch: the same z all run long"

    def _field(self, G, D, loss: str) -> dict:
        """2-D view: fakes from the fixed noise, D(x) on a grid, and the direction G's loss pushes each fake."""
        run = self.run
        xs, ys = (torch.from_numpy(a) for a in field_axes(run.spec.bounds, FIELD_RESOLUTION))
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(-1, 2).to(run.device)  # (r*c, 2)
        fake = self._generate_with(G, self.fixed_z)
        with eval_mode(D):
            with torch.no_grad():
                heat = torch.sigmoid(D(grid)).reshape(len(ys), len(xs))  # (rows = y, cols = x)
            x = fake.detach().clone().requires_grad_(True)
            g_loss = LOSSES[loss].g(D(x)) * len(x)  # per-point loss terms, not their mean
            (grad,) = torch.autograd.grad(g_loss, x)
        return {"fake": fake.float().cpu().numpy(), "real": self.real_view, "heat": heat.float().cpu().numpy(),
                "push": (-grad).float().cpu().numpy(), "xs": xs.numpy(), "ys": ys.numpy(),
                "manifold": manifold(lambda z: self._generate_with(G, z), run.config.latent_dim, run.device)}

    @staticmethod
    def evaluate(ckpt: dict, *, n: int, seed: int) -> dict:
        """`eval`: ganengine.metrics.evaluate's metrics of a checkpoint's sampler (EMA when saved)."""
        from ganengine.metrics.evaluate import evaluate_loaded
        return evaluate_loaded(ckpt, n=n, seed=seed)

    def quality_job(self, n: int):
        """Mixture modes / 2-D FD / digit metrics (ganengine.metrics.evaluate) of a frozen copy of the sampler."""
        run = self.run
        G, config, spec = frozen_copy(run.sampler()), run.config, run.spec
        real_sampler = None
        if spec.is_points and spec.centres is None:
            real = run.source.real_sample(2 * n, seed=stream(config.seed, REFERENCE))[0].cpu().numpy()  # + floor
            real_sampler = lambda m: real[:m]  # noqa: E731

        def job():
            from ganengine.metrics.evaluate import evaluate_generator
            return evaluate_generator(G, config, spec, n=n, real_sampler=real_sampler)
        return job
