"""One run seed, several independent random streams.

A run is reproducible from one integer, yet its random streams must not share numbers: the data order must not
depend on how much noise G drew, and the fixed sample grid must stay the same all run long. Each stream is seeded with
the run's seed plus its own offset, named here once (the values are part of every recorded trace: do not change them).
"""
INIT = 0          # model initialisation: torch.manual_seed(seed) while the nets are built
DATA = 1          # the data source's draws and order
NOISE = 2         # training noise z (and the labels a conditional G is asked for)
FIXED_NOISE = 3   # the fixed noise of the sample grid and the timeline
REAL_VIEW = 4     # the real points drawn in the 2-D view
REFERENCE = 5     # the real samples the quality metrics compare against
POOL = 6          # the replay pools' choices (cyclegan: ganengine.replay_pool)


def stream(seed: int, offset: int) -> int:
    """The seed of one stream of a run seeded with ``seed``."""
    return int(seed) + offset
