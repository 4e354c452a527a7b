"""Scorers against scikit-learn / scipy / numpy; per-condition layout; report files."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from genomarray import model
from genomarray.keras import evaluate as ev

metrics = pytest.importorskip("sklearn.metrics")
stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ties", [False, True])
def test_scorers_match_references(seed, ties):
    rng = np.random.default_rng(seed)
    y = (rng.random(300) < 0.3).astype(float)
    p = rng.random(300) + 0.5 * y
    if ties:
        p = np.round(p, 1)
    assert ev.auroc(y, p) == pytest.approx(metrics.roc_auc_score(y, p), abs=1e-12)
    assert ev.auprc(y, p) == pytest.approx(metrics.average_precision_score(y, p), abs=1e-12)
    assert ev.pearson(y, p) == pytest.approx(stats.pearsonr(y, p)[0], abs=1e-12)
    assert ev.explained_variance(y, p) == pytest.approx(
        metrics.explained_variance_score(y, p), abs=1e-12
    )
    assert ev.mse(y, p) == pytest.approx(metrics.mean_squared_error(y, p), abs=1e-12)
    assert ev.mae(y, p) == pytest.approx(metrics.mean_absolute_error(y, p), abs=1e-12)
    fpr, tpr, _ = ev.roc_curve(y, p)
    assert np.trapezoid(tpr, fpr) == pytest.approx(metrics.roc_auc_score(y, p), abs=1e-12)
    prec, rec, _ = ev.precision_recall_curve(y, p)
    sk_prec, sk_rec, _ = metrics.precision_recall_curve(y, p)
    np.testing.assert_allclose(prec, sk_prec[:-1][::-1])
    np.testing.assert_allclose(rec, sk_rec[:-1][::-1])


def _labelled(values, conditions):
    roi = pd.DataFrame(
        {
            "chrom": ["chr1"] * len(values),
            "start": np.arange(len(values)) * 10,
            "end": np.arange(len(values)) * 10 + 10,
        }
    )
    view = model.region_view(
        values[:, None, None, :],
        roi,
        trailing_dims=(model.STRAND, model.CONDITION),
        coords={model.STRAND: ["."], model.CONDITION: conditions},
    )
    return view.isel(pos=0, strand=0)


def test_per_condition_layout_nan_and_single_class():
    rng = np.random.default_rng(3)
    y = (rng.random((200, 3)) < 0.4).astype(float)
    y[:, 2] = 0.0  # a single class
    y[:10, 0] = np.nan  # NaN labels are ignored
    p = rng.random((200, 3))
    labels = _labelled(y, ["a", "b", "c"])
    with pytest.warns(RuntimeWarning, match="'c'"):
        res = ev.score(labels, p, scorers=("auroc", "auprc", "mse"))
    assert res.dims == ("scorer", "condition")
    assert res["condition"].values.tolist() == ["a", "b", "c"]
    assert res["scorer"].values.tolist() == ["auroc", "auprc", "mse"]
    keep = ~np.isnan(y[:, 0])
    assert float(res.sel(scorer="auroc", condition="a")) == pytest.approx(
        metrics.roc_auc_score(y[keep, 0], p[keep, 0])
    )
    assert float(res.sel(scorer="auprc", condition="b")) == pytest.approx(
        metrics.average_precision_score(y[:, 1], p[:, 1])
    )
    assert np.isnan(float(res.sel(scorer="auroc", condition="c")))
    assert np.isfinite(float(res.sel(scorer="mse", condition="c")))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        both = ev.score({"peaks": labels, "other": y[:, :2]}, {"peaks": p, "other": p[:, :2]})
    assert isinstance(both, xr.Dataset) and set(both.data_vars) == {"peaks", "other"}


def test_report_files(tmp_path):
    rng = np.random.default_rng(4)
    y = (rng.random((300, 2)) < 0.3).astype(float)
    p = np.clip(rng.random((300, 2)) * 0.7 + 0.3 * y, 0, 1)
    labels = _labelled(y, ["rep1", "rep2"])
    res = ev.score({"peaks": labels}, {"peaks": p}, scorers=("auroc", "auprc", "pearson"))
    paths = ev.report(res, tmp_path / "rep", y_true={"peaks": labels}, y_pred={"peaks": p})
    table = pd.read_csv(paths["tsv"], sep="\t")
    assert list(table.columns) == ["output", "condition", "scorer", "value"]
    assert len(table) == 6 and set(table["condition"]) == {"rep1", "rep2"}
    tree = json.loads(paths["json"].read_text())
    assert set(tree) == {"peaks"} and set(tree["peaks"]) == {"rep1", "rep2"}
    assert tree["peaks"]["rep1"]["auroc"] == pytest.approx(metrics.roc_auc_score(y[:, 0], p[:, 0]))
    for key in ("roc_peaks", "pr_peaks"):
        assert paths[key].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert paths[key].stat().st_size > 5000


@pytest.mark.backends
def test_score_model_outputs_on_the_backend():
    """Scores of a keras model's outputs, as predict returns them and as the backend's own
    tensors (``model(x)``: a torch tensor that records gradients, a jax or tf array), equal
    scikit-learn's on the same numbers."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(5)
    x = rng.normal(size=(120, 6)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.normal(size=120) > 0).astype(float)[:, None]
    inp = keras.Input((6,))
    net = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(inp))
    predicted = net.predict(x, verbose=0)
    tensor = net(x)
    values = keras.ops.convert_to_numpy(tensor)
    np.testing.assert_allclose(values, predicted, rtol=1e-5, atol=1e-6)
    for p in (predicted, tensor):
        res = ev.score(_labelled(y, ["peak"]), p, scorers=("auroc", "auprc", "mse"))
        assert float(res.sel(scorer="auroc", condition="peak")) == pytest.approx(
            metrics.roc_auc_score(y[:, 0], values[:, 0]), abs=1e-6
        )
        assert float(res.sel(scorer="auprc", condition="peak")) == pytest.approx(
            metrics.average_precision_score(y[:, 0], values[:, 0]), abs=1e-6
        )
    assert ev.auroc(y[:, 0], tensor[:, 0]) == pytest.approx(
        metrics.roc_auc_score(y[:, 0], values[:, 0]), abs=1e-6
    )
