"Wrong answers to lesson 03's exercises (see README.md): a Dataset, normalising a batch, statistics batch by batch."

WRONG = {
    'PairDataset': [
        ('length off by one', """
class PairDataset(Dataset):
    def __init__(self, xs, ys, tfm=None):
        if len(xs) != len(ys): raise ValueError(f"{len(xs)} xs but {len(ys)} ys")
        self.xs, self.ys, self.tfm = xs, ys, tfm
    def __len__(self): return len(self.xs) - 1
    def __getitem__(self, i):
        x = self.xs[i]
        return (self.tfm(x) if self.tfm else x), self.ys[i]""", 'off by one'),
        ('transform applied once, in __init__', """
class PairDataset(Dataset):
    def __init__(self, xs, ys, tfm=None):
        if len(xs) != len(ys): raise ValueError(f"{len(xs)} xs but {len(ys)} ys")
        self.xs, self.ys = ([tfm(x) for x in xs] if tfm else xs), ys
    def __len__(self): return len(self.xs)
    def __getitem__(self, i): return self.xs[i], self.ys[i]""", 'in `__init__`'),
        ('transformed items cached', """
class PairDataset(Dataset):
    def __init__(self, xs, ys, tfm=None):
        if len(xs) != len(ys): raise ValueError(f"{len(xs)} xs but {len(ys)} ys")
        self.xs, self.ys, self.tfm, self.cache = xs, ys, tfm, {}
    def __len__(self): return len(self.xs)
    def __getitem__(self, i):
        if i not in self.cache: self.cache[i] = self.tfm(self.xs[i]) if self.tfm else self.xs[i]
        return self.cache[i], self.ys[i]""", 'same transformed x'),
        ('transform applied to y too', """
class PairDataset(Dataset):
    def __init__(self, xs, ys, tfm=None):
        if len(xs) != len(ys): raise ValueError(f"{len(xs)} xs but {len(ys)} ys")
        self.xs, self.ys, self.tfm = xs, ys, tfm
    def __len__(self): return len(self.xs)
    def __getitem__(self, i):
        if self.tfm: return self.tfm(self.xs[i]), self.tfm(self.ys[i])
        return self.xs[i], self.ys[i]""", 'applies to x only'),
        ('no length check', """
class PairDataset(Dataset):
    def __init__(self, xs, ys, tfm=None): self.xs, self.ys, self.tfm = xs, ys, tfm
    def __len__(self): return len(self.xs)
    def __getitem__(self, i):
        x = self.xs[i]
        return (self.tfm(x) if self.tfm else x), self.ys[i]""", 'should raise a ValueError'),
        ('assert instead of ValueError', """
class PairDataset(Dataset):
    def __init__(self, xs, ys, tfm=None):
        assert len(xs) == len(ys), f"{len(xs)} != {len(ys)}"
        self.xs, self.ys, self.tfm = xs, ys, tfm
    def __len__(self): return len(self.xs)
    def __getitem__(self, i):
        x = self.xs[i]
        return (self.tfm(x) if self.tfm else x), self.ys[i]""", 'not AssertionError'),
        ('error message without the lengths', """
class PairDataset(Dataset):
    def __init__(self, xs, ys, tfm=None):
        if len(xs) != len(ys): raise ValueError("xs and ys differ in length")
        self.xs, self.ys, self.tfm = xs, ys, tfm
    def __len__(self): return len(self.xs)
    def __getitem__(self, i):
        x = self.xs[i]
        return (self.tfm(x) if self.tfm else x), self.ys[i]""", 'both lengths'),
        ('xs turned into a tensor', """
class PairDataset(Dataset):
    def __init__(self, xs, ys, tfm=None):
        if len(xs) != len(ys): raise ValueError(f"{len(xs)} xs but {len(ys)} ys")
        self.xs, self.ys, self.tfm = torch.as_tensor(xs), ys, tfm
    def __len__(self): return len(self.xs)
    def __getitem__(self, i):
        x = self.xs[i]
        return (self.tfm(x) if self.tfm else x), self.ys[i]""", 'lists must work too'),
        ('items as lists', """
class PairDataset(Dataset):
    def __init__(self, xs, ys, tfm=None):
        if len(xs) != len(ys): raise ValueError(f"{len(xs)} xs but {len(ys)} ys")
        self.xs, self.ys, self.tfm = xs, ys, tfm
    def __len__(self): return len(self.xs)
    def __getitem__(self, i): return [self.tfm(self.xs[i]) if self.tfm else self.xs[i], self.ys[i]]""", 'should be a pair'),
    ],
    'normalize_batch': [
        ('statistics of the batch itself', """
def normalize_batch(x, mean, std):
    x = x.float()
    return (x - x.mean()) / x.std()""", 'of the batch itself'),
        ('mean of the batch itself, std given', """
def normalize_batch(x, mean, std):
    x = x.float()
    return (x - x.mean()) / std""", 'the mean of the batch itself'),
        ('bytes not converted', """
def normalize_batch(x, mean, std):
    return (x - mean) / std""", 'wrapped around'),
        ('in-place on the input', """
def normalize_batch(x, mean, std):
    if x.is_floating_point(): return x.sub_(mean).div_(std)
    return (x.float() - mean) / std""", 'in place'),
        ('per-channel statistics broadcast along the width', """
def normalize_batch(x, mean, std):
    return (x.float() - torch.as_tensor(mean, dtype=torch.float32)) / torch.as_tensor(std, dtype=torch.float32)""",
         'reshape them to (1, C, 1, 1)'),
        ('statistics left on their own device', """
def normalize_batch(x, mean, std):
    mean, std = torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(std, dtype=torch.float32)
    if mean.ndim == 1: mean, std = mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)
    return (x.float() - mean) / std""", 'x.device'),
        ('float64 statistics give a float64 result', """
def normalize_batch(x, mean, std):
    mean, std = torch.as_tensor(mean, device=x.device), torch.as_tensor(std, device=x.device)
    if mean.ndim == 1: mean, std = mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)
    return (x.float() - mean) / std""", 'float64'),
    ],
    'stats_from_batches': [
        ('mean of the batch means and stds', """
def stats_from_batches(dl):
    ms, ss = [], []
    for xb, _ in dl: ms.append(xb.double().mean().item()); ss.append(xb.double().std(correction=0).item())
    return sum(ms) / len(ms), sum(ss) / len(ss)""", 'smaller last batch'),
        ('pooled mean, averaged batch stds', """
def stats_from_batches(dl):
    n, total, stds = 0, 0., []
    for xb, _ in dl:
        xb = xb.double(); n += xb.numel(); total += xb.sum().item(); stds.append(xb.std(correction=0).item())
    return total / n, sum(stds) / len(stds)""", 'standard deviations of the batches were averaged'),
        ('pooled mean, averaged batch variances', """
def stats_from_batches(dl):
    n, total, var = 0, 0., 0.
    for xb, _ in dl:
        xb = xb.double(); n += xb.numel(); total += xb.sum().item(); var += xb.var(correction=0).item() * xb.numel()
    return total / n, (var / n) ** 0.5""", 'variances of the batches were averaged'),
        ('float32 sums of squares', """
def stats_from_batches(dl):
    n, s, sq = 0, torch.tensor(0.), torch.tensor(0.)
    for xb, _ in dl: n, s, sq = n + xb.numel(), s + xb.sum(), sq + (xb * xb).sum()
    return (s / n).item(), (sq / n - (s / n) ** 2).clamp_min(0).sqrt().item()""", 'float64'),
        ('sample standard deviation', """
def stats_from_batches(dl):
    n, s, sq = 0, 0., 0.
    for xb, _ in dl:
        xb = xb.double(); n, s, sq = n + xb.numel(), s + xb.sum().item(), sq + (xb * xb).sum().item()
    return s / n, ((sq - s * s / n) / (n - 1)) ** 0.5""", 'sample standard deviation'),
        ('items counted instead of values', """
def stats_from_batches(dl):
    n, s, sq = 0, 0., 0.
    for xb, _ in dl:
        xb = xb.double(); n, s, sq = n + len(xb), s + xb.sum().item(), sq + (xb * xb).sum().item()
    return s / n, max(sq / n - (s / n) ** 2, 0) ** 0.5""", 'items were counted'),
    ],
}
