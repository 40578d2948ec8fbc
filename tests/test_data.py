"""Contracts of `learner_course.data` that the notebook cannot show: where the files come from, in which order,
what happens to damaged files, and that nothing touches the network.

Every test runs with a fake home and cache (tmp dirs), no FASHION_MNIST_DIR, and the download replaced by a
function that fails like an offline machine. The real data source is the Debian package's .gz files,
decompressed into tmp dirs.
"""
import gzip, os, shutil
from pathlib import Path
import pytest
import torch
import torchvision
from torch.utils.data import TensorDataset
import learner_course.data as data
from learner_course.data import (CLASSES, FILES_MD5, DataLoaders, FashionMNISTError, collate_dict, fashion_dls,
                                 fashion_mnist, fashion_mnist_root, image_stats, show_images, stratified_subset)

pytestmark = pytest.mark.skipif(not all(data._find(data.DEBIAN_DIR, n) for n in FILES_MD5),
                                reason='needs the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)')
DEBIAN = data.DEBIAN_DIR
LABELS = 't10k-labels-idx1-ubyte'

def _offline(root):
    raise RuntimeError('Error downloading train-images-idx3-ubyte.gz: <urlopen error [Errno -3] no network in tests>')

@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    "A fake home and cache, no FASHION_MNIST_DIR, and no network: the download fails like an offline machine."
    monkeypatch.setenv('HOME', str(tmp_path/'home'))
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path/'cache'))
    monkeypatch.delenv('FASHION_MNIST_DIR', raising=False)
    monkeypatch.setattr(data, '_download_official', _offline)
    return tmp_path

@pytest.fixture(scope='session')
def good_root(tmp_path_factory):
    "A torchvision root (FashionMNIST/raw with the four decompressed files), made once from the Debian files."
    root = tmp_path_factory.mktemp('good')
    for n in FILES_MD5: data._install(data._find(DEBIAN, n), root/'FashionMNIST'/'raw'/n, n, 'test set-up')
    return root

def cache_raw(tmp_path): return tmp_path/'cache'/'learner_course'/'FashionMNIST'/'raw'

def leftovers(folder):
    "Temporary files or folders left in `folder` (there should be none)."
    return [p.name for p in Path(folder).rglob('*') if p.name.startswith('.')] if Path(folder).exists() else []

def copy_raw(good_root, dest, names=FILES_MD5, gz=()):
    "Copy some of the good files into `dest`, decompressed, or gzipped when named in `gz`."
    dest.mkdir(parents=True, exist_ok=True)
    for n in names:
        src = good_root/'FashionMNIST'/'raw'/n
        if n in gz: (dest/f'{n}.gz').write_bytes(gzip.compress(src.read_bytes(), compresslevel=1))
        else: shutil.copy(src, dest/n)
    return dest

# --- where the files come from, in order -------------------------------------------------------------------------

def test_torchvision_root_is_used_as_is(good_root, isolated):
    assert fashion_mnist_root(good_root) == good_root
    assert not cache_raw(isolated).exists()        # nothing copied

def test_gz_folder_is_decompressed_into_the_cache(isolated):
    root = fashion_mnist_root(DEBIAN)
    assert root == isolated/'cache'/'learner_course'
    assert sorted(p.name for p in cache_raw(isolated).iterdir()) == sorted(FILES_MD5)
    ds = torchvision.datasets.FashionMNIST(root, train=False, download=False)   # the contract: torchvision reads it
    assert len(ds) == 10000 and ds.classes == CLASSES

def test_flat_folder_of_decompressed_files(good_root, isolated):
    src = copy_raw(good_root, isolated/'flat')
    assert fashion_mnist_root(src) == isolated/'cache'/'learner_course'

def test_cache_falls_back_to_home_dot_cache(good_root, isolated, monkeypatch):
    monkeypatch.delenv('XDG_CACHE_HOME')
    assert fashion_mnist_root(DEBIAN) == isolated/'home'/'.cache'/'learner_course'

def test_env_var_is_used_and_path_beats_it(good_root, isolated, monkeypatch):
    monkeypatch.setenv('FASHION_MNIST_DIR', str(good_root))
    assert fashion_mnist_root() == good_root
    monkeypatch.setenv('FASHION_MNIST_DIR', str(isolated/'nope'))
    assert fashion_mnist_root(good_root) == good_root
    with pytest.raises(FileNotFoundError, match='FASHION_MNIST_DIR'): fashion_mnist_root()

def test_cache_comes_before_debian(good_root, isolated, monkeypatch):
    copy_raw(good_root, cache_raw(isolated))
    monkeypatch.setattr(data, 'DEBIAN_DIR', isolated/'no-debian')
    assert fashion_mnist_root() == isolated/'cache'/'learner_course'

def test_debian_fills_the_cache_without_network(isolated):
    root = fashion_mnist_root()
    assert sorted(p.name for p in cache_raw(isolated).iterdir()) == sorted(FILES_MD5)
    assert len(fashion_mnist(train=False)) == 10000 and root == isolated/'cache'/'learner_course'

def test_partial_cache_is_completed_from_debian(good_root, isolated):
    copy_raw(good_root, cache_raw(isolated), names=[LABELS])
    fashion_mnist_root()
    assert sorted(p.name for p in cache_raw(isolated).iterdir()) == sorted(FILES_MD5)

