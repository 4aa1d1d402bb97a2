"""ronin_lite.viz: figures are built without error and heat-map text stays readable."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ronin_lite import viz  # noqa: E402


def test_heatmap_text_is_dark_on_light_cells_for_any_colour_map():
    fig = viz.heatmap(np.array([[-1.0, 0.0, 1.0]]), ["r"], ["a", "b", "c"], cmap="RdBu",
                      vmin=-1, vmax=1)
    colours = [t.get_color() for t in fig.axes[0].texts]
    assert colours == ["white", "black", "white"]  # dark red, near-white middle, dark blue
    fig = viz.heatmap(np.array([[0.0, 1.0]]), ["r"], ["lo", "hi"], cmap="viridis")
    assert [t.get_color() for t in fig.axes[0].texts] == ["white", "black"]
    with pytest.raises(ValueError, match="does not match"):
        viz.heatmap(np.zeros((2, 2)), ["a"], ["b", "c"])
