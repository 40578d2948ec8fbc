"""Contracts of `learner_course.data` (lesson 03) beyond the notebook's inline tests: `fashion_dls` and
`DataLoaders` (shapes, statistics, subsets, the training order and how to repeat it), `normalize_batch` on any
device, `show_images`.

Tests that need the images read them from the Debian package's files (decompressed into a tmp dir once); the
others use random tensors. Where the files come from is `tests/test_fashion.py`'s subject.
"""
import pytest
import torch
from torch.utils.data import TensorDataset
import learner_course.fashion as fashion
from learner_course.fashion import FILES_MD5
from learner_course.data import (CLASSES, DataLoaders, collate_dict, fashion_dls, image_stats, normalize_batch,
                                 show_images, stratified_subset)


@pytest.fixture(scope='session')
def good_root(tmp_path_factory):
    "A torchvision root (FashionMNIST/raw with the four decompressed files), made once from the Debian files."
    if not all(fashion._find(fashion.DEBIAN_DIR, n) for n in FILES_MD5):
        pytest.skip('needs the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)')
    root = tmp_path_factory.mktemp('good')
    for n in FILES_MD5: fashion._install(fashion._find(fashion.DEBIAN_DIR, n), root/'FashionMNIST'/'raw'/n, n, 'test set-up')
    return root

# --- fashion_dls and DataLoaders ---------------------------------------------------------------------------------------

def test_fashion_dls_shapes_dtypes_and_stats(good_root):
    dls = fashion_dls(bs=32, subset=(600, 200), path=good_root)
    xt, yt = dls.train.dataset.tensors
    xv, yv = dls.valid.dataset.tensors
    assert xt.shape == (600, 1, 28, 28) and xv.shape == (200, 1, 28, 28)
    assert xt.dtype == torch.float32 and yt.dtype == torch.int64
    assert yt.bincount().tolist() == [60] * 10 and yv.bincount().tolist() == [20] * 10
    raw = fashion_dls(bs=32, subset=(600, 200), path=good_root, normalize=False)
    m, s = image_stats(raw.train.dataset.tensors[0])
    assert dls.stats == pytest.approx((m, s))                 # computed from these training images
    torch.testing.assert_close(xv, (raw.valid.dataset.tensors[0] - m) / s)   # valid uses the training stats
    assert raw.stats is None and 0 <= raw.train.dataset.tensors[0].min() and raw.train.dataset.tensors[0].max() <= 1

def test_fashion_dls_reproducible_and_flatten(good_root):
    a = fashion_dls(bs=50, subset=300, path=good_root, flatten=True, seed=3)
    b = fashion_dls(bs=50, subset=300, path=good_root, flatten=True, seed=3)
    xa, ya = next(iter(a.train)); xb, yb = next(iter(b.train))
    assert xa.shape == (50, 784) and len(a.valid.dataset) == 50
    torch.testing.assert_close(xa, xb); assert torch.equal(ya, yb)
    c = fashion_dls(bs=50, subset=300, path=good_root, flatten=True, seed=4)
    assert not torch.equal(c.train.dataset.tensors[1], a.train.dataset.tensors[1]) or \
           not torch.equal(next(iter(c.train))[1], ya)

def test_fashion_dls_reads_files_once_per_process(good_root, monkeypatch):
    fashion_dls(subset=60, path=good_root)
    monkeypatch.setattr(fashion, 'fashion_mnist', lambda *a, **k: pytest.fail('files read again'))
    assert len(fashion_dls(subset=60, path=good_root).train.dataset) == 60

def test_fashion_dls_leaves_the_cached_tensors_alone(good_root):
    x, _ = fashion.fashion_mnist_tensors(good_root, train=True)
    before = x[:100].clone()
    fashion_dls(path=good_root); fashion_dls(subset=600, path=good_root)
    assert torch.equal(x[:100], before)

def test_fashion_dls_full_size(good_root):
    dls = fashion_dls(path=good_root)
    assert (len(dls.train.dataset), len(dls.valid.dataset), len(dls.train), dls.bs) == (60000, 10000, 235, 256)

@pytest.mark.parametrize('kw,msg', [(dict(bs=0), 'batch size'), (dict(bs=2.5), 'batch size'),
                                    (dict(subset=60001), 'Fashion-MNIST has 60000'),
                                    (dict(subset=(100, 20000)), 'Fashion-MNIST has 10000'), (dict(subset=0), '1..60000')])
def test_fashion_dls_bad_arguments(good_root, kw, msg):
    with pytest.raises(ValueError, match=msg): fashion_dls(path=good_root, **kw)

def test_dataloaders_pair_behaviour():
    "Random tensors: only the DataLoaders plumbing is under test."
    ds = TensorDataset(torch.randn(10, 3), torch.arange(10))
    dls = DataLoaders.from_dsets(ds, ds, bs=4, seed=0, collate_fn=collate_dict)
    train, valid = dls
    assert (train, valid) == (dls.train, dls.valid) and len(dls) == 2 and list(dls) == [train, valid]
    assert set(next(iter(valid))) == {'x', 'y'}
    assert 'train: 10 items in 3 batches of 4' in repr(dls)
    assert torch.equal(next(iter(valid))['y'], torch.arange(4))
    with pytest.raises(ValueError, match='batch size'): DataLoaders.from_dsets(ds, ds, bs=-1)

def test_dataloaders_with_workers():
    "Random tensors: worker processes give the same batches as the main process."
    ds = TensorDataset(torch.randn(20, 3), torch.arange(20))
    b0 = [y for _, y in DataLoaders.from_dsets(ds, ds, bs=8, num_workers=0).valid]
    b1 = [y for _, y in DataLoaders.from_dsets(ds, ds, bs=8, num_workers=1).valid]
    assert all(torch.equal(a, b) for a, b in zip(b0, b1)) and len(b1) == 3

