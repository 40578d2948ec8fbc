"Wrong answers for lesson 12's exercise (see README.md)."
_HEAD = '''
class TrackBestCB(Callback):
    def __init__(self, monitor='valid_loss', mode='min'): self.monitor, self.mode = monitor, mode
'''
WRONG = {
 'TrackBestCB': [
  ('comparison the wrong way round', _HEAD + '''
    def before_fit(self): self.best = self.best_epoch = None
    def after_epoch(self):
        row = self.learn.epoch_metrics
        if self.monitor not in row: raise ValueError(f"no column {self.monitor!r}; the columns are {list(row)}")
        v = row[self.monitor]
        if self.best is None or (v > self.best if self.mode == 'min' else v < self.best): self.best, self.best_epoch = v, self.epoch
''', 'wrong way round'),
  ('a tie counted as an improvement', _HEAD + '''
    def before_fit(self): self.best = self.best_epoch = None
    def after_epoch(self):
        row = self.learn.epoch_metrics
        if self.monitor not in row: raise ValueError(f"no column {self.monitor!r}; the columns are {list(row)}")
        v = row[self.monitor]
        if self.best is None or (v <= self.best if self.mode == 'min' else v >= self.best): self.best, self.best_epoch = v, self.epoch
''', 'a tie is not an improvement'),
  ('best not reset in before_fit', '''
class TrackBestCB(Callback):
    def __init__(self, monitor='valid_loss', mode='min'): self.monitor, self.mode, self.best, self.best_epoch = monitor, mode, None, None
    def after_epoch(self):
        row = self.learn.epoch_metrics
        if self.monitor not in row: raise ValueError(f"no column {self.monitor!r}; the columns are {list(row)}")
        v = row[self.monitor]
        if self.best is None or (v < self.best if self.mode == 'min' else v > self.best): self.best, self.best_epoch = v, self.epoch
''', 'start afresh'),
  ('mode ignored (always lower is better)', _HEAD + '''
    def before_fit(self): self.best = self.best_epoch = None
    def after_epoch(self):
        row = self.learn.epoch_metrics
        if self.monitor not in row: raise ValueError(f"no column {self.monitor!r}; the columns are {list(row)}")
        v = row[self.monitor]
        if self.best is None or v < self.best: self.best, self.best_epoch = v, self.epoch
''', "mode='max'"),
  ('a missing column raises KeyError', _HEAD + '''
    def before_fit(self): self.best = self.best_epoch = None
    def after_epoch(self):
        v = self.learn.epoch_metrics[self.monitor]
        if self.best is None or (v < self.best if self.mode == 'min' else v > self.best): self.best, self.best_epoch = v, self.epoch
''', 'ValueError that lists the columns'),
  ('the error does not list the columns', _HEAD + '''
    def before_fit(self): self.best = self.best_epoch = None
    def after_epoch(self):
        row = self.learn.epoch_metrics
        if self.monitor not in row: raise ValueError(f"unknown metric {self.monitor!r}")
        v = row[self.monitor]
        if self.best is None or (v < self.best if self.mode == 'min' else v > self.best): self.best, self.best_epoch = v, self.epoch
''', 'list the columns there are'),
  ('a missing column silently ignored', _HEAD + '''
    def before_fit(self): self.best = self.best_epoch = None
    def after_epoch(self):
        v = self.learn.epoch_metrics.get(self.monitor)
        if v is None: return
        if self.best is None or (v < self.best if self.mode == 'min' else v > self.best): self.best, self.best_epoch = v, self.epoch
''', 'not a column of the rows'),
 ],
}
