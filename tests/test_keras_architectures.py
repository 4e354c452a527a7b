"""The paper's architectures: shapes from views, published sizes, training, joining, saving."""

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

import genomarray as ga  # noqa: E402
from genomarray import model  # noqa: E402
from genomarray.errors import InputError  # noqa: E402
from genomarray.keras import architectures as arch  # noqa: E402
from genomarray.keras.dataset import GenomicSequence  # noqa: E402
from genomarray.keras.layers import BothStrands  # noqa: E402

# small sizes: the published ones are only built (test_published_sizes), never trained
SMALL = {
    "deepsea": {"filters": (32, 16, 16), "dense_units": 16, "dropout": (0.1, 0.1, 0.1)},
    "danq": {
        "filters": 16,
        "lstm_units": 4,
        "dense_units": 8,
        "conv_dropout": 0.1,
        "lstm_dropout": 0.1,
    },
}


@pytest.fixture(scope="module")
def genome():
    dna = ga.read_fasta(ga.example_path("genome.fa"), cache=False)
    sizes = model.chrom_sizes(dna)
    frame = pd.DataFrame({"chrom": list(sizes), "start": 0, "end": list(sizes.values())})
    return dna, frame


@pytest.fixture(scope="module")
def data(genome):
    """The bundled genome in 200 bp tiles: 500 bp DNA (the paper's JunD windows), DNase-like
    coverage in 50 bp bins with 450 bp flanks, chromatin summaries, peak and CAGE-like
    labels."""
    dna, frame = genome
    tiles = ga.tile(frame, binsize=200)
    reads = ga.read_bam(ga.example_path("sample.bam"), storage="memory", progress=False)
    wig = ga.read_bigwig(ga.example_path("sample.bw"), storage="memory", progress=False)
    peaks = ga.read_bed(
        ga.example_path("peaks.narrowPeak"), like=dna, storage="memory", progress=False
    )
    tss = ga.tile(frame, binsize=200, flank=200)
    return {
        "dna": dna.janggu.view(ga.tile(frame, binsize=200, flank=150)),
        "dnase": reads.janggu.view(ga.tile(frame, binsize=200, flank=450))
        .janggu.collapse(50, how="sum")
        .janggu.normalize(["zscorelog"]),
        "dnase_tss": reads.janggu.view(tss)
        .janggu.collapse(None, how="sum")
        .janggu.normalize(["zscorelog"]),
        "h3k4me3": wig.janggu.view(tss)
        .janggu.collapse(None, how="mean")
        .janggu.normalize(["zscorelog"]),
        "peaks": peaks.janggu.view(tiles).janggu.collapse(None, how="max").isel(pos=0, strand=0),
        "cage": reads.janggu.view(tiles)
        .janggu.collapse(None, how="sum")
        .janggu.normalize(["zscorelog"])
        .isel(pos=0, strand=0),
    }


def labels_with(n, like):
    """A label view (region, condition) with ``n`` conditions on the regions of ``like``."""
    values = np.zeros((like.sizes["region"], n), np.float32)
    return ga.from_array(values, like=like, conditions=[f"c{i}" for i in range(n)]).isel(
        pos=0, strand=0
    )


