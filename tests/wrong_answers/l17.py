"Wrong answers a learner writes for lesson 17's exercises (see README.md)."

WRONG = {
'shard': [
    ('not padded to equal shards', '''
def shard(n, rank, world_size):
    return list(range(rank, n, world_size))
''', 'not padded'),
    ('off-by-one at the end (rounds up even when n divides evenly)', '''
def shard(n, rank, world_size):
    total = (n // world_size + 1) * world_size
    return [i % n for i in range(total)][rank::world_size]
''', 'off-by-one at the end'),
    ('off-by-one at the end (stops before the last item)', '''
def shard(n, rank, world_size):
    total = -(-n // world_size) * world_size
    return [i % n for i in range(rank, total - 1, world_size)]
''', 'off-by-one at the end'),
    ('overlapping shards', '''
def shard(n, rank, world_size):
    per = -(-n // world_size)
    return [i % n for i in range(rank, rank + per)]
''', 'overlap'),
    ('padded with the last item instead of wrapping around', '''
def shard(n, rank, world_size):
    total = -(-n // world_size) * world_size
    padded = list(range(n)) + [n - 1] * (total - n)
    return padded[rank::world_size]
''', 'wrapping around'),
    ('padded past the end', '''
def shard(n, rank, world_size):
    total = -(-n // world_size) * world_size
    return list(range(total))[rank::world_size]
''', 'out of range'),
    ('contiguous blocks instead of strided', '''
def shard(n, rank, world_size):
    per = -(-n // world_size)
    padded = [i % n for i in range(per * world_size)]
    return padded[rank * per:(rank + 1) * per]
''', 'contiguous block'),
],
'merge_means': [
    ('unweighted mean of means', '''
def merge_means(means, counts):
    return sum(means) / len(means)
''', 'unweighted'),
    ('integer division', '''
def merge_means(means, counts):
    return sum(m * c for m, c in zip(means, counts)) // sum(counts)
''', 'integer division'),
    ('divided by the number of processes', '''
def merge_means(means, counts):
    return sum(m * c for m, c in zip(means, counts)) / len(counts)
''', 'number of processes'),
    ('weighted sum, never divided', '''
def merge_means(means, counts):
    return float(sum(m * c for m, c in zip(means, counts)))
''', 'sum of all the values'),
],
}
