"Lesson 16 (interpretation): plausible wrong answers. Each runs in `learner_course.exercises.l16`."

WRONG = {
    'confusion_by_hand': [
        ('rows and columns swapped', '''
def confusion_by_hand(targs, preds, n_classes):
    cm = torch.zeros(n_classes, n_classes, dtype=torch.int64)
    for actual, predicted in zip(targs.tolist(), preds.tolist()):
        cm[predicted, actual] += 1
    return cm
''', 'transposed'),
        ('sized by the largest label seen', '''
def confusion_by_hand(targs, preds, n_classes):
    n = int(max(targs.max(), preds.max())) + 1
    cm = torch.zeros(n, n, dtype=torch.int64)
    for actual, predicted in zip(targs.tolist(), preds.tolist()):
        cm[actual, predicted] += 1
    return cm
''', 'size it by `n_classes`'),
        ('a loop over classes that skips class 0', '''
def confusion_by_hand(targs, preds, n_classes):
    cm = torch.zeros(n_classes, n_classes, dtype=torch.int64)
    for a in range(1, n_classes):
        for p in range(n_classes):
            cm[a, p] = ((targs == a) & (preds == p)).sum()
    return cm
''', "class 0's row is all zeros"),
        ('a loop over classes that stops one short', '''
def confusion_by_hand(targs, preds, n_classes):
    cm = torch.zeros(n_classes, n_classes, dtype=torch.int64)
    for a in range(n_classes - 1):
        for p in range(n_classes - 1):
            cm[a, p] = ((targs == a) & (preds == p)).sum()
    return cm
''', 'does your loop skip class 2'),
        ('float counts', '''
def confusion_by_hand(targs, preds, n_classes):
    cm = torch.zeros(n_classes, n_classes)
    for actual, predicted in zip(targs.tolist(), preds.tolist()):
        cm[actual, predicted] += 1
    return cm
''', 'int64'),
    ],
    'precision_recall': [
        ('row and column sums swapped', '''
def precision_recall(cm):
    cm = cm.float()
    tp = cm.diagonal()
    return tp / cm.sum(1).clamp(min=1), tp / cm.sum(0).clamp(min=1)
''', 'is the recall'),
        ('micro-averaged: one number for all classes', '''
def precision_recall(cm):
    acc = cm.diagonal().sum().float() / cm.sum()
    return acc, acc
''', 'micro average'),
        ('macro-averaged: the mean over classes', '''
def precision_recall(cm):
    cm = cm.float()
    tp = cm.diagonal()
    return (tp / cm.sum(0).clamp(min=1)).mean(), (tp / cm.sum(1).clamp(min=1)).mean()
''', 'macro average'),
        ('no guard against 0/0 for a class never predicted', '''
def precision_recall(cm):
    cm = cm.float()
    tp = cm.diagonal()
    return tp / cm.sum(0), tp / cm.sum(1)
''', '0/0'),
        ('integer division', '''
def precision_recall(cm):
    tp = cm.diagonal()
    return tp // cm.sum(0).clamp(min=1), tp // cm.sum(1).clamp(min=1)
''', 'integer division'),
    ],
}
