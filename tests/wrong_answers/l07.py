"Wrong answers for lesson 07's exercise (see README.md)."
WRONG = {
 'ema_smooth': [
  ('not debiased', '''
def ema_smooth(values, beta=0.9):
    avg, out = 0., []
    for v in values: avg = beta * avg + (1 - beta) * v; out.append(avg)
    return out
''', 'not debiased'),
  ('debias exponent counts from 0', '''
def ema_smooth(values, beta=0.9):
    avg, out = 0., []
    for i, v in enumerate(values):
        avg = beta * avg + (1 - beta) * v; out.append(avg / (1 - beta ** (i + 2)))
    return out
''', 'off by one'),
  ('beta and 1-beta swapped', '''
def ema_smooth(values, beta=0.9):
    avg, out = 0., []
    for i, v in enumerate(values, 1):
        avg = (1 - beta) * avg + beta * v; out.append(avg / (1 - beta ** i))
    return out
''', 'swapped'),
  ('returns a tensor', '''
import torch
def ema_smooth(values, beta=0.9):
    avg, out = 0., []
    for i, v in enumerate(values, 1):
        avg = beta * avg + (1 - beta) * v; out.append(avg / (1 - beta ** i))
    return torch.tensor(out)
''', 'return a list of floats'),
  ('averages of the raw values (no moving average)', '''
def ema_smooth(values, beta=0.9):
    out = []
    for i in range(1, len(values) + 1): out.append(sum(values[:i]) / i)
    return out
''', 'should be'),
 ],
}
