"""Data-parallel training under torchrun: every rank trains the same nets on its own shard of the global batch.

    torchrun --standalone --nproc-per-node 2 -m ganengine train --data mnist --model dcgan --steps 2000 --out runs/ddp
    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29500 -m ganengine train ...

torchrun starts the processes and sets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT;
``from_env`` reads them and joins the process group (NCCL on CUDA, gloo on the CPU: torch.distributed's env://
rendezvous, no launcher of ours). Each rank then builds the same run from the same seed and ``attach`` makes it data
parallel (Goyal et al. 2017, "Accurate, Large Minibatch SGD", section 2: synchronous SGD over k workers whose
per-worker losses are means over n samples is SGD on the kn-sample mean):

  weights   rank 0's weights and buffers are broadcast once, so every rank starts from the same state;
  gradients before each optimiser step, the group's gradients are summed over the ranks and divided by the world
            size (one flat all-reduce per update): grad = (1/W) sum_r grad L_r = grad of the mean loss over the
            global batch of W x per-rank batch samples. Every rank then takes the same Adam step, so the weights
            stay equal without further messages. BatchNorm running statistics are broadcast from rank 0 with each
            step (as DistributedDataParallel's broadcast_buffers); in training mode BatchNorm normalises with each
            rank's own batch statistics (per-rank batches, as DDP without SyncBatchNorm).
  data      a stored dataset's epoch order (ganengine.data.order.EpochOrder) is the same permutation on every rank;
            rank r takes the r-th slice of each global batch, so the ranks' batches are disjoint and together are
            exactly the single-process run's batch at the global batch size. Procedural draws (2-D points, motion
            paths) come from a generator seeded per rank.
  noise     each rank draws z from its own stream (rank 0 keeps the single-process stream), and the global RNG
            (dropout) is seeded per rank.
  control   the divergence guard decides together (a loss that is non-finite on one rank rolls back every rank).
  fp16      the loss scaler's overflow check is agreed (MAX over the ranks) before the step: an overflow on one rank
            skips the step and halves the scale on every rank (``agree_on_overflow``). Without it the other ranks
            stepped with the all-reduced inf gradient and their weights became NaN.

Why an explicit all-reduce and not the DistributedDataParallel wrapper: the families call their nets by name and
read their attributes (progan's growing G, cogan's shared layers, is_conditional), copy them for EMA and frozen views,
and save their state dicts; a wrapper replaces each module's interface and prefixes its state dict. GAN updates also
run D with frozen weights inside G's update and take double-backward penalties (R1, GP) that DDP's reducer does not
support (its documentation: DDP does not work with torch.autograd.grad). An optimizer step pre-hook
(torch.optim.Optimizer.register_step_pre_hook) all-reduces exactly what the step is about to use, whatever the
family's update looks like. The cost: the all-reduce starts after the backward pass instead of overlapping it
(bench/DISTRIBUTED.md estimates what that means on 8 GPUs).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ganengine.config import ConfigError
from ganengine.seeds import NOISE, stream

RANK_STRIDE = 100_003   # rank r's streams are seeded r * RANK_STRIDE away from rank 0's (a prime, past every offset)


@dataclass
class Distributed:
    rank: int
    world: int
    local_rank: int
    local_world: int
    backend: str
    device: torch.device
    threads: int              # torch threads of this rank (the node's cores shared among its ranks)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def describe(self, per_rank_batch: int) -> str:
        return (f"torchrun: {self.world} processes ({self.backend}), per-rank batch {per_rank_batch} x {self.world} "
                f"= global batch {per_rank_batch * self.world}; each rank its own data shard and noise stream; "
                f"rank 0 writes the checkpoint, metrics and grids")

    def attach(self, run) -> None:
        """Make a GANRun data parallel (see the module docstring); every rank calls this on its identical run."""
        _broadcast_state(run)
        shard_run(run, self.rank, self.world)
        for group, opt in run.opt.items():
            nets = [run.nets[name] for name in type(run.family).groups[group]]
            opt.register_step_pre_hook(_sync_hook(nets, self.world))
        if getattr(run, "grad_scaler", None) is not None:     # fp16 (ganengine/precision.py)
            agree_on_overflow(run.grad_scaler)
        local_check = run.non_finite

        def agreed(rows):                                   # every rank takes the same rollback decision
            why = local_check(rows)
            flag = torch.tensor([1.0 if why else 0.0], device=_comm_device())
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            return why or ("a loss on another rank became non-finite" if flag.item() else None)
        run.non_finite = agreed

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()


def launch(args):
    """The CLI's `train` under torchrun: the Distributed context (None for a single process). A distributed run needs
    --steps: ranks must stop at the same step, and a time budget ends each rank at a different one."""
    if int(os.environ.get("WORLD_SIZE", "1") or 1) <= 1:
        return None
    if not args.steps:
        raise ConfigError("under torchrun, give --steps: every rank must stop at the same step (--seconds would "
                          "stop each rank at a different one)")
    return from_env(args.threads, cpu=args.device == "cpu")


def from_env(threads=None, *, cpu: bool = False):
    """The Distributed context when torchrun started this process with WORLD_SIZE > 1 (the process group joined),
    else None. threads: the --threads flag; by default the cores are shared among the node's ranks. cpu: use gloo
    on the CPU even where CUDA exists (--device cpu)."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return None
    if "MASTER_ADDR" not in os.environ or "RANK" not in os.environ:
        raise ConfigError("WORLD_SIZE is set but RANK / MASTER_ADDR are not: start several processes with torchrun")
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    if torch.cuda.is_available() and not cpu:
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(f"local rank {local_rank} has no GPU: this node has {torch.cuda.device_count()}; "
                              f"use --nproc-per-node {torch.cuda.device_count()} or fewer")
        torch.cuda.set_device(local_rank)       # "cuda" now means this rank's GPU (GANRun's device auto)
        backend, device = "nccl", torch.device("cuda", local_rank)
    else:
        backend, device = "gloo", torch.device("cpu")
    if threads is None:                        # the node's cores shared among its ranks
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        threads = max(1, cores // local_world)
    dist.init_process_group(backend=backend)   # env:// rendezvous from torchrun's variables
    return Distributed(rank, world, local_rank, local_world, backend, device, int(threads))


def _comm_device() -> torch.device:
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


@torch.no_grad()
def _broadcast_state(run) -> None:
    """Rank 0's weights, buffers and EMA copies on every rank (a resumed run loaded them on every rank already)."""
    for net in list(run.nets.values()) + list(run.ema.values()):
        for t in list(net.parameters()) + list(net.buffers()):
            dist.broadcast(t.data, src=0)


def agree_on_overflow(scaler) -> None:
    """Make a torch.amp.GradScaler's unscale_ agree over the ranks: after each rank unscales its own gradients and
    flags an overflow (inf / NaN) in them, the flags are all-reduced with MAX, so either every rank skips the step
    and halves the scale S, or none does. The flags stay on the device (no host sync). The step's gradient
    all-reduce (``_sync_hook``) runs inside the step, which a fused optimiser always enters (it skips on the flag
    itself), so the ranks stay in step either way."""
    unscale = scaler.unscale_

    def agreed_unscale(opt):
        unscale(opt)
        state = getattr(scaler, "_per_optimizer_states", {}).get(id(opt))
        if state is None or "found_inf_per_device" not in state:   # torch's layout changed: fail loudly, not drift
            raise RuntimeError("torch.amp.GradScaler no longer keeps found_inf_per_device: update agree_on_overflow")
        for flag in state["found_inf_per_device"].values():      # (1,) per device: 1.0 where this rank overflowed
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    scaler.unscale_ = agreed_unscale


def _sync_hook(nets, world: int):
    """An optimizer step pre-hook: average its gradients over the ranks (one flat all-reduce) and take rank 0's
    BatchNorm statistics, just before the step uses them."""
    from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

    @torch.no_grad()
    def hook(opt, args, kwargs):
        grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
        if grads:
            flat = _flatten_dense_tensors(grads)          # (sum of numels,): one message, not one per tensor
            dist.all_reduce(flat)                         # sum over the ranks
            flat.div_(world)                              # the mean: the global batch's gradient
            for g, reduced in zip(grads, _unflatten_dense_tensors(flat, grads)):
                g.copy_(reduced)
        for net in nets:
            for b in net.buffers():
                dist.broadcast(b, src=0)
        return None
    return hook


def shard_run(run, rank: int, world: int) -> None:
    """Give rank ``rank`` of ``world`` its data shard and noise stream (no messages: usable without a process
    group, as the tests do). Rank 0 of a world of 1 is left exactly as the single-process run."""
    if world <= 1:
        return
    for order in _orders(run.source):
        _shard_order(order, rank, world)
    if rank:
        step = int(run.step)                      # a resumed run's later ranks do not replay their first noise
        run.noise_gen.manual_seed(stream(run.config.seed, NOISE) + rank * RANK_STRIDE + step)
        torch.manual_seed(run.config.seed + rank * RANK_STRIDE + step)
        for gen in _generators(run.source):
            gen.manual_seed(gen.initial_seed() + rank * RANK_STRIDE + step)


def _shard_order(order, rank: int, world: int) -> None:
    """order.take(k) -> this rank's k of the global batch's k * world indices (the same permutation on every rank)."""
    take = order.take

    def sharded(k: int) -> torch.Tensor:
        idx = take(k * world)                     # (k * world,): the single-process run's batch at the global size
        return idx[rank * k:(rank + 1) * k]       # (k,): this rank's slice
    order.take = sharded


def _orders(source):
    from ganengine.data.order import EpochOrder
    return [v for v in vars(source).values() if isinstance(v, EpochOrder)]


def _generators(source):
    """The source's own generators for procedural draws (not the ones inside its epoch orders)."""
    return [v for v in vars(source).values() if isinstance(v, torch.Generator)]


def follow(ctx: Distributed, config, knobs, ckpt, *, steps: int, threads: int) -> int:
    """A rank other than 0: train the same run in step with rank 0, write nothing, and leave."""
    from ganengine.trainer import Trainer
    trainer = Trainer(config=config, knobs=knobs, max_steps=steps, threads=threads)
    if ckpt is not None:
        trainer.load_checkpoint(ckpt)
        trainer.set_limits(max_steps=trainer.run.step + steps)
    ctx.attach(trainer.run)
    try:
        trainer.run_foreground()
    finally:
        trainer.close()
        ctx.close()
    return 0