# -- shapes ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("order", "length"),  # the paper's contexts; one case in the per-backend subset
    [
        pytest.param(o, n, marks=[pytest.mark.backends] if (o, n) == (2, 500) else [])
        for n in (500, 1000, 2000)
        for o in (1, 2, 3)
    ],
)
def test_inputs_match_onehot_views(genome, order, length):
    dna, frame = genome
    codes = dna.janggu.view(ga.tile(frame, binsize=200, flank=(length - 200) // 2))
    onehot = codes.janggu.onehot(order=order)  # lazy: only its shape is used
    y = labels_with(3, codes)
    want = (length - order + 1, 4**order)
    assert tuple(onehot.sizes.values())[1:] == want

    nets = [
        arch.deepsea(onehot, y, **SMALL["deepsea"]),
        arch.danq(codes, y, onehot_order=order, **SMALL["danq"]),
        arch.jund_dna({"seq": onehot}, {"jund": y}),
        arch.cage_dna(codes, y, onehot_order=order),
        arch.jund_joint(onehot, (22, 2, 1), y),
        arch.cage_joint(onehot, {"dnase": (1, 2, 1), "h3k4me3": (1, 1, 1)}, y),
    ]
    for net in nets:
        dna_name = "seq" if "seq" in net.input else "dna"
        assert tuple(net.input[dna_name].shape) == (None, *want), net.name
        (out,) = net.output.values()
        assert tuple(out.shape) == (None, 3), net.name
    assert list(nets[2].output) == ["jund"]  # names from {name: view}

    # the first layer scans both strands with a kernel spanning the same bases at any order
    first = nets[1].get_layer("danq_conv1")
    assert isinstance(first, BothStrands) and first.merge == "max" and first.order == order
    assert first.layer.kernel_size == (26 - order + 1,)
    assert nets[2].get_layer("jund_dna_conv1").layer.kernel_size == (11 - order + 1,)
    # ... so the layers after it see the same length at every order
    assert nets[1].get_layer("danq_pool1").output.shape[1] == (length - 25) // 13


@pytest.mark.backends
def test_batches_feed_the_models(data):
    x, y = data["dna"].isel(region=slice(0, 8)), data["peaks"].isel(region=slice(0, 8))
    seq = GenomicSequence({"dna": x}, {"labels": y}, onehot_order=3, batch_size=8)
    batch_x, _ = seq[0]
    net = arch.danq(x, y, onehot_order=3, **SMALL["danq"])
    assert batch_x["dna"].shape[1:] == tuple(net.input["dna"].shape[1:])
    assert net.predict(batch_x, verbose=0)["labels"].shape == (8, 1)


def test_published_sizes():
    # DeepSEA on 1000 bp: conv 320x8, pool 4, conv 480x8, pool 4, conv 960x8 -> 53 positions
    deep = arch.deepsea((1000, 4), 919, compile=False)
    n_deep = (
        (8 * 4 * 320 + 320)
        + (8 * 320 * 480 + 480)
        + (8 * 480 * 960 + 960)
        + (53 * 960 * 925 + 925)
        + (925 * 919 + 919)
    )
    assert deep.count_params() == n_deep == 52_843_119
    assert [deep.get_layer(f"deepsea_dropout{i}").rate for i in (1, 2, 3)] == [0.2, 0.2, 0.5]
    # DanQ on 1000 bp: conv 320x26, pool 13 -> 75 steps, BiLSTM 2 x 320, dense 925
    dq = arch.danq((1000, 4), 919, compile=False)
    lstm = 2 * 4 * (320 * (320 + 320) + 320)
    n_dq = (26 * 4 * 320 + 320) + lstm + (75 * 640 * 925 + 925) + (925 * 919 + 919)
    assert dq.count_params() == n_dq == 46_926_479
    assert dq.get_layer("danq_bilstm").output.shape == (None, 75, 640)
    # order 3: the first kernel spans 26 bases (24 trimers); the rest is unchanged
    dq3 = arch.danq((998, 64), 919, compile=False)
    assert dq3.count_params() - dq.count_params() == 24 * 64 * 320 - 26 * 4 * 320


def test_bad_inputs():
    with pytest.raises(InputError, match="one-hot"):
        arch.deepsea((1000,), 3)  # codes fed without onehot_order
    with pytest.raises(InputError, match="4\\*\\*order"):
        arch.danq((100, 5), 3)
    with pytest.raises(InputError, match="fewer than"):
        arch.danq((20, 4), 3)
    with pytest.raises(InputError):
        arch.n_outputs(0)


# -- recipe ---------------------------------------------------------------------------------
def test_compile_like_paper():
    net = arch.jund_dna((500, 4), 1)
    assert net.optimizer.amsgrad and net.optimizer.clipnorm == 1.0
    assert net.loss == {"peaks": "binary_crossentropy"}
    assert arch.cage_dna((701, 4), 1).loss == {"cage": "mae"}
    assert arch.cage_chromatin({"dnase": (1, 2, 1)}, 1).loss == {"cage": "mae"}
    assert arch.RECIPES["jund"].patience == 5 and arch.RECIPES["cage"].loss == "mae"
    assert not arch.deepsea((200, 4), 3, filters=4, dense_units=4, compile=False).compiled

    # a create_model model whose head is renamed by an Identity layer: the Dense is found
    from genomarray.keras.models import create_model

    def template(inputs):
        x = keras.layers.GlobalMaxPooling1D()(inputs["dna"])
        return keras.layers.Dense(2, activation="sigmoid", name="head")(x)

    net = create_model(template, {"dna": np.zeros((3, 50, 4))}, {"y": np.zeros((3, 2))})
    assert arch.compile_like_paper(net).loss == {"y": "binary_crossentropy"}
    assert arch.top_hidden(net).shape == (None, 4)


def test_split_like_paper(data):
    train, val, test = arch.split_like_paper([data["dna"], data["peaks"]], "jund")
    assert set(train[0].chrom.values) == {"chr1"} == set(train[1].chrom.values)
    assert set(val[0].chrom.values) == {"chr2"} and set(test[0].chrom.values) == {"chr3"}
    _, val, test = arch.split_like_paper(data["dna"], "cage", validation_chroms=["chr3"])
    assert set(val.chrom.values) == {"chr3"} and set(test.chrom.values) == {"chr1"}
    # a bare name is one chromosome, not its letters
    train, val, test = arch.split_like_paper(
        data["dna"], "danq", validation_chroms="chr2", test_chroms="chr3"
    )
    assert set(train.chrom.values) == {"chr1"} and set(val.chrom.values) == {"chr2"}
    assert set(test.chrom.values) == {"chr3"}


# -- training on the bundled data -------------------------------------------------------------
def _build(kind, d, labels):
    if kind == "deepsea":
        return arch.deepsea(d["dna"], labels, onehot_order=2, **SMALL["deepsea"])
    if kind == "danq":
        return arch.danq(d["dna"], labels, onehot_order=2, **SMALL["danq"])
    if kind == "jund_dna":
        return arch.jund_dna(d["dna"], labels, onehot_order=2, input_dropout=0.2)
    if kind == "jund_dnase":
        return arch.jund_dnase(d["dnase"], labels)
    if kind == "jund_joint":
        return arch.jund_joint(d["dna"], d["dnase"], labels, onehot_order=2)
    if kind == "cage_dna":
        return arch.cage_dna(d["dna"], labels, onehot_order=2)
    if kind == "cage_chromatin":
        return arch.cage_chromatin({"dnase": d["dnase_tss"], "h3k4me3": d["h3k4me3"]}, labels)
    return arch.cage_joint(
        d["dna"], {"dnase": d["dnase_tss"], "h3k4me3": d["h3k4me3"]}, labels, onehot_order=2
    )


INPUTS = {
    "deepsea": ["dna"],
    "danq": ["dna"],
    "jund_dna": ["dna"],
    "jund_dnase": ["dnase"],
    "jund_joint": ["dna", "dnase"],
    "cage_dna": ["dna"],
    "cage_chromatin": ["dnase_tss", "h3k4me3"],
    "cage_joint": ["dna", "dnase_tss", "h3k4me3"],
}
NAMES = {"dnase_tss": "dnase"}


@pytest.mark.parametrize("kind", list(INPUTS))
def test_train_reduces_loss_and_reloads(data, kind, isolated_output):
    keras.utils.set_random_seed(3)
    target = "cage" if kind.startswith("cage") else "peaks"
    arrays = {NAMES.get(k, k): data[k] for k in INPUTS[kind]}
    train, val, _ = arch.split_like_paper([arrays, data[target]], "jund")
    net = _build(kind, {**data, **{k: data[k] for k in INPUTS[kind]}}, {target: train[1]})
    arch.compile_like_paper(net, learning_rate=0.01)
    order = {"dna": 2} if "dna" in arrays else None
    tr = GenomicSequence(
        train[0], {target: train[1]}, onehot_order=order, batch_size=16, shuffle=True, seed=0
    )
    va = GenomicSequence(val[0], {target: val[1]}, onehot_order=order, batch_size=64)
    history = arch.fit_like_paper(net, tr, va, "jund", epochs=3, name=kind)
    loss = history.history["loss"]
    print(kind, [round(v, 4) for v in loss])
    assert len(loss) == 3 and np.isfinite(loss).all()
    assert loss[-1] < loss[0]

    path = history.params["model_path"]
    assert path == isolated_output / "models" / kind / "model.keras" and path.is_file()
    again = keras.saving.load_model(path)
    before = net.predict(va, verbose=0)[target]
    np.testing.assert_allclose(again.predict(va, verbose=0)[target], before, atol=1e-6)
    assert before.shape == (val[1].sizes["region"], 1)


# -- joining --------------------------------------------------------------------------------
def test_join_models_shares_or_reinitializes(tmp_path):
    keras.utils.set_random_seed(0)
    dna_net = arch.jund_dna((500, 16), 1, name="dna_model")
    dnase_net = arch.jund_dnase((22, 2, 1), 1, name="dnase_model")
    assert arch.top_hidden(dna_net).shape == (None, 8)
    assert arch.top_hidden(dnase_net).shape == (None, 5)

    joint = arch.join_models([dna_net, dnase_net], name="joint")
    assert sorted(joint.input) == ["dna", "dnase"] and list(joint.output) == ["peaks"]
    assert joint.get_layer("joint_concat").output.shape == (None, 13)
    assert joint.get_layer("peaks").activation.__name__ == "sigmoid"
    # fine-tuning: the sub-models' layers (and weights) are shared
    assert joint.get_layer("dna_model_conv1") is dna_net.get_layer("dna_model_conv1")

    x = {
        "dna": np.random.default_rng(0).random((4, 500, 16), np.float32),
        "dnase": np.random.default_rng(1).random((4, 22, 2, 1), np.float32),
    }
    fresh = arch.join_models(
        [dna_net, dnase_net], 3, output_name="out", name="fresh", reinitialize=True
    )
    assert fresh.get_layer("dna_model_conv1") is not dna_net.get_layer("dna_model_conv1")
    w_old = dna_net.get_layer("dna_model_conv1").get_weights()[0]
    w_new = fresh.get_layer("dna_model_conv1").get_weights()[0]
    assert w_old.shape == w_new.shape and not np.allclose(w_old, w_new)
    assert fresh.predict(x, verbose=0)["out"].shape == (4, 3)

    joint.save(tmp_path / "joint.keras")
    again = keras.saving.load_model(tmp_path / "joint.keras")
    np.testing.assert_allclose(
        again.predict(x, verbose=0)["peaks"], joint.predict(x, verbose=0)["peaks"], atol=1e-6
    )

    with pytest.raises(InputError, match="different name"):
        arch.join_models([arch.jund_dna((500, 4), 1), arch.jund_dna({"b": (500, 4)}, 1)])
    with pytest.raises(InputError, match="input called"):
        arch.join_models(
            [arch.jund_dna((500, 4), 1, name="a"), arch.jund_dna((500, 4), 1, name="b")]
        )


@pytest.mark.backends
def test_labels_with_extra_axes_get_their_shape(data):
    """A collapsed label view that keeps (pos, strand) gets an output of that shape, so MAE
    compares like with like instead of broadcasting (b, c) against (b, 1, 1, c)."""
    y4 = data["cage"].expand_dims({"pos": 1, "strand": ["."]}, axis=(1, 2))
    net = arch.cage_dna(data["dna"], {"cage": y4}, onehot_order=1, name="cage4")
    assert tuple(net.output["cage"].shape[1:]) == tuple(y4.shape[1:])
    seq = GenomicSequence({"dna": data["dna"]}, {"cage": y4}, onehot_order=1, batch_size=64)
    x, y = seq[0]
    pred = net.predict_on_batch(x)["cage"]
    assert pred.shape == y["cage"].shape
    loss = net.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(loss, np.mean(np.abs(pred - y["cage"])), rtol=1e-4)


def test_compile_and_join_use_output_keys_not_layer_names():
    """A model whose output key differs from its layer name: losses and the joined output
    are keyed as fit() expects."""
    inp = keras.Input((20, 4), name="dna")
    hidden = keras.layers.GlobalMaxPooling1D()(keras.layers.Conv1D(2, 3, name="c1")(inp))
    net = keras.Model(inp, {"y": keras.layers.Dense(1, activation="sigmoid", name="head")(hidden)})
    arch.compile_like_paper(net)
    x = np.random.default_rng(0).random((8, 20, 4)).astype("float32")
    net.fit(x, {"y": np.ones((8, 1), "float32")}, epochs=1, verbose=0)
    joint = arch.join_models([net], name="j")
    assert list(joint.output) == ["y"]
    joint.fit({"dna": x}, {"y": np.ones((8, 1), "float32")}, epochs=1, verbose=0)
