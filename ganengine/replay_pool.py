"""A replay pool of past fakes for D (Shrivastava et al. 2017, "Learning from Simulated and Unsupervised Images
through Adversarial Training", section 2.3; CycleGAN, Zhu et al. 2017, section 4: "we ... update the discriminators
using a history of generated images rather than the ones produced by the latest generators. We keep an image buffer
that stores the 50 previously created images"). Semantics of junyanz/pytorch-CycleGAN-and-pix2pix util/image_pool.py,
ImagePool.query, image by image in batch order:
  while fewer than `size` images are stored:  store the new image and return it;
  once full, with probability 1/2:             return a stored image chosen uniformly, and store the new one in
                                                its place;
  otherwise:                                    return the new image (the pool is unchanged).
D is thus trained half on the latest fakes and half on older ones, which damps the oscillation of G chasing D.

Unlike junyanz's (Python's global `random`), the randomness comes from the pool's own seeded torch.Generator, and
the stored images and that generator's state are the pool's state (get_state / set_state): a rewind, a rollback or
a resumed checkpoint replays the same choices. Each query draws exactly 2 numbers per image (a coin u and an index),
whether or not the pool is full yet, so the stream does not depend on the pool's fill.
"""
from __future__ import annotations

import torch

POOL_SIZE = 50   # CycleGAN's buffer (section 4; junyanz --pool_size 50)


class ReplayPool:
    def __init__(self, seed: int, size: int = POOL_SIZE):
        self.size = size
        self.generator = torch.Generator().manual_seed(seed)   # CPU: the choices are made on the host
        self.images: torch.Tensor | None = None                 # (size, C, H, W) once the first batch arrives
        self.count = 0                                          # images stored so far (<= size)

    @torch.no_grad()
    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        """fakes (B, C, H, W), detached -> (B, C, H, W): per image, the new one or a stored one (docstring)."""
        if self.size == 0:
            return fakes
        if self.images is None:
            self.images = torch.zeros((self.size, *fakes.shape[1:]), dtype=fakes.dtype, device=fakes.device)
        coins = torch.rand(len(fakes), generator=self.generator).tolist()                       # u ~ U(0, 1)
        slots = torch.randint(self.size, (len(fakes),), generator=self.generator).tolist()      # uniform index
        out = fakes.clone()
        for i, (u, slot) in enumerate(zip(coins, slots)):
            if self.count < self.size:               # not full: keep it, hand it on
                self.images[self.count] = fakes[i]
                self.count += 1
            elif u > 0.5:                            # full, heads: hand on an old one, keep the new one instead
                out[i] = self.images[slot]
                self.images[slot] = fakes[i]
        return out

    def get_state(self) -> dict:
        """{"images": (count, C, H, W) copies of the stored images, "generator": its uint8 state}."""
        stored = self.images[: self.count].clone() if self.images is not None else torch.zeros(0)
        return {"images": stored, "generator": self.generator.get_state()}

    def set_state(self, state: dict, shape: tuple, device) -> None:
        """Restore a get_state() for images of shape (C, H, W); ValueError if it does not fit."""
        images, gen = state["images"], state["generator"]
        if not isinstance(images, torch.Tensor) or not isinstance(gen, torch.Tensor):
            raise ValueError("the replay pool's state must hold tensors")
        if images.numel() and (images.dtype != torch.float32 or tuple(images.shape[1:]) != tuple(shape)
                               or len(images) > self.size or not torch.isfinite(images).all()):
            raise ValueError(f"the replay pool holds {tuple(images.shape)} images; it takes up to {self.size} "
                             f"finite float32 images of shape {tuple(shape)}")
        if gen.dtype != torch.uint8 or gen.ndim != 1:
            raise ValueError("the replay pool's generator state is not a generator state")
        self.generator.set_state(gen.clone())
        self.count = len(images) if images.numel() else 0
        self.images = torch.zeros((self.size, *shape), device=device)
        self.images[: self.count] = images.to(device)
