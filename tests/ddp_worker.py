"""Two gloo ranks on the CPU for tests/test_distributed.py (forked by it: torch is imported once), or by hand:
`torchrun --standalone --nproc-per-node 2 tests/ddp_worker.py OUT_DIR`.

Part 1 (mlp on MNIST, no BatchNorm in D): one D update; rank 0 checks that the all-reduced gradient equals the
gradient of the mean loss over the two ranks' batches put together (the single-process update at the global batch),
and writes both ranks' real batches so the test can compare them with a single-process run's batch.
Part 2 (dcgan with R1): a few full iterations; every rank writes its weights, so the test can check they agree.
Part 3 (fp16's loss scaler, on the CPU): rank 0's gradient overflows, rank 1's does not; every rank writes its
weights and scale after the scaled step, so the test can check both skipped it and halved the scale.
"""
import copy
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from ganengine.config import Knobs, RunConfig
from ganengine.distributed import _sync_hook, agree_on_overflow, from_env
from ganengine.run import GANRun


def one_d_update(ctx, out: Path) -> None:
    run = GANRun(config=RunConfig(data="mnist", model="mlp", width=16, latent_dim=8, seed=3, device="cpu"),
                 knobs=Knobs(batch_size=8, loss="ns", r1_weight=0.0, ema_decay=0.0))
    ctx.attach(run)
    D = run.nets["D"]
    D0 = copy.deepcopy(D)                                   # D before the update: the reference's weights
    inputs = []
    D.register_forward_pre_hook(lambda m, a: inputs.append(a[0].detach().clone()))
    reduced = {}
    run.opt["D"].register_step_pre_hook(                    # registered after the sync hook: sees averaged grads
        lambda opt, a, k: reduced.update({i: p.grad.clone() for i, p in enumerate(run.params["D"])}))
    run.train_iteration("d")
    real, fake = inputs                                     # adversarial.d_loss calls D(real), then D(fake)
    both = [None, None]
    dist.all_gather_object(both, (real, fake))
    if ctx.rank == 0:
        real_all = torch.cat([b[0] for b in both])          # (2B, C, H, W): the global batch
        fake_all = torch.cat([b[1] for b in both])
        loss, _, _ = run.adversarial.d_loss(lambda x: D0(x, None), real_all, fake_all, run.knobs, run.noise_gen)
        loss.backward()
        worst = max(float((p.grad - reduced[i]).abs().max()) for i, p in enumerate(D0.parameters()))
        scale = max(float(p.grad.abs().max()) for p in D0.parameters())
        torch.save({"worst": worst, "scale": scale, "real": [b[0] for b in both]}, out / "grad_check.pt")


def few_iterations(ctx, out: Path) -> None:
    run = GANRun(config=RunConfig(data="mnist", model="dcgan", width=8, latent_dim=8, seed=5, device="cpu"),
                 knobs=Knobs(batch_size=8, loss="ns", r1_weight=1.0, ema_decay=0.9))
    ctx.attach(run)
    for _ in range(3):
        run.train_iteration("both")
    torch.save({"nets": {n: m.state_dict() for n, m in run.nets.items()},
                "ema": {n: m.state_dict() for n, m in run.ema.items()}}, out / f"rank{ctx.rank}.pt")


def one_overflow(ctx, out: Path) -> None:
    """The engine's fp16 update (ganengine/precision.py _scaled_update) on a tiny net, with the all-reduce pre-hook
    and the agreed overflow check that attach installs; rank 0's loss is inf."""
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)                              # the same weights on both ranks (same seed)
    opt = torch.optim.Adam(net.parameters(), lr=0.1, fused=True)   # fused: skips on the scaler's flag itself
    opt.register_step_pre_hook(_sync_hook([net], ctx.world))
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 8)
    agree_on_overflow(scaler)
    loss = net(torch.ones(4, 3)).square().mean() * (float("inf") if ctx.rank == 0 else 1.0)
    scaler.scale(loss).backward()
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    torch.save({"weight": net.weight.detach().clone(), "scale": scaler.get_scale()}, out / f"fp16_rank{ctx.rank}.pt")


def main(out: Path) -> None:
    torch.set_num_threads(1)                 # one thread per rank (and no OpenMP pool in a forked child)
    ctx = from_env(threads=1)
    try:
        one_d_update(ctx, out)
        few_iterations(ctx, out)
        one_overflow(ctx, out)
    finally:
        ctx.close()


def forked_rank(rank: int, out: str, port: int) -> None:
    """torch.multiprocessing's entry: the environment torchrun would give rank ``rank`` of 2, then main."""
    import os
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2",
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    main(Path(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
