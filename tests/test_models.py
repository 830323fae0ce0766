"""Shapes of every model family and size, and one training step per model and loss on the CPU."""
import pytest
import torch

from ganengine.config import ConfigError, Knobs, RunConfig
from ganengine.data.spec import DataSpec
from ganengine.losses import LOSSES
from ganengine.models import build_models
from ganengine.models.dcgan import plan_sizes
from ganengine.run import GANRun


def image_spec(c, size, classes=10):
    return DataSpec(name="x", title="x", kind="image", shape=(c, size, size), num_classes=classes)


@pytest.mark.parametrize("model", ["mlp", "dcgan", "cgan"])
@pytest.mark.parametrize("c,size", [(1, 28), (3, 32), (3, 64)])
def test_image_model_shapes(model, c, size):
    cfg = RunConfig(data="mnist", model=model, latent_dim=16, width=8)
    G, D = build_models(cfg, image_spec(c, size))
    z, y = torch.randn(5, 16), torch.arange(5)
    x = G(z, y)
    assert x.shape == (5, c, size, size)
    assert x.min() >= -1 and x.max() <= 1  # tanh output
    assert D(x, y).shape == (5,)


def test_point_model_shapes():
    cfg = RunConfig(data="ring8", latent_dim=3, width=16, depth=2)
    G, D = build_models(cfg, DataSpec(name="ring8", title="r", kind="points", shape=(2,)))
    assert G(torch.randn(7, 3)).shape == (7, 2)
    assert D(torch.randn(7, 2)).shape == (7,)


def test_dcgan_64_matches_the_tutorial_generator():
    """At width 64 and 64x64 the generator has the PyTorch DCGAN tutorial's layer widths: 512, 256, 128, 64, 3."""
    G, _ = build_models(RunConfig(data="celeba", model="dcgan", latent_dim=100, width=64), image_spec(3, 64))
    convs = [m for m in G.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [m.out_channels for m in convs] == [512, 256, 128, 64, 3]


def test_dcgan_init_is_normal_002():
    G, D = build_models(RunConfig(data="mnist", model="dcgan", width=32), image_spec(1, 28))
    w = next(m for m in D.modules() if isinstance(m, torch.nn.Conv2d)).weight
    assert abs(float(w.std()) - 0.02) < 0.004


@pytest.mark.parametrize("size", [20, 30, 48, 100])
def test_dcgan_refuses_sizes_it_cannot_make(size):
    with pytest.raises(ConfigError, match="cannot make"):
        plan_sizes(size)


def test_cgan_needs_labels():
    with pytest.raises(ConfigError, match="labelled"):
        build_models(RunConfig(data="folder", folder_path="x", model="cgan"), image_spec(3, 32, classes=0))


def test_2d_data_refuses_image_models():
    with pytest.raises(ConfigError, match="mlp"):
        RunConfig(data="ring8", model="dcgan")


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("data,model", [("ring8", "mlp"), ("mnist", "mlp"), ("mnist", "dcgan"), ("mnist", "cgan")])
def test_one_training_step(data, model, loss):
    cfg = RunConfig(data=data, model=model, latent_dim=8, width=8, device="cpu")
    run = GANRun(config=cfg, knobs=Knobs(loss=loss, batch_size=8, r1_weight=1.0, label_smoothing=0.1))
    before = [p.detach().clone() for p in run.G.parameters()]
    run.train_iteration()
    rows = run.gather(0.01)
    assert rows.shape == (1, len(run.history.columns))
    cols = run.history.index
    for name in ("loss/D", "loss/G", "D(x)", "D(G(z))/before", "D(G(z))/after", "grad/G", "grad/D"):
        assert torch.isfinite(torch.tensor(rows[0, cols[name]])), name
    assert 0 < rows[0, cols["D(x)"]] < 1
    assert any(not torch.equal(a, b) for a, b in zip(before, run.G.parameters()))
