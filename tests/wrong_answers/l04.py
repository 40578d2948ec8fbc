"Wrong answers for lesson 04's exercise (see README.md)."
WRONG = {
 'MaxTrainBatches': [
  ('stops the whole fit', '''
from learner_course.events import CancelFitException
class MaxTrainBatches(Callback):
    def __init__(self, n): self.n = n
    def before_batch(self):
        if self.training and self.iter >= self.n: raise CancelFitException()
''', 'CancelFitException stops the whole fit'),
  ('skips the rest of the epoch, validation included', '''
from learner_course.events import CancelEpochException
class MaxTrainBatches(Callback):
    def __init__(self, n): self.n = n
    def before_batch(self):
        if self.training and self.iter >= self.n: raise CancelEpochException()
''', 'CancelEpochException skips validation too'),
  ('skips batches one by one', '''
from learner_course.events import CancelBatchException
class MaxTrainBatches(Callback):
    def __init__(self, n): self.n = n
    def before_batch(self):
        if self.training and self.iter >= self.n: raise CancelBatchException()
''', 'CancelBatchException skips batches one by one'),
  ('off by one: > instead of >=', '''
class MaxTrainBatches(Callback):
    def __init__(self, n): self.n = n
    def before_batch(self):
        if self.training and self.iter > self.n: raise CancelTrainException()
''', '`self.iter` counts from 0'),
  ('limits validation too', '''
class MaxTrainBatches(Callback):
    def __init__(self, n): self.n = n
    def before_batch(self):
        if self.iter >= self.n: raise CancelTrainException()
''', 'check `self.training`'),
  ('counts its own batches and never resets', '''
class MaxTrainBatches(Callback):
    def __init__(self, n): self.n, self.seen = n, 0
    def before_batch(self):
        if not self.training: return
        if self.seen >= self.n: raise CancelTrainException()
        self.seen += 1
''', 'should be trained per epoch'),
 ],
}
