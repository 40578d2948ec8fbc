"Wrong answers for lesson 08's exercise (see README.md)."
WRONG = {
 'tta_preds': [
  ('averages logits', '''
def tta_preds(learn, dl):
    p1, t = learn.get_preds(dl); p2, _ = learn.get_preds([(x.flip(-1), y) for x, y in dl])
    return (p1 + p2) / 2, t
''', 'averaged logits'),
  ('softmax of the averaged logits', '''
def tta_preds(learn, dl):
    p1, t = learn.get_preds(dl); p2, _ = learn.get_preds([(x.flip(-1), y) for x, y in dl])
    return ((p1 + p2) / 2).softmax(1), t
''', 'averaged the logits, then took the softmax'),
  ('flips upside down', '''
def tta_preds(learn, dl):
    p1, t = learn.get_preds(dl); p2, _ = learn.get_preds([(x.flip(-2), y) for x, y in dl])
    return (p1.softmax(1) + p2.softmax(1)) / 2, t
''', 'upside down'),
  ('forgets the flipped half', '''
def tta_preds(learn, dl):
    p1, t = learn.get_preds(dl)
    return p1.softmax(1), t
''', 'plain predictions'),
  ('returns only the probabilities', '''
def tta_preds(learn, dl):
    p1, t = learn.get_preds(dl); p2, _ = learn.get_preds([(x.flip(-1), y) for x, y in dl])
    return (p1.softmax(1) + p2.softmax(1)) / 2
''', 'return a pair'),
 ],
}