def test_stratified_subset_unbalanced():
    labels = torch.tensor([0] * 80 + [1] * 20)
    idx = stratified_subset(labels, 10, torch.Generator().manual_seed(0))
    assert labels[idx].bincount().tolist() == [8, 2] and len(idx.unique()) == 10
    with pytest.raises(ValueError, match='there are 100'): stratified_subset(labels, 101)

def test_show_images_accepts_batches_and_names(good_root):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    dls = fashion_dls(subset=60, path=good_root, bs=6)
    x, y = next(iter(dls.valid))
    for ims in (x, x.view(6, -1), x[:, 0]):
        show_images(ims, y, title='t')
        fig = plt.gcf()
        assert [a.get_title() for a in fig.axes[:6]] == [CLASSES[i] for i in y] and fig._suptitle.get_text() == 't'
        assert fig.get_size_inches()[0] <= 12
        plt.close(fig)
    show_images(x, ['a'] * 6, nrows=2); assert plt.gcf().axes[0].get_title() == 'a'; plt.close('all')
    with pytest.raises(ValueError, match='one label per image'): show_images(x, y[:2])

# --- the training order: who decides it, and how to repeat it ---------------------------------------------------------

def _order(dl): return torch.cat([yb for _, yb in dl])

def _ds(n=64): return TensorDataset(torch.arange(float(n)), torch.arange(n))

def test_every_training_loader_has_its_own_generator():
    for seed in (None, 0):
        dls = DataLoaders.from_dsets(_ds(), _ds(), bs=8, seed=seed)
        assert isinstance(dls.train.generator, torch.Generator)

def test_global_seed_decides_the_order_when_no_seed_is_given():
    torch.manual_seed(0); a = _order(DataLoaders.from_dsets(_ds(), _ds(), bs=8).train)
    torch.manual_seed(0); b = _order(DataLoaders.from_dsets(_ds(), _ds(), bs=8).train)
    torch.manual_seed(1); c = _order(DataLoaders.from_dsets(_ds(), _ds(), bs=8).train)
    assert torch.equal(a, b) and not torch.equal(a, c)

def test_explicit_seed_ignores_the_global_state():
    torch.manual_seed(0); a = _order(DataLoaders.from_dsets(_ds(), _ds(), bs=8, seed=5).train)
    torch.manual_seed(1); b = _order(DataLoaders.from_dsets(_ds(), _ds(), bs=8, seed=5).train)
    assert torch.equal(a, b)

def test_existing_loader_is_replayed_by_reseeding_its_generator():
    dls = DataLoaders.from_dsets(_ds(), _ds(), bs=8, seed=0)
    e1, e2 = _order(dls.train), _order(dls.train)
    assert not torch.equal(e1, e2)                       # each epoch a new order
    torch.manual_seed(0); e3 = _order(dls.train)
    assert not torch.equal(e3, e1)                       # the global seed does not rewind a loader
    dls.train.generator.manual_seed(0)
    assert torch.equal(_order(dls.train), e1)            # reseeding its generator does

def test_rng_snapshot_restores_the_loader_order():
    "`get_rng_state(dls)` snapshots the loader's generator (checkpoints rely on it); a restore replays the epoch."
    from learner_course.rng import get_rng_state, set_rng_state
    dls = DataLoaders.from_dsets(_ds(), _ds(), bs=8)      # seed=None: still a generator to snapshot
    _order(dls.train)
    state = get_rng_state(dls)
    assert len(state['generators']) == 1
    nxt = _order(dls.train)
    set_rng_state(state, dls)
    assert torch.equal(_order(dls.train), nxt)

def test_set_seed_then_a_fresh_fashion_dls_repeats(good_root):
    from learner_course import set_seed
    def run(s, **kw):
        set_seed(s); dls = fashion_dls(bs=50, subset=300, path=good_root, **kw)
        return dls.train.dataset.tensors[1], _order(dls.train), _order(dls.train)
    for kw in (dict(), dict(seed=None)):
        a, b = run(0, **kw), run(0, **kw)
        assert all(torch.equal(x, y) for x, y in zip(a, b)), kw      # subset, first and second epoch
    assert not torch.equal(run(0, seed=None)[1], run(1, seed=None)[1])   # seed=None: the global seed decides

# --- normalize_batch ----------------------------------------------------------------------------------------------------

def test_normalize_batch_scalar_per_channel_uint8_and_no_mutation():
    x = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    m, s = torch.tensor([10., 100., 200.]), torch.tensor([1., 2., 4.])
    torch.testing.assert_close(normalize_batch(x, m, s), (x.float() - m[:, None, None]) / s[:, None, None])
    torch.testing.assert_close(normalize_batch(x, 100, 50), (x.float() - 100) / 50)
    assert normalize_batch(x, m.double(), s.double()).dtype == torch.float32
    xf = torch.rand(2, 3, 4, 4); x0 = xf.clone()
    normalize_batch(xf, 0.5, 0.2); assert torch.equal(xf, x0)

def test_normalize_batch_follows_the_batch_device():
    "CPU statistics, a batch elsewhere (the meta device stands in for a GPU): the result stays on the batch's device."
    xm = torch.empty(2, 3, 4, 4, dtype=torch.uint8, device='meta')
    for m, s in ((torch.tensor([1., 2., 3.]), torch.tensor([1., 1., 2.])), (0.5, 0.2), (torch.tensor(0.5), torch.tensor(0.2))):
        out = normalize_batch(xm, m, s)
        assert (out.device.type, out.dtype, out.shape) == ('meta', torch.float32, xm.shape)
