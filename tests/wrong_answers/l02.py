"Wrong answers to lesson 02's exercises (see README.md): log_softmax and a binary cross-entropy from logits."

WRONG = {
    'log_softmax': [
        ('no maximum subtracted (exp overflows)', """
def log_softmax(x, dim=-1):
    return x - x.exp().sum(dim, keepdim=True).log()""", 'maximum was not subtracted'),
        ('log of a (stable) softmax', """
def log_softmax(x, dim=-1):
    e = (x - x.amax(dim, keepdim=True)).exp()
    return (e / e.sum(dim, keepdim=True)).log()""", 'log of a softmax'),
        ('one maximum for the whole tensor', """
def log_softmax(x, dim=-1):
    m = x.max()
    return x - m - (x - m).exp().sum(dim, keepdim=True).log()""", 'one maximum for the whole tensor'),
        ('maximum not added back', """
def log_softmax(x, dim=-1):
    m = x.amax(dim, keepdim=True)
    return x - (x - m).exp().sum(dim, keepdim=True).log()""", 'not added back'),
        ('log-sum-exp without keepdim', """
def log_softmax(x, dim=-1):
    return x - logsumexp(x, dim)""", 'keepdim'),
        ('dim ignored', """
def log_softmax(x, dim=-1):
    return x - logsumexp(x, -1, keepdim=True)""", 'last dimension'),
        ('float64 turned into float32', """
def log_softmax(x, dim=-1):
    x = x.float()
    return x - logsumexp(x, dim, keepdim=True)""", 'dtype'),
        ('softmax instead of its log', """
def log_softmax(x, dim=-1):
    return (x - logsumexp(x, dim, keepdim=True)).exp()""", 'softmax, not its log'),
    ],
    'bce_with_logits': [
        ('the literal formula with log(sigmoid)', """
def bce_with_logits(x, y):
    s = torch.sigmoid(x)
    return -(y * s.log() + (1 - y) * (1 - s).log()).mean()""", 'overflows for confident logits'),
        ('log(1 + exp(x)) without the trick', """
def bce_with_logits(x, y):
    return (torch.log(1 + torch.exp(x)) - x * y).mean()""", 'overflows for confident logits'),
        ('no reduction', """
def bce_with_logits(x, y):
    return x.clamp_min(0) - x * y + torch.log1p(torch.exp(-x.abs()))""", 'mean over all elements'),
        ('sum instead of mean', """
def bce_with_logits(x, y):
    return (x.clamp_min(0) - x * y + torch.log1p(torch.exp(-x.abs()))).sum()""", 'a sum instead of the mean'),
        ('max(x, 0) left out', """
def bce_with_logits(x, y):
    return (-x * y + torch.log1p(torch.exp(-x.abs()))).mean()""", '`max(x, 0)` is missing'),
        ('sign of x*y flipped', """
def bce_with_logits(x, y):
    return (x.clamp_min(0) + x * y + torch.log1p(torch.exp(-x.abs()))).mean()""", 'sign'),
        ('BCE of the sigmoid probabilities', """
def bce_with_logits(x, y):
    return F.binary_cross_entropy(torch.sigmoid(x), y)""", 'sigmoid probabilities'),
        ('probabilities clamped to avoid log(0)', """
def bce_with_logits(x, y):
    s = torch.sigmoid(x).clamp(1e-7, 1 - 1e-7)
    return -(y * s.log() + (1 - y) * (1 - s).log()).mean()""", 'clamped'),
        ('soft targets rounded', """
def bce_with_logits(x, y):
    y = (y > 0.5).float()
    return (x.clamp_min(0) - x * y + torch.log1p(torch.exp(-x.abs()))).mean()""", 'rounded'),
    ],
}
