"""The cost estimate (ganengine.cost) stays on the thread that asks for it."""
from ganengine.cost import step_cost
from ganengine.presets import get_preset


def test_the_estimate_touches_no_process_wide_hooks(monkeypatch):
    """FlopCounterMode registered process-wide module hooks while it counted, which reached another visitor's
    training thread (its R1 autograd.grad failed: seen in the app with two trainers). The estimate must stay on
    its own thread: registering a global module hook now fails the test."""
    import torch.nn.modules.module as module_mod

    def refuse(*args, **kwargs):
        raise AssertionError("a process-wide module hook was registered")
    for name in ("register_module_forward_pre_hook", "register_module_forward_hook",
                 "register_module_full_backward_hook", "register_module_full_backward_pre_hook"):
        monkeypatch.setattr(module_mod, name, refuse)
    config, knobs = get_preset("ring8").build()
    assert step_cost(config, knobs).flops > 0
