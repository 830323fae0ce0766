"""The loops a user would write instead of using the playground: plain PyTorch, no engine code, no tricks.

- DCGAN28: the PyTorch DCGAN tutorial (pytorch.org/tutorials/beginner/dcgan_faces_tutorial.html) at 28x28:
  nz = 100, Adam(2e-4, betas=(0.5, 0.999)), BCELoss on a sigmoid output, batch 64, weights N(0, 0.02), a
  DataLoader with shuffle, and the tutorial's per-step `.item()` bookkeeping (Loss_D, Loss_G, D(x), D(G(z))).
  Width 32 (ngf = ndf = 32): 100 -> 7x7x64 -> 14x14x32 -> 28x28x1, as BENCHMARKS.md's reference DCGAN.
- MLPGAN: PyTorch-GAN's implementations/gan/gan.py as published, including BatchNorm1d(n, 0.8) (eps = 0.8).
- Points: a plain MLP GAN on 2-D points (the architecture is a parameter so the engine's preset model can be
  compared like for like): BCE-with-logits, Adam, fresh samples each step.
Each is a small class: ``train(steps=..., seconds=...)`` continues where it stopped (so time-to-quality can pause to
evaluate), ``sample(z)`` draws from G in eval mode. Time counts only the training loop, as the engine's does.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn as nn

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def bundled_mnist() -> torch.Tensor:
    d = np.load(ROOT / "assets" / "mnist5k.npz")
    return torch.from_numpy(d["images"]).float().div(127.5).sub(1).unsqueeze(1)  # (5000, 1, 28, 28) in [-1, 1]


def weights_init(m):  # the tutorial's
    name = m.__class__.__name__
    if name.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class TutorialG(nn.Module):
    def __init__(self, nz=100, ngf=32):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 7, 1, 0, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),  # 7x7
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),      # 14x14
            nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False), nn.Tanh())                                     # 28x28

    def forward(self, z):
        return self.main(z)


class TutorialD(nn.Module):
    def __init__(self, ndf=32):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),                        # 14x14
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False), nn.Sigmoid())                                       # 1x1

    def forward(self, x):
        return self.main(x)


class _Loop:
    """Shared budget handling: train(steps=n) or train(seconds=s) runs the loop body until the budget is spent."""

    def __init__(self):
        self.steps, self.seconds = 0, 0.0

    def train(self, *, steps: int = 0, seconds: float = 0.0) -> None:
        t0, start = time.perf_counter(), self.steps
        while not ((steps and self.steps - start >= steps) or (seconds and time.perf_counter() - t0 >= seconds)):
            self.one_step()
            self.steps += 1
        self.seconds += time.perf_counter() - t0

    @property
    def steps_per_sec(self) -> float:
        return self.steps / self.seconds if self.seconds else float("nan")


class DCGAN28(_Loop):
    latent_dim = 100

    def __init__(self, *, seed: int = 0, ngf: int = 32, batch_size: int = 64):
        super().__init__()
        torch.manual_seed(seed)
        self.loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(bundled_mnist()),
                                                  batch_size=batch_size, shuffle=True, drop_last=True)
        self.batches = iter(self.loader)
        self.netG, self.netD = TutorialG(self.latent_dim, ngf), TutorialD(ngf)
        self.netG.apply(weights_init)
        self.netD.apply(weights_init)
        self.criterion = nn.BCELoss()
        self.optimizerD = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optimizerG = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.G_losses, self.D_losses = [], []

    def one_step(self):
        try:
            (real_cpu,) = next(self.batches)
        except StopIteration:  # next epoch
            self.batches = iter(self.loader)
            (real_cpu,) = next(self.batches)
        netD, netG, criterion = self.netD, self.netG, self.criterion
        # (1) Update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        b_size = real_cpu.size(0)
        label = torch.full((b_size,), 1.0, dtype=torch.float)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        noise = torch.randn(b_size, self.latent_dim, 1, 1)
        fake = netG(noise)
        label.fill_(0.0)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        self.optimizerD.step()
        # (2) Update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(1.0)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        self.optimizerG.step()
        self.G_losses.append(errG.item())
        self.D_losses.append(errD.item())
        self.last = (D_x, D_G_z1, D_G_z2)

    @torch.no_grad()
    def sample(self, z: torch.Tensor) -> torch.Tensor:
        self.netG.eval()
        try:
            return self.netG(z[:, :, None, None])
        finally:
            self.netG.train()


# ---- PyTorch-GAN gan.py, as published ------------------------------------------------------------------------
class GanPyG(nn.Module):
    def __init__(self, latent_dim=100, img_shape=(1, 28, 28)):
        super().__init__()
        self.img_shape = img_shape

        def block(in_feat, out_feat, normalize=True):
            layers = [nn.Linear(in_feat, out_feat)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_feat, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.model = nn.Sequential(*block(latent_dim, 128, normalize=False), *block(128, 256), *block(256, 512),
                                   *block(512, 1024), nn.Linear(1024, int(np.prod(img_shape))), nn.Tanh())

    def forward(self, z):
        return self.model(z).view(z.size(0), *self.img_shape)


class GanPyD(nn.Module):
    def __init__(self, img_shape=(1, 28, 28)):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(int(np.prod(img_shape)), 512), nn.LeakyReLU(0.2, inplace=True),
                                   nn.Linear(512, 256), nn.LeakyReLU(0.2, inplace=True), nn.Linear(256, 1), nn.Sigmoid())

    def forward(self, img):
        return self.model(img.view(img.size(0), -1))


class MLPGAN(_Loop):
    latent_dim = 100

    def __init__(self, *, seed: int = 0, batch_size: int = 64):
        super().__init__()
        torch.manual_seed(seed)
        self.loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(bundled_mnist()),
                                                  batch_size=batch_size, shuffle=True)
        self.batches = iter(self.loader)
        self.adversarial_loss = nn.BCELoss()
        self.generator, self.discriminator = GanPyG(self.latent_dim), GanPyD()
        self.optimizer_G = torch.optim.Adam(self.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optimizer_D = torch.optim.Adam(self.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def one_step(self):
        try:
            (imgs,) = next(self.batches)
        except StopIteration:
            self.batches = iter(self.loader)
            (imgs,) = next(self.batches)
        valid = torch.ones(imgs.size(0), 1)
        fake = torch.zeros(imgs.size(0), 1)
        self.optimizer_G.zero_grad()
        z = torch.randn(imgs.shape[0], self.latent_dim)
        gen_imgs = self.generator(z)
        g_loss = self.adversarial_loss(self.discriminator(gen_imgs), valid)
        g_loss.backward()
        self.optimizer_G.step()
        self.optimizer_D.zero_grad()
        real_loss = self.adversarial_loss(self.discriminator(imgs), valid)
        fake_loss = self.adversarial_loss(self.discriminator(gen_imgs.detach()), fake)
        d_loss = (real_loss + fake_loss) / 2
        d_loss.backward()
        self.optimizer_D.step()

    @torch.no_grad()
    def sample(self, z):
        self.generator.eval()
        try:
            return self.generator(z)
        finally:
            self.generator.train()


# ---- a plain 2-D GAN loop ----------------------------------------------------------------------------------------
def ring8_sample(n: int, gen: torch.Generator) -> torch.Tensor:
    k = torch.randint(8, (n,), generator=gen).float()
    centres = torch.stack([torch.cos(2 * math.pi * k / 8), torch.sin(2 * math.pi * k / 8)], 1)
    return centres + 0.01 * torch.randn(n, 2, generator=gen)


def grid25_sample(n: int, gen: torch.Generator) -> torch.Tensor:
    g = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    idx = torch.randint(5, (n, 2), generator=gen)
    return g[idx] + 0.05 * torch.randn(n, 2, generator=gen)


def mlp(sizes, act):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), act()]
    return nn.Sequential(*layers[:-1])


class Points(_Loop):
    def __init__(self, *, seed: int = 0, latent_dim: int = 8, width: int = 128, depth: int = 2, batch_size: int = 256,
                 lr: float = 1e-3, sampler=ring8_sample):
        super().__init__()
        torch.manual_seed(seed)
        self.gen, self.sampler, self.latent_dim, self.batch_size = torch.Generator().manual_seed(seed + 1), sampler, \
            latent_dim, batch_size
        self.G = mlp([latent_dim] + [width] * depth + [2], lambda: nn.ReLU(True))
        self.D = mlp([2] + [width] * depth + [1], lambda: nn.LeakyReLU(0.2, True))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=(0.5, 0.999))
        self.bce = nn.BCEWithLogitsLoss()
        self.ones, self.zeros = torch.ones(batch_size, 1), torch.zeros(batch_size, 1)

    def one_step(self):
        real = self.sampler(self.batch_size, self.gen)
        fake = self.G(torch.randn(self.batch_size, self.latent_dim))
        d_loss = (self.bce(self.D(real), self.ones) + self.bce(self.D(fake.detach()), self.zeros)) / 2
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        g_loss = self.bce(self.D(fake), self.ones)
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()

    @torch.no_grad()
    def sample(self, z):
        return self.G(z)
