"""Contracts of `learner_course.fashion` (appendix A1) that the notebook cannot show: where the files come from, in
which order, what happens to damaged files, and that nothing touches the network.

Every test runs with a fake home and cache (tmp dirs), no FASHION_MNIST_DIR, and the download replaced by a
function that fails like an offline machine. The real data source is the Debian package's .gz files,
decompressed into tmp dirs.
"""
import gzip, os, shutil
from pathlib import Path
import pytest
import torch
import torchvision
import learner_course.fashion as fashion
from learner_course.fashion import FILES_MD5, FashionMNISTError, fashion_mnist, fashion_mnist_root, fashion_mnist_tensors

pytestmark = pytest.mark.skipif(not all(fashion._find(fashion.DEBIAN_DIR, n) for n in FILES_MD5),
                                reason='needs the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist)')
DEBIAN = fashion.DEBIAN_DIR
LABELS = 't10k-labels-idx1-ubyte'

def _offline(root):
    raise RuntimeError('Error downloading train-images-idx3-ubyte.gz: <urlopen error [Errno -3] no network in tests>')

@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    "A fake home and cache, no FASHION_MNIST_DIR, and no network: the download fails like an offline machine."
    monkeypatch.setenv('HOME', str(tmp_path/'home'))
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path/'cache'))
    monkeypatch.delenv('FASHION_MNIST_DIR', raising=False)
    monkeypatch.setattr(fashion, '_download_official', _offline)
    return tmp_path

@pytest.fixture(scope='session')
def good_root(tmp_path_factory):
    "A torchvision root (FashionMNIST/raw with the four decompressed files), made once from the Debian files."
    root = tmp_path_factory.mktemp('good')
    for n in FILES_MD5: fashion._install(fashion._find(DEBIAN, n), root/'FashionMNIST'/'raw'/n, n, 'test set-up')
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
    assert len(ds) == 10000 and ds.classes[9] == 'Ankle boot'

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
    monkeypatch.setattr(fashion, 'DEBIAN_DIR', isolated/'no-debian')
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
    monkeypatch.setattr(fashion, 'DEBIAN_DIR', isolated/'no-debian')
    calls = []
    def fake_download(root):
        calls.append(root); copy_raw(good_root, root/'FashionMNIST'/'raw')
    monkeypatch.setattr(fashion, '_download_official', fake_download)
    assert fashion_mnist_root() == isolated/'cache'/'learner_course'
    assert fashion_mnist_root() == isolated/'cache'/'learner_course'
    assert calls == [isolated/'cache'/'learner_course']            # once: the second call finds the cache

def test_failed_download_leaves_nothing(isolated, monkeypatch):
    "The real `_download_official`, with torchvision's download failing halfway: no partial file in the cache."
    monkeypatch.setattr(fashion, 'DEBIAN_DIR', isolated/'no-debian')
    monkeypatch.setattr(fashion, '_download_official', _real_download)
    class HalfDownload:
        def __init__(self, root, download=False, **kw):
            raw = Path(root)/'FashionMNIST'/'raw'; raw.mkdir(parents=True)
            (raw/'train-images-idx3-ubyte.gz').write_bytes(b'\x1f\x8b partial')
            raise RuntimeError('Error downloading train-images-idx3-ubyte.gz: connection reset')
    monkeypatch.setattr(torchvision.datasets, 'FashionMNIST', HalfDownload)
    with pytest.raises(FashionMNISTError, match='connection reset'): fashion_mnist_root()
    assert list(cache_raw(isolated).iterdir()) == [] and leftovers(isolated/'cache') == []

_real_download = fashion._download_official

# --- nothing available, wrong paths --------------------------------------------------------------------------------

def test_offline_without_data_names_every_way_to_get_it(isolated, monkeypatch):
    monkeypatch.setattr(fashion, 'DEBIAN_DIR', isolated/'no-debian')
    with pytest.raises(FashionMNISTError) as e: fashion_mnist_root()
    msg = str(e.value)
    for hint in ('apt-get install dataset-fashion-mnist', 'FASHION_MNIST_DIR', 'internet', 'no network in tests'):
        assert hint in msg, hint

def test_download_false_does_not_download(isolated, monkeypatch):
    monkeypatch.setattr(fashion, 'DEBIAN_DIR', isolated/'no-debian')
    monkeypatch.setattr(fashion, '_download_official', lambda root: pytest.fail('must not download'))
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
    monkeypatch.setattr(fashion, 'DEBIAN_DIR', deb)
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

# --- the dataset and its tensors ---------------------------------------------------------------------------------------

def test_fashion_mnist_is_torchvisions_dataset(good_root):
    ds = fashion_mnist(good_root, train=False)
    assert isinstance(ds, torchvision.datasets.FashionMNIST) and len(ds) == 10000

def test_tensors_are_read_once_per_process(good_root, monkeypatch):
    x, y = fashion_mnist_tensors(good_root, train=False)
    assert (x.shape, x.dtype, y.dtype) == ((10000, 28, 28), torch.uint8, torch.int64)
    monkeypatch.setattr(fashion, 'fashion_mnist', lambda *a, **k: pytest.fail('files read again'))
    assert fashion_mnist_tensors(good_root, train=False)[0] is x

def test_data_keeps_the_public_names():
    "Lesson 03's module still offers the names practitioners import from it (the package's top level re-exports them)."
    import learner_course, learner_course.data as data
    assert data.fashion_mnist is fashion_mnist and learner_course.fashion_mnist is fashion_mnist