def test_download_is_the_last_resort(good_root, isolated, monkeypatch):
    monkeypatch.setattr(data, 'DEBIAN_DIR', isolated/'no-debian')
    calls = []
    def fake_download(root):
        calls.append(root); copy_raw(good_root, root/'FashionMNIST'/'raw')
    monkeypatch.setattr(data, '_download_official', fake_download)
    assert fashion_mnist_root() == isolated/'cache'/'learner_course'
    assert fashion_mnist_root() == isolated/'cache'/'learner_course'
    assert calls == [isolated/'cache'/'learner_course']            # once: the second call finds the cache

def test_failed_download_leaves_nothing(isolated, monkeypatch):
    "The real `_download_official`, with torchvision's download failing halfway: no partial file in the cache."
    monkeypatch.setattr(data, 'DEBIAN_DIR', isolated/'no-debian')
    monkeypatch.setattr(data, '_download_official', _real_download)
    class HalfDownload:
        def __init__(self, root, download=False, **kw):
            raw = Path(root)/'FashionMNIST'/'raw'; raw.mkdir(parents=True)
            (raw/'train-images-idx3-ubyte.gz').write_bytes(b'\x1f\x8b partial')
            raise RuntimeError('Error downloading train-images-idx3-ubyte.gz: connection reset')
    monkeypatch.setattr(torchvision.datasets, 'FashionMNIST', HalfDownload)
    with pytest.raises(FashionMNISTError, match='connection reset'): fashion_mnist_root()
    assert list(cache_raw(isolated).iterdir()) == [] and leftovers(isolated/'cache') == []

_real_download = data._download_official

# --- nothing available, wrong paths --------------------------------------------------------------------------------

def test_offline_without_data_names_every_way_to_get_it(isolated, monkeypatch):
    monkeypatch.setattr(data, 'DEBIAN_DIR', isolated/'no-debian')
    with pytest.raises(FashionMNISTError) as e: fashion_mnist_root()
    msg = str(e.value)
    for hint in ('apt-get install dataset-fashion-mnist', 'FASHION_MNIST_DIR', 'internet', 'no network in tests'):
        assert hint in msg, hint

def test_download_false_does_not_download(isolated, monkeypatch):
    monkeypatch.setattr(data, 'DEBIAN_DIR', isolated/'no-debian')
    monkeypatch.setattr(data, '_download_official', lambda root: pytest.fail('must not download'))
    with pytest.raises(FashionMNISTError, match='apt-get install dataset-fashion-mnist'): fashion_mnist_root(download=False)

def test_wrong_path_is_named(isolated):
    with pytest.raises(FileNotFoundError, match='/no/such/dir'): fashion_mnist_root('/no/such/dir')

def test_incomplete_folder_names_the_missing_files(good_root, isolated):
    src = copy_raw(good_root, isolated/'some', names=[LABELS])
    with pytest.raises(FileNotFoundError, match='train-images-idx3-ubyte'): fashion_mnist_root(src)

# --- damaged files ----------------------------------------------------------------------------------------------------

def test_truncated_gz_is_refused_and_leaves_no_partial_file(good_root, isolated):
    src = copy_raw(good_root, isolated/'src', gz=(LABELS,))
    (src/f'{LABELS}.gz').write_bytes((src/f'{LABELS}.gz').read_bytes()[:2000])
    with pytest.raises(FashionMNISTError, match=f'{LABELS}.gz is damaged or truncated'): fashion_mnist_root(src)
    assert not (cache_raw(isolated)/LABELS).exists() and leftovers(isolated/'cache') == []

def test_wrong_content_is_caught_by_checksum(good_root, isolated):
    src = copy_raw(good_root, isolated/'src', gz=(LABELS,))
    content = bytearray(gzip.decompress((src/f'{LABELS}.gz').read_bytes())); content[500] ^= 1
    (src/f'{LABELS}.gz').write_bytes(gzip.compress(bytes(content)))   # a valid gzip of the wrong bytes
    with pytest.raises(FashionMNISTError, match='MD5'): fashion_mnist_root(src)
    assert not (cache_raw(isolated)/LABELS).exists() and leftovers(isolated/'cache') == []

def test_damaged_debian_file_says_reinstall(good_root, isolated, monkeypatch):
    deb = copy_raw(good_root, isolated/'debian', gz=(LABELS,))
    gz = bytearray((deb/f'{LABELS}.gz').read_bytes()); gz[-6] ^= 0xff   # flip a byte of the CRC/length trailer
    (deb/f'{LABELS}.gz').write_bytes(bytes(gz))
    monkeypatch.setattr(data, 'DEBIAN_DIR', deb)
    with pytest.raises(FashionMNISTError, match='apt-get install --reinstall dataset-fashion-mnist'): fashion_mnist_root()

def test_damaged_cache_file_says_delete_it(good_root, isolated):
    raw = copy_raw(good_root, cache_raw(isolated))
    b = bytearray((raw/LABELS).read_bytes()); b[-1] ^= 1; (raw/LABELS).write_bytes(bytes(b))
    with pytest.raises(FashionMNISTError, match=f'delete {raw/LABELS}'): fashion_mnist_root()

def test_damaged_torchvision_root_is_named(good_root, isolated):
    root = isolated/'tv'; copy_raw(good_root, root/'FashionMNIST'/'raw')
    p = root/'FashionMNIST'/'raw'/LABELS
    b = bytearray(p.read_bytes()); b[9] ^= 1; p.write_bytes(bytes(b))
    with pytest.raises(FashionMNISTError, match=str(p)): fashion_mnist_root(root)

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
    monkeypatch.setattr(data, 'fashion_mnist', lambda *a, **k: pytest.fail('files read again'))
    assert len(fashion_dls(subset=60, path=good_root).train.dataset) == 60

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
