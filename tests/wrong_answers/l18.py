"Lesson 18 (custom layers and losses): plausible wrong answers. Each runs in `learner_course.exercises.l18`."

_PREACT = '''
class PreActResidualBlock(nn.Module):
    def __init__(self, ni, nf, stride=1, act=nn.ReLU):
        super().__init__()
        self.convs = nn.Sequential({convs})
        if ni == nf and stride == 1: self.shortcut = nn.Identity()
        else: self.shortcut = nn.Sequential(nn.AvgPool2d(stride, ceil_mode=True), nn.Conv2d(ni, nf, 1, bias=False))
    def forward(self, x):
        {forward}
'''
_RIGHT_CONVS = ('nn.BatchNorm2d(ni), act(), nn.Conv2d(ni, nf, 3, stride, padding=1, bias=False), '
                'nn.BatchNorm2d(nf), act(), nn.Conv2d(nf, nf, 3, padding=1, bias=False)')
_RIGHT_FORWARD = 'return self.convs(x) + self.shortcut(x)'

_FOCAL = '''
def focal_loss_by_hand(logits, target, gamma=2., alpha=None):
    {body}
'''

WRONG = {
    'PreActResidualBlock': [
        ('activation after the addition (the post-activation habit)',
         _PREACT.format(convs=_RIGHT_CONVS, forward='return F.relu(self.convs(x) + self.shortcut(x))'),
         'activation after the addition'),
        ('BatchNorm after ReLU',
         _PREACT.format(convs='act(), nn.BatchNorm2d(ni), nn.Conv2d(ni, nf, 3, stride, padding=1, bias=False), '
                              'act(), nn.BatchNorm2d(nf), nn.Conv2d(nf, nf, 3, padding=1, bias=False)',
                        forward=_RIGHT_FORWARD),
         'each BatchNorm after its activation'),
        ('shortcut on the pre-activated tensor', '''
class PreActResidualBlock(nn.Module):
    def __init__(self, ni, nf, stride=1, act=nn.ReLU):
        super().__init__()
        self.pre = nn.Sequential(nn.BatchNorm2d(ni), act())
        self.convs = nn.Sequential(self.pre, nn.Conv2d(ni, nf, 3, stride, padding=1, bias=False),
                                   nn.BatchNorm2d(nf), act(), nn.Conv2d(nf, nf, 3, padding=1, bias=False))
        if ni == nf and stride == 1: self.shortcut = nn.Identity()
        else: self.shortcut = nn.Sequential(nn.AvgPool2d(stride, ceil_mode=True), nn.Conv2d(ni, nf, 1, bias=False))
    def forward(self, x):
        return self.convs(x) + self.shortcut(self.pre(x))
''', 'shortcut applied to the pre-activated input'),
        ('stride in the second conv',
         _PREACT.format(convs='nn.BatchNorm2d(ni), act(), nn.Conv2d(ni, nf, 3, 1, padding=1, bias=False), '
                              'nn.BatchNorm2d(nf), act(), nn.Conv2d(nf, nf, 3, stride, padding=1, bias=False)',
                        forward=_RIGHT_FORWARD),
         'stride in the second conv'),
        ('shortcut without the stride', '''
class PreActResidualBlock(nn.Module):
    def __init__(self, ni, nf, stride=1, act=nn.ReLU):
        super().__init__()
        self.convs = nn.Sequential(nn.BatchNorm2d(ni), act(), nn.Conv2d(ni, nf, 3, stride, padding=1, bias=False),
                                   nn.BatchNorm2d(nf), act(), nn.Conv2d(nf, nf, 3, padding=1, bias=False))
        self.shortcut = nn.Identity() if ni == nf else nn.Conv2d(ni, nf, 1, bias=False)
    def forward(self, x):
        return self.convs(x) + self.shortcut(x)
''', 'the shortcut must change it the same way'),
        ('ReLU hard-coded instead of act()',
         _PREACT.format(convs='nn.BatchNorm2d(ni), nn.ReLU(), nn.Conv2d(ni, nf, 3, stride, padding=1, bias=False), '
                              'nn.BatchNorm2d(nf), nn.ReLU(), nn.Conv2d(nf, nf, 3, padding=1, bias=False)',
                        forward=_RIGHT_FORWARD),
         'still uses ReLU'),
    ],
    'focal_loss_by_hand': [
        ('gamma on p instead of 1 - p', _FOCAL.format(body='''log_pt = F.log_softmax(logits, 1).gather(1, target[:, None])[:, 0]
    w = 1. if alpha is None else alpha[target]
    return (-w * log_pt.exp() ** gamma * log_pt).mean()'''), 'γ on p_t instead of on (1 − p_t)'),
        ('log of softmax', _FOCAL.format(body='''log_pt = torch.log(F.softmax(logits, 1)).gather(1, target[:, None])[:, 0]
    w = 1. if alpha is None else alpha[target]
    return (-w * (1 - log_pt.exp()) ** gamma * log_pt).mean()'''), 'take log p_t from F.log_softmax'),
        ('log of softmax plus eps', _FOCAL.format(body='''pt = F.softmax(logits, 1).gather(1, target[:, None])[:, 0]
    w = 1. if alpha is None else alpha[target]
    return (-w * (1 - pt) ** gamma * torch.log(pt + 1e-8)).mean()'''), 'loses what underflows'),
        ('alpha picked by the predicted class', _FOCAL.format(body='''log_pt = F.log_softmax(logits, 1).gather(1, target[:, None])[:, 0]
    w = 1. if alpha is None else alpha[logits.argmax(1)]
    return (-w * (1 - log_pt.exp()) ** gamma * log_pt).mean()'''), 'alpha picked by the predicted class'),
        ('alpha times the per-sample losses without indexing', _FOCAL.format(body='''log_pt = F.log_softmax(logits, 1).gather(1, target[:, None])[:, 0]
    loss = -(1 - log_pt.exp()) ** gamma * log_pt
    if alpha is not None: loss = alpha * loss
    return loss.mean()'''), 'alpha[target]'),
        ('weighted mean, as F.cross_entropy(weight=)', _FOCAL.format(body='''log_pt = F.log_softmax(logits, 1).gather(1, target[:, None])[:, 0]
    w = torch.ones_like(log_pt) if alpha is None else alpha[target]
    return (-w * (1 - log_pt.exp()) ** gamma * log_pt).sum() / w.sum()'''), 'a weighted mean'),
        ('sum instead of mean', _FOCAL.format(body='''log_pt = F.log_softmax(logits, 1).gather(1, target[:, None])[:, 0]
    w = 1. if alpha is None else alpha[target]
    return (-w * (1 - log_pt.exp()) ** gamma * log_pt).sum()'''), 'the sum over the samples instead of their mean'),
        ('alpha ignored', _FOCAL.format(body='''log_pt = F.log_softmax(logits, 1).gather(1, target[:, None])[:, 0]
    return (-(1 - log_pt.exp()) ** gamma * log_pt).mean()'''), 'alpha ignored'),
        ('focusing factor detached', _FOCAL.format(body='''log_pt = F.log_softmax(logits, 1).gather(1, target[:, None])[:, 0]
    w = 1. if alpha is None else alpha[target]
    return (-w * (1 - log_pt.exp().detach()) ** gamma * log_pt).mean()'''), 'detached from the graph'),
    ],
}
