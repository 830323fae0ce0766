"""Datasets: 2-D toy distributions (points.py) and image sets (images.py), behind one build_source()."""
from ganengine.data.images import DataUnavailable
from ganengine.data.spec import BatchSource, DataSpec


def build_source(config, device) -> BatchSource:
    """The batch source a RunConfig names, on device; raises ConfigError (or DataUnavailable) with a clear message."""
    if config.is_points:
        from ganengine.data.points import build_point_source
        return build_point_source(config, device)
    from ganengine.data.images import build_image_source
    return build_image_source(config, device)


__all__ = ["BatchSource", "DataSpec", "DataUnavailable", "build_source"]
