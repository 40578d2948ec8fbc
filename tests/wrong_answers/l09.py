"Wrong answers a learner writes for lesson 09's exercises (format: tests/wrong_answers/README.md)."

_EDGES = '''
def which_is_broken(a, b):
    def edges(h):
{body}
    (a_low, a_high), (b_low, b_high) = edges(a), edges(b)
    gaps = {{('a', 'dead'): a_low - b_low, ('b', 'dead'): b_low - a_low,
            ('a', 'exploding'): a_high - b_high, ('b', 'exploding'): b_high - a_high}}
    return max(gaps, key=gaps.get)
'''

def _hook(body):
    return ("def dead_share_hook(hook, mod, inp, out):\n"
            "    if not hasattr(hook, 'shares'): hook.shares = []\n" + body)

WRONG = {
    'which_is_broken': [
        ('reads bins from the batches axis', _EDGES.format(body=
            "        return (h[:, 0] / h.sum(1)).mean().item(), (h[:, -1] / h.sum(1)).mean().item()"), 'wrong axis'),
        ('compares raw counts, not shares', _EDGES.format(body=
            "        return h[..., 0].mean().item(), h[..., -1].mean().item()"), 'raw counts'),
        ('a fixed threshold on each run alone', '''
def which_is_broken(a, b):
    for letter, h in (('a', a), ('b', b)):
        share = h / h.sum(-1, keepdim=True)
        if share[..., 0].mean() > 0.5: return letter, 'dead'
        if share[..., -1].mean() > 0.1: return letter, 'exploding'
    return 'a', 'dead'
''', 'fixed threshold'),
        ('only ever says dead', '''
def which_is_broken(a, b):
    def broken(h):
        share = h / h.sum(-1, keepdim=True)
        return (share[..., 0] + share[..., -1]).mean().item()
    return ('a' if broken(a) > broken(b) else 'b'), 'dead'
''', 'wrong reason'),
    ],
    'dead_share_hook': [
        ('share of zero values, not of units', _hook(
            "    hook.shares.append(out.eq(0).float().mean().item())\n"), 'zero *values*'),
        ('a threshold (the lowest histogram bin) instead of exactly 0', _hook(
            "    units = out.detach().transpose(0, 1).reshape(out.shape[1], -1)\n"
            "    hook.shares.append(units.abs().lt(0.25).all(1).float().mean().item())\n"), 'threshold'),
        ('dead per example instead of over the whole batch', _hook(
            "    o = out.detach().reshape(out.shape[0], out.shape[1], -1)\n"
            "    hook.shares.append(o.eq(0).all(-1).float().mean().item())\n"), 'per example'),
        ('keeps tensors (no .item())', _hook(
            "    alive = out.transpose(0, 1).reshape(out.shape[1], -1).ne(0).any(dim=1)\n"
            "    hook.shares.append(1 - alive.float().mean())\n"), 'holds tensors'),
        ('a count of dead units per batch, not a share', _hook(
            "    alive = out.detach().transpose(0, 1).reshape(out.shape[1], -1).ne(0).any(dim=1)\n"
            "    hook.shares.append(int((~alive).sum().item()))\n"), 'count of dead units'),
        ('units along the wrong dimension', _hook(
            "    hook.shares.append(out.detach().reshape(out.shape[0], -1).eq(0).all(1).float().mean().item())\n"), 'dimension 1'),
        ('overwrites the list each call', '''
def dead_share_hook(hook, mod, inp, out):
    alive = out.detach().transpose(0, 1).reshape(out.shape[1], -1).ne(0).any(dim=1)
    hook.shares = [1. - alive.float().mean().item()]
''', "append, don't overwrite"),
        ('returns the share from the hook', _hook(
            "    alive = out.detach().transpose(0, 1).reshape(out.shape[1], -1).ne(0).any(dim=1)\n"
            "    share = 1. - alive.float().mean().item()\n"
            "    hook.shares.append(share)\n"
            "    return share\n"), 'returned a value'),
    ],
}
