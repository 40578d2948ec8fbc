"Wrong answers for lesson 06's exercise (see README.md)."
WRONG = {
 'MeanAbsoluteError': [
  ('squared error', '''
class MeanAbsoluteError(Metric):
    def reset(self): self.total, self.count = 0., 0
    def accumulate(self, learn):
        e = (learn.pred.detach() - learn.yb) ** 2; self.total += e.sum().item(); self.count += e.numel()
    @property
    def value(self): return self.total / self.count
''', 'mean *squared* error'),
  ('mean of per-batch means', '''
class MeanAbsoluteError(Metric):
    def reset(self): self.means = []
    def accumulate(self, learn): self.means.append((learn.pred.detach() - learn.yb).abs().mean().item())
    @property
    def value(self): return sum(self.means) / len(self.means)
''', 'averaged the per-batch means'),
  ('divides by samples, not elements', '''
class MeanAbsoluteError(Metric):
    def reset(self): self.total, self.count = 0., 0
    def accumulate(self, learn):
        e = (learn.pred.detach() - learn.yb).abs(); self.total += e.sum().item(); self.count += len(e)
    @property
    def value(self): return self.total / self.count
''', 'number of elements, not of samples'),
  ('reset forgets nothing', '''
class MeanAbsoluteError(Metric):
    def __init__(self): self.total, self.count = 0., 0
    def reset(self): pass
    def accumulate(self, learn):
        e = (learn.pred.detach() - learn.yb).abs(); self.total += e.sum().item(); self.count += e.numel()
    @property
    def value(self): return self.total / self.count
''', '`reset` did not forget'),
  ('value is a tensor', '''
class MeanAbsoluteError(Metric):
    def reset(self): self.total, self.count = 0., 0
    def accumulate(self, learn):
        e = (learn.pred.detach() - learn.yb).abs(); self.total += e.sum(); self.count += e.numel()
    @property
    def value(self): return self.total / self.count
''', 'returned a tensor'),
  ('no absolute value: errors cancel', '''
class MeanAbsoluteError(Metric):
    def reset(self): self.total, self.count = 0., 0
    def accumulate(self, learn):
        e = learn.pred.detach() - learn.yb; self.total += e.sum().item(); self.count += e.numel()
    @property
    def value(self): return self.total / self.count
''', 'absolute value'),
 ],
}
